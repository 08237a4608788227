//! `#[derive(Model)]` for ferrobridge: a thin shim over `ferrobridge-codegen`.
//!
//! Use it through `ferrobridge::prelude::*`; the attributes are documented
//! on [`Model`].

use proc_macro::TokenStream;

/// Turns a plain struct into a ferrobridge model: a SeaORM entity module,
/// request/response schemas and the metadata the runtime serves.
///
/// ```ignore
/// /// A blog post.
/// #[derive(Model, Clone, Debug)]
/// #[model(app = "blog", ordering = "-created_at")]
/// pub struct Post {
///     #[field(primary_key)]
///     pub id: i64,
///     #[field(max_length = 200, min_length = 1)]
///     pub title: String,
///     #[field(references = Author, on_delete = "cascade")]
///     pub author_id: i64,
///     #[field(auto_now_add)]
///     pub created_at: DateTimeUtc,
/// }
/// ```
///
/// # `#[model(...)]`
/// | key | meaning |
/// |---|---|
/// | `app = "blog"` | Django app label (required); names the table and permissions |
/// | `table = "..."` | SQL table name; default `{app}_{model}`, the model name in lower case as Django spells it (`blog_blogpost` for `BlogPost`) |
/// | `plural = "..."` | URL segment, `/api/{plural}`; default the English plural (`posts`) |
/// | `ordering = "-created_at,title"` | default list ordering; `-` for descending; the primary key always breaks ties; `author__name` sorts by a field of a foreign key's model (a join, INNER or LEFT when nullable; the field is checked when the app registers the model) |
/// | `unknown_fields = "reject" \| "ignore"` | unknown keys in request bodies: 422 `extra_forbidden` (default) or dropped |
/// | `ordering_index = false` | no index for the default ordering. By default `makemigrations` (and `App::create_tables`) writes a non-unique index `{table}_{columns}_{hash}_idx` over the `ordering` columns, in their directions, then the primary key as tie-breaker, so a list's first and deep pages read `page_size` rows instead of sorting the table. None is made when the ordering is empty, goes through a relation (`author__name`: not one table), starts with the primary key, or starts with a unique NOT NULL field or `unique_together` group in one direction (that unique index already serves it) |
/// | `unique_together(a, b)` | the fields' values are unique together (Django's `unique_together`): a unique index `{table}_{a}_{b}_uniq`, written by `makemigrations`; a duplicate answers 409 naming the fields; repeat it for several groups |
/// | `display = "{title} ({id})"` | how a row is named in the admin (Django's `__str__`): field names in braces; a bare `display` uses the struct's `std::fmt::Display` impl; default `"Post object (1)"` |
///
/// # `#[api(...)]`
/// | key | meaning |
/// |---|---|
/// | `filter(a, b)` | fields clients may filter on, with Django lookups (`?a__gte=`) |
/// | `search(a, b)` | String fields `?search=` looks in |
/// | `ordering(a, b)` | fields `?ordering=-a,b` accepts |
/// | `read(pk, name)` | the Read schema's fields, in order; `pk` is the primary key shown as `"pk"` (Django/DRF's alias); requests are unchanged |
/// | `pagination = "none"` | lists answer `{"items": [...]}` with every matching row, no count and no cap (`page`/`page_size` still take a slice, `cursor` is refused); default `"page"` |
/// | `policy = "model_permissions" \| "authenticated" \| "public_read" \| "allow_any"` | who may call the endpoints; default Django's model permissions (`view`/`add`/`change`/`delete`) |
/// | `owner = field` | the foreign key to `ferrobridge::auth::User` that owns a row: anyone logged in reads and creates (the owner is set to them), only the owner or holders of `change`/`delete` edit or delete |
/// | `own_rows_only` | with `owner`: users see only their rows (superusers and `view` holders see all) |
/// | `permissions_of = field` | a link table (a user's groups, a group's permissions) with no permissions of its own, as Django's auto-created through tables: reading needs the `view` permission of the model `field` references, adding, changing and deleting links its `change`; `migrate` creates no permissions for it, and a delete cascading to it needs none. `field` must be a foreign key; no `policy` or `owner` beside it |
///
/// Every policy applies to `?expand=` too: expanding a foreign key needs
/// `view` under the target model's own policy (401/403 naming the relation
/// and the permission otherwise; a row hidden by `own_rows_only` embeds as
/// `null`), and a DELETE needs delete rights, under each model's policy,
/// on every row it cascades to (403 naming what blocks it).
///
/// # `#[admin(...)]`
/// Every registered model is in the admin site at `/admin/`; this tunes it.
///
/// | key | meaning |
/// |---|---|
/// | `list_display(a, b)` | the change list's columns (a foreign key shows the related row's display); default the row's display |
/// | `list_filter(a, b)` | fields the change list filters with the REST list's lookups (`?price__gte=10`); `bool`, choices, foreign key, date and datetime fields get sidebar links |
/// | `search(a, b)` | String fields the change list's search box looks in (case-insensitive) |
/// | `readonly(...)` | refused: declare the rule on the field, once for the API and the admin (`#[field(read_only)]` or `#[field(write_perm = "change")]`) |
/// | `autocomplete(a_id)` | foreign keys edited with a search-as-you-type box instead of a select (for large tables) |
/// | `inlines(Post, Comment)` | models with a foreign key to this one, listed, added and edited on its change page |
/// | `list_per_page = 100` | rows per change list page (default 100) |
/// | `hidden` | left out of the admin (Django: not registered) |
///
/// # `#[field(...)]`
/// | key | meaning |
/// |---|---|
/// | `primary_key` | the primary key (exactly one); integers auto-increment, a `Uuid` is generated (v4), a `String` is given by each create request; `read_only`, `write_only`, `password`, `auto_now`, `auto_now_add` and `default` are refused beside it (the key is in every response and URL, never changes, and is set by the database, the server or the request) |
/// | `unique`, `index` | a unique constraint / an index on the column |
/// | `text` | a long `String`, stored as TEXT |
/// | `max_length = N`, `min_length = N` | `String` length bounds, in characters (VARCHAR(N) with `max_length`) |
/// | `min_value = N`, `max_value = N` | number bounds, inclusive |
/// | `default = literal` | value used when a create request leaves the field out; `default = Kind::Article` for a choices field |
/// | `references = Model` | a foreign key to `Model`'s primary key; `Model` must be a `#[derive(Model)]` struct (else one error at it: "`X` is not a ferrobridge model") |
/// | `on_delete = "cascade" \| "set_null" \| "restrict"` | what deleting the referenced row does (default restrict) |
/// | `read_only` | set by the server, never accepted in requests |
/// | `write_only` | accepted in requests, never returned |
/// | `write_perm = "change"` | only holders of the model's `change` permission (and superusers) set the field: through the API, a create giving another value than the default or an update changing it answers 403 naming the field and the permission (resending the current value passes); the admin shows it read-only to others. Not on server-set fields |
/// | `auto_now`, `auto_now_add` | `DateTime<Utc>` set on every save / on creation |
/// | `regex = "..."`, `email`, `url` | string checks (and `pattern` / `format` in the JSON Schema) |
/// | `max_digits = N`, `decimal_places = N` | a `Decimal`'s precision and scale (required on Decimal fields, as Django's DecimalField) |
/// | `choices` | the type is an enum with `#[derive(Choices)]`, stored as a string |
/// | `password` | write-only; checked against the app's `PasswordPolicy` (422 on the API), then stored as an argon2 hash |
///
/// Field types: `i16`, `i32`, `i64`, `f32`, `f64`, `bool`, `String`,
/// `DateTime<Utc>` (`DateTimeUtc`), `NaiveDate`, `rust_decimal::Decimal`,
/// `uuid::Uuid` (a Uuid primary key is generated), `serde_json::Value` (`Json`),
/// `#[derive(Choices)]` enums, and `Option<T>` of each (a nullable column).
/// A doc comment on a field becomes its help text.
///
/// # Generated items (for `struct Post`)
/// - `mod post { Entity, Model, ActiveModel, Column, PrimaryKey, Relation }`: the SeaORM entity,
///   and `post::perms::{Add, Change, Delete, View}` for `Perm<...>` guards;
/// - `PostCreate`, `PostUpdate`, `PostRead`: serde + schemars types; the two bodies are
///   read against the metadata (`ferrobridge::schema::read_body`) and their JSON Schemas
///   take their constraint keywords from it, so each constraint is written once;
/// - `impl ferrobridge::Model for Post`: metadata (`FieldMeta` built by a `const` builder,
///   `FieldMeta::new("title", DbType::String(Some(200))).min_length(1)`) and row
///   conversions the runtime uses;
/// - `PostAuthorIdTarget`: a hidden alias of each `references` target.
///
/// `Column` variants are the fields in UpperCamelCase (`created_at` -> `CreatedAt`),
/// `Relation` variants the foreign keys minus `_id` (`author_id` -> `Author`).
///
/// ## Keyword names
/// A raw field `r#type` is the field `type`: its JSON key, column, name in
/// `#[api(...)]`/`#[admin(...)]` (write `type` or `r#type`) and query strings,
/// OpenAPI property, admin label and input, and `FieldMeta::name`; its column
/// variant is `Type`. A generated name that would be a keyword is raw where
/// Rust allows it and takes a trailing underscore where it does not (`crate`,
/// `self`, `super`, `Self`): `struct Where` -> `mod r#where`, `struct Crate` ->
/// `mod crate_`, a foreign key `self_id` -> `Relation::Self_`.
///
/// ## After an error
/// A derive that reports an error also emits stand-ins for the items above
/// (`mod post`, `PostCreate`, `PostUpdate`, `PostRead`, `impl Model for Post`)
/// so code using the model reports no further errors; they never run, as the
/// crate does not build.
#[proc_macro_derive(Model, attributes(model, field, api, admin))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    let tokens = ferrobridge_codegen::expand_model(&input);
    if std::env::var_os("FERROBRIDGE_MACROS_DEBUG").is_some() {
        eprintln!("{tokens}");
    }
    tokens.into()
}

/// Makes a unit-only enum a field type: stored as a string, serialized as
/// that string, listed as `enum` choices in JSON Schema and in forms.
///
/// ```ignore
/// #[derive(Choices, Clone, Copy, Debug, PartialEq, Eq)]
/// pub enum Status {
///     /// Not visible yet
///     Draft,
///     Published,
///     #[choice(rename = "gone")]
///     Archived,
/// }
/// ```
///
/// Variants are stored in snake_case (`InReview` -> `"in_review"`) unless
/// `#[choice(rename = "...")]`; a variant's doc comment is its label. Use it in
/// a model with `#[field(choices)] pub status: Status`.
#[proc_macro_derive(Choices, attributes(choice))]
pub fn derive_choices(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    ferrobridge_codegen::expand_choices(&input).into()
}
