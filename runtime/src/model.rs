//! What `#[derive(Model)]` implements: the [`Model`] trait and the static
//! metadata ([`ModelMeta`]) the runtime reads to route, validate and describe a model.

use std::fmt::Display;
use std::str::FromStr;

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, DbErr, EntityTrait, IdenStatic, IntoActiveModel,
    Iterable, ModelTrait, PrimaryKeyTrait, QueryResult, QuerySelect, Select,
};
use serde::Serialize;

use crate::error::{ErrorKind, ValidationError};

mod column;
pub use column::{
    Column, ColumnRow, FromColumn, ReadRow, RowReader, StoredValue, as_stored, read_columns,
};

/// A type built from a JSON request body, reporting all errors at once.
/// Implemented by `#[derive(Model)]` for `PostCreate` and `PostUpdate`,
/// which read the body field by field against the model's [`FieldMeta`]
/// (see `ferrobridge::schema::read_body`). Also reachable as
/// `ferrobridge::schema::FromJsonBody`.
pub trait FromJsonBody: Sized {
    /// Parses and validates `body`.
    fn from_json_body(body: serde_json::Value) -> Result<Self, ValidationError>;
}

/// A model: a user struct with its SeaORM entity, schemas and metadata.
///
/// Implemented by `#[derive(Model)]`; the runtime's generic handlers are
/// written against this trait, so each model's endpoints compile to
/// monomorphic code as direct as a hand-written handler.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a ferrobridge model",
    label = "not a `#[derive(Model)]` struct",
    note = "`references = ...`, `inlines(...)` and `App::model::<...>()` name a struct with `#[derive(Model)]`"
)]
pub trait Model:
    Sized + Send + Sync + 'static + From<<Self::Entity as EntityTrait>::Model>
{
    /// The SeaORM entity (`post::Entity`).
    type Entity: EntityTrait<Model: IntoActiveModel<Self::ActiveModel> + Send + Sync> + Default;
    /// The SeaORM active model (`post::ActiveModel`).
    type ActiveModel: ActiveModelTrait<Entity = Self::Entity> + ActiveModelBehavior + Send + Sync;
    /// The create / replace body (`PostCreate`).
    type Create: FromJsonBody + schemars::JsonSchema + Send;
    /// The partial update body (`PostUpdate`).
    type Update: FromJsonBody + schemars::JsonSchema + Send;
    /// The response body (`PostRead`).
    type Read: Serialize + schemars::JsonSchema + From<<Self::Entity as EntityTrait>::Model> + Send;
    /// The primary key's type, as parsed from `/api/{plural}/{pk}`.
    type Key: FromStr
        + Display
        + Clone
        + Send
        + Sync
        + Into<<<Self::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType>;

    /// Names, fields and options of the model.
    fn meta() -> &'static ModelMeta;
    /// The primary key column, for relations and ordering.
    fn primary_key_column() -> <Self::Entity as EntityTrait>::Column;
    /// The primary key of a row.
    fn primary_key(row: &<Self::Entity as EntityTrait>::Model) -> Self::Key;
    /// A new row from a create body; server-set fields filled in.
    fn insert_from(input: Self::Create) -> Self::ActiveModel;
    /// Overwrites every writable field (PUT).
    fn replace_with(active: &mut Self::ActiveModel, input: Self::Create);
    /// Overwrites the fields present in a PATCH body.
    fn patch_with(active: &mut Self::ActiveModel, input: Self::Update);

    /// Sets the `#[api(owner = ...)]` field to `user_id` (no owner: nothing).
    fn set_owner(active: &mut Self::ActiveModel, user_id: i64) {
        let _ = (active, user_id);
    }

    /// The user id in the `#[api(owner = ...)]` field of `row`, if any.
    fn owner_of(row: &<Self::Entity as EntityTrait>::Model) -> Option<i64> {
        let _ = row;
        None
    }

    /// `select` narrowed to the columns [`Model::read_from_row`] reads:
    /// only what `Read` shows, as a hand-written query selects them. The
    /// API's list and retrieve select this way; the default is
    /// [`select_read`], the columns of the fields `meta()` shows.
    fn select_read(select: Select<Self::Entity>) -> Select<Self::Entity> {
        select_read::<Self>(select)
    }

    /// The `Read` of one row of a query narrowed by [`Model::select_read`],
    /// read straight from the row without building the whole row:
    /// `#[derive(Model)]` reads each shown field with
    /// `row.get(position, "column")` — by position from the values the
    /// in-thread SQLite pool hands over as stored ([`FromColumn`]), by
    /// name from SeaORM's rows. The positions are those of
    /// [`read_columns`]: the pool reads so only a statement that selects
    /// exactly them, and the reads of its first row check their columns' names.
    fn read_from_row(row: &dyn ColumnRow) -> Result<Self::Read, DbErr>;

    /// [`Model::read_from_row`] of one of SeaORM's rows (any backend).
    fn read_from_result(row: &QueryResult) -> Result<Self::Read, DbErr> {
        Self::read_from_row(row)
    }

    /// How the admin names a row (Django's `__str__`): from
    /// `#[model(display = "...")]`, else `"Post object (1)"` as in Django.
    fn display(row: &<Self::Entity as EntityTrait>::Model) -> String {
        format!(
            "{} object ({})",
            Self::meta().object_name,
            Self::primary_key(row)
        )
    }
}

/// `select` narrowed to the columns of the fields `M`'s `Read` shows
/// (those with a [`FieldMeta::read_as`] key), as `#[derive(Model)]`'s
/// [`Model::select_read`] narrows the API's lists and retrieves: the
/// [`read_columns`], in their order, the positions
/// [`Model::read_from_row`] reads them from.
pub fn select_read<M: Model>(select: Select<M::Entity>) -> Select<M::Entity> {
    let columns = <<M::Entity as EntityTrait>::Column as Iterable>::iter;
    let shown = read_columns(M::meta().fields)
        .filter_map(|name| columns().find(|column| column.as_str() == name));
    select.select_only().columns(shown)
}

/// How the API reads `M`'s `Read` from the rows of [`Model::select_read`]:
/// by position where the connection can ([`Model::read_from_row`]), else
/// by name ([`Model::read_from_result`]).
pub fn read_reader<M: Model>() -> RowReader<M::Read> {
    RowReader {
        by_position: Some((M::meta().fields, M::read_from_row)),
        by_name: M::read_from_result,
    }
}

/// The `Read` of a whole row, through [`Model::read_from_result`]: what
/// `#[derive(Model)]`'s `From<Model>` for `PostRead` runs, so that one
/// generated reading of each shown field serves rows read from the
/// database and rows at hand (a created or updated one).
///
/// # Panics
///
/// When `read_from_result` cannot read a value of `row`'s own columns
/// back as the same field type: a broken `Model` impl, not bad data.
pub fn read_of<M: Model>(row: <M::Entity as EntityTrait>::Model) -> M::Read {
    let columns = <<M::Entity as EntityTrait>::Column as Iterable>::iter();
    let (names, values): (Vec<String>, Vec<sea_orm::Value>) = columns
        .map(|column| (column.as_str().to_string(), row.get(column)))
        .unzip();
    let result = QueryResult::from(sea_orm::ProxyRow::in_order(names.into(), values));
    M::read_from_result(&result).unwrap_or_else(|error| {
        panic!(
            "{}: a row's own values do not read back as its Read: {error}",
            M::meta().object_name
        )
    })
}

/// Static description of a model, generated from the struct and its attributes.
#[derive(Debug)]
pub struct ModelMeta {
    /// Django app label (`blog`).
    pub app_label: &'static str,
    /// Lower-case model name (`post`), as in Django's `ContentType.model`.
    pub model_name: &'static str,
    /// The struct's name (`Post`).
    pub object_name: &'static str,
    /// SQL table (`blog_post`).
    pub table: &'static str,
    /// URL segment (`posts`).
    pub plural: &'static str,
    /// The struct's doc comment.
    pub doc: &'static str,
    /// Name of the primary key field.
    pub primary_key: &'static str,
    /// Every field, in declaration order.
    pub fields: &'static [FieldMeta],
    /// Default list ordering; the primary key is appended to make it total.
    pub ordering: &'static [OrderingMeta],
    /// `#[model(unique_together(a, b))]`: each, columns whose values are
    /// unique together (Django's `unique_together`), a unique index.
    pub unique_together: &'static [&'static [&'static str]],
    /// Whether the default ordering gets its index (see
    /// [`ModelMeta::ordering_index`]); `#[model(ordering_index = false)]`
    /// opts out.
    pub ordering_index: bool,
    /// What the list endpoint lets clients filter, search and order by.
    pub api: ApiMeta,
    /// Loads rows by primary key as JSON `Read` objects, for `?expand=`.
    pub load_by_keys: LoadByKeys,
    /// `#[admin(...)]`: how the admin site shows the model.
    pub admin: AdminMeta,
}

/// `#[admin(...)]`: the change list's columns, filters and search, and the
/// change form's read-only fields, autocompletes and inlines.
#[derive(Debug)]
pub struct AdminMeta {
    /// The change list's columns; empty: the row's display string.
    pub list_display: &'static [&'static str],
    /// The filter sidebar's fields.
    pub list_filter: &'static [&'static str],
    /// The fields the search box looks in.
    pub search: &'static [&'static str],
    /// Foreign keys edited with a search-as-you-type box.
    pub autocomplete: &'static [&'static str],
    /// Models with a foreign key to this one, edited on its change page.
    pub inlines: &'static [fn() -> &'static ModelMeta],
    /// Rows per change list page.
    pub list_per_page: u64,
    /// Left out of the admin.
    pub hidden: bool,
    /// Display strings of rows by primary key, for foreign key columns and widgets.
    pub labels: LoadLabels,
}

/// `#[api(...)]`: the list endpoint's declared filters, search fields and orderings.
#[derive(Debug)]
pub struct ApiMeta {
    /// Fields accepted as `?field=` and `?field__lookup=`.
    pub filter: &'static [&'static str],
    /// Fields `?search=` looks in, case-insensitively.
    pub search: &'static [&'static str],
    /// Fields accepted by `?ordering=`.
    pub ordering: &'static [&'static str],
    /// Unknown keys in a request body are an error (`true`, the default) or ignored.
    pub reject_unknown_fields: bool,
    /// Who may use the generated endpoints.
    pub policy: Policy,
    /// `#[api(owner = field)]`: the foreign key to the owning user.
    pub owner: Option<&'static str>,
    /// With an owner: users see only their own rows (superusers and holders
    /// of the model's view permission see all).
    pub own_rows_only: bool,
    /// How lists are cut into pages: `#[api(pagination = "none")]` is [`PaginationMode::Off`].
    pub pagination: PaginationMode,
}

/// One of Django's four default model permissions: what a request does to
/// a model's rows (list and retrieve view, create adds, PUT and PATCH
/// change, DELETE deletes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// list, retrieve: Django's `view`.
    View,
    /// create: `add`.
    Add,
    /// PUT, PATCH: `change`.
    Change,
    /// DELETE: `delete`.
    Delete,
}

impl Action {
    /// The four, in the order Django creates their permissions.
    pub const ALL: [Action; 4] = [Action::Add, Action::Change, Action::Delete, Action::View];

    /// The action's word in a codename (`view`).
    pub fn codename(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Add => "add",
            Action::Change => "change",
            Action::Delete => "delete",
        }
    }
}

/// `#[api(policy = "...")]`: who may call a model's generated endpoints.
/// Anonymous callers get 401, authenticated ones without the right 403, as in DRF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Django's model permissions (the default): list/retrieve need `view`,
    /// create `add`, PUT/PATCH `change`, DELETE `delete`.
    ModelPermissions,
    /// Any authenticated user may do anything.
    Authenticated,
    /// Anyone may read; writes need the model permissions.
    PublicRead,
    /// No checks at all.
    AllowAny,
    /// `#[api(owner = field)]`: authenticated users read and create (the owner is
    /// set to them); only the owner or holders of `change`/`delete` edit or delete.
    Owner,
    /// `#[api(permissions_of = field)]`: a link table (a user's groups, a
    /// group's permissions) with no permissions of its own, as Django's
    /// auto-created through tables: reading it needs the `view` permission
    /// of the model `field` references, adding, changing or deleting a
    /// link its `change` permission. `migrate` creates no permissions for it.
    PermissionsOf(&'static str),
}

/// How a model's list endpoint pages its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaginationMode {
    /// The default: `{"items","total","page","page_size"}` pages (`?page=`,
    /// `?page_size=`), or keyset pages with `?cursor=`.
    Paged,
    /// `#[api(pagination = "none")]`: `{"items": [...]}` with every matching
    /// row and no count query. `?page_size=` (and `?page=`) still take a
    /// slice, answered in the same shape; `?cursor=` is refused. There is no
    /// cap: meant for small, bounded tables (permissions, content types, choices).
    Off,
}

impl ModelMeta {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&'static FieldMeta> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The model's name in words (`BlogPost` -> `blog post`), as Django's
    /// `verbose_name` defaults.
    pub fn verbose_name(&self) -> String {
        let mut words = String::new();
        for (i, c) in self.object_name.chars().enumerate() {
            if c.is_uppercase() && i > 0 {
                words.push(' ');
            }
            words.extend(c.to_lowercase());
        }
        words
    }

    /// Checks what the derive could not: each default ordering term across a
    /// foreign key (`author__name`) names a field of the referenced model.
    pub fn check_ordering(&self) -> Result<(), String> {
        for term in self.ordering {
            let Some(related) = term.related else {
                continue;
            };
            let Some(target) = self
                .field(term.field)
                .and_then(|f| f.references)
                .map(|r| r())
            else {
                return Err(format!(
                    "{}: ordering term `{}__{related}` does not follow a foreign key",
                    self.object_name, term.field
                ));
            };
            if target.field(related).is_none() {
                let names: Vec<&str> = target.fields.iter().map(|f| f.name).collect();
                return Err(format!(
                    "{}: #[model(ordering)] names `{}__{related}`, but {} has no field `{related}` (its fields: {})",
                    self.object_name,
                    self.field(term.field)
                        .map(FieldMeta::relation_name)
                        .unwrap_or(term.field),
                    target.object_name,
                    names.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The permission `action` on this model needs, `app.action_model`;
    /// for a `permissions_of` link table, the parent's `view` (to read) or
    /// `change` (anything else), as Django guards auto-created through tables.
    pub fn permission_code(&self, action: Action) -> String {
        if let Some(parent) = self.permissions_parent() {
            let action = if action == Action::View {
                Action::View
            } else {
                Action::Change
            };
            return parent.permission_code(action);
        }
        format!("{}.{}", self.app_label, self.codename(action))
    }

    /// The codename of this model's own permission for `action`
    /// (`change_post`), as Django stores it in `auth_permission.codename`.
    pub fn codename(&self, action: Action) -> String {
        format!("{}_{}", action.codename(), self.model_name)
    }

    /// For `#[api(permissions_of = field)]`, the model `field` references.
    pub fn permissions_parent(&self) -> Option<&'static ModelMeta> {
        let Policy::PermissionsOf(field) = self.api.policy else {
            return None;
        };
        self.field(field).and_then(|f| f.references).map(|r| r())
    }

    /// The name of the unique index over `columns` (`unique_together`),
    /// `{table}_{a}_{b}_uniq`, as migrations create it. Migration files
    /// hold this name on every database; MySQL, which takes at most 64
    /// characters, declares it shortened (by the `db` layer's MySQL
    /// `identifier`, which sits above this module).
    pub fn unique_index_name(&self, columns: &[&str]) -> String {
        format!("{}_{}_uniq", self.table, columns.join("_"))
    }

    /// The index serving the default ordering, so a list's pages read
    /// `page_size` rows instead of sorting the whole table: the ordering's
    /// columns, a descending one written `-column` (Django's
    /// `Index(fields=["-created_at"])`), up to the primary key, which is
    /// appended ascending as the list appends it to break ties
    /// (`-created_at` gives `["-created_at", "id"]`), named by
    /// [`ordering_index_name`].
    ///
    /// None when the model opts out (`ordering_index = false`), when the
    /// ordering is empty, goes through a relation (`author__name` sorts by
    /// a joined table's column, which no index of this table holds), names
    /// a JSON field (not indexable everywhere), or when an index the table
    /// has anyway already serves it: the ordering starts with the primary
    /// key, or with a unique NOT NULL field or a `unique_together` group of
    /// NOT NULL fields, sorted in one direction (rows are then totally
    /// ordered by that unique index alone).
    pub fn ordering_index(&self) -> Option<OrderingIndex> {
        if !self.ordering_index || self.ordering.is_empty() {
            return None;
        }
        let mut terms: Vec<(&'static FieldMeta, bool)> = Vec::new();
        for term in self.ordering {
            if term.related.is_some() {
                return None;
            }
            let field = self.field(term.field)?;
            if field.db_type == DbType::Json {
                return None;
            }
            terms.push((field, term.descending));
            if field.primary_key {
                break;
            }
        }
        let (first, first_descending) = terms[0];
        if first.primary_key || (first.unique && !first.nullable) {
            return None;
        }
        let led_by_unique_group = self.unique_together.iter().any(|group| {
            let lead = terms.get(..group.len()).unwrap_or(&[]);
            lead.len() == group.len()
                && lead
                    .iter()
                    .all(|(f, d)| *d == first_descending && !f.nullable && group.contains(&f.name))
        });
        if led_by_unique_group {
            return None;
        }
        if !terms.iter().any(|(f, _)| f.primary_key) {
            terms.push((self.field(self.primary_key)?, false));
        }
        let columns: Vec<String> = terms
            .iter()
            .map(|(f, descending)| format!("{}{}", if *descending { "-" } else { "" }, f.name))
            .collect();
        Some(OrderingIndex {
            name: ordering_index_name(self.table, &columns),
            columns,
        })
    }

    /// Django's four default permission codenames for this model,
    /// `{app}.{action}_{model}` for add, change, delete and view.
    pub fn permission_codenames(&self) -> [String; 4] {
        Action::ALL.map(|action| format!("{}.{}", self.app_label, self.codename(action)))
    }
}

/// The index of a model's default ordering ([`ModelMeta::ordering_index`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderingIndex {
    /// Its name, from [`ordering_index_name`].
    pub name: String,
    /// Its columns in order, a descending one written `-column`.
    pub columns: Vec<String>,
}

/// The name of the ordering index of `table` over `columns` (`-column` for
/// a descending one): `{table}_{columns}_{hash}_idx`, the stem cut so the
/// whole stays within 63 characters (PostgreSQL's limit; MySQL takes 64),
/// the hash (8 hex digits of SHA-256 over the table and the signed
/// columns) keeping cut names and directions apart. `makemigrations`
/// knows an index as the ordering index it manages by this name, so an
/// index added by hand is never dropped for it.
pub fn ordering_index_name(table: &str, columns: &[impl AsRef<str>]) -> String {
    use sha2::Digest as _;
    const MAX: usize = 63;
    const SUFFIX: &str = "_idx";
    const HASH_LEN: usize = 8;
    let signed: Vec<&str> = columns.iter().map(AsRef::as_ref).collect();
    let bare: Vec<&str> = signed.iter().map(|c| c.trim_start_matches('-')).collect();
    let digest = sha2::Sha256::digest(format!("{table}\0{}", signed.join(",")).as_bytes());
    let hash: String = digest
        .iter()
        .take(HASH_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect();
    let stem = format!("{table}_{}", bare.join("_"));
    let room = MAX - 1 - HASH_LEN - SUFFIX.len();
    let mut cut = stem.len().min(room);
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}{SUFFIX}", &stem[..cut])
}

/// One field of a model: its type, column and every constraint, written
/// once by `#[derive(Model)]` and read by the body reader
/// (`ferrobridge::schema::read_body`), the JSON Schema of request bodies
/// (`ferrobridge::schema::constrain_schema`), the admin's forms and migrations.
///
/// Built with a `const` builder, so a field without options is one line:
///
/// ```
/// use ferrobridge::model::{DbType, FieldKind, FieldMeta};
///
/// const TITLE: FieldMeta = FieldMeta::new("title", DbType::String(Some(200))).min_length(1);
/// assert_eq!(TITLE.kind, FieldKind::String);
/// assert_eq!(TITLE.max_length, Some(200));
/// assert!(!TITLE.nullable);
/// ```
#[derive(Debug)]
pub struct FieldMeta {
    /// The field (and column) name.
    pub name: &'static str,
    /// The stored scalar type.
    pub kind: FieldKind,
    /// `Option<T>`: the column is nullable.
    pub nullable: bool,
    /// The primary key.
    pub primary_key: bool,
    /// Has a unique constraint.
    pub unique: bool,
    /// Set by the server; not accepted in requests.
    pub read_only: bool,
    /// Accepted in requests; never returned.
    pub write_only: bool,
    /// `#[field(password)]`: written as plain text, checked against the
    /// app's `ferrobridge::auth::PasswordPolicy`, stored as a hash.
    pub password: bool,
    /// `#[field(write_perm = "change")]`: the model permission (`change`)
    /// needed to set this field to anything but its default on create, or
    /// to change it; enforced by the API and the admin alike.
    pub write_perm: Option<Action>,
    /// The key of this field in the Read schema (`pk` for a primary key
    /// listed as `#[api(read(pk, ...))]`); `None` when responses leave it out.
    pub read_as: Option<&'static str>,
    /// A long text (TEXT column, textarea in forms).
    pub text: bool,
    /// `max_length`, in characters.
    pub max_length: Option<u64>,
    /// `min_length`, in characters.
    pub min_length: Option<u64>,
    /// Help text, from the field's doc comment.
    pub help_text: Option<&'static str>,
    /// For a foreign key: the referenced model.
    pub references: Option<fn() -> &'static ModelMeta>,
    /// For a Rust enum field: the stored string of each variant.
    pub choices: &'static [&'static str],
    /// For a Rust enum field: the label of each variant (its doc comment),
    /// in the order of [`FieldMeta::choices`].
    pub choice_labels: &'static [&'static str],
    /// `regex = "..."`: the pattern a string must match.
    pub pattern: Option<&'static str>,
    /// `email` / `url`: the JSON Schema format of a string.
    pub format: Option<&'static str>,
    /// `min_value`, as a number.
    pub min_value: Option<f64>,
    /// `max_value`, as a number.
    pub max_value: Option<f64>,
    /// The column's type in the database, as migrations create it.
    pub db_type: DbType,
    /// The column has an index: `index`, and every foreign key.
    pub index: bool,
    /// `default = ...`: the column's default, also used to fill existing
    /// rows when a migration adds the column.
    pub default: Option<FieldDefault>,
    /// For a foreign key: what deleting the referenced row does
    /// (`Restrict` unless `on_delete` says otherwise).
    pub on_delete: OnDelete,
    /// An integer primary key numbered by the database.
    pub auto_increment: bool,
}

/// The `const` builder of [`FieldMeta`]: [`FieldMeta::new`] gives a
/// required, writable, unconstrained field shown in responses under its
/// name; each method sets one option.
impl FieldMeta {
    /// A field called `name` stored as `db_type`: not null, not a key, in
    /// responses under its own name. What the column type says is not
    /// repeated: the kind follows from it ([`FieldMeta::choices`] makes a
    /// string a choice), a VARCHAR's length is the `max_length`, and
    /// [`DbType::Text`] is a long text.
    pub const fn new(name: &'static str, db_type: DbType) -> Self {
        FieldMeta {
            name,
            kind: db_type.kind(),
            nullable: false,
            primary_key: false,
            unique: false,
            read_only: false,
            write_only: false,
            password: false,
            write_perm: None,
            read_as: Some(name),
            text: matches!(db_type, DbType::Text),
            max_length: match db_type {
                DbType::String(Some(max)) => Some(max as u64),
                _ => None,
            },
            min_length: None,
            help_text: None,
            references: None,
            choices: &[],
            choice_labels: &[],
            pattern: None,
            format: None,
            min_value: None,
            max_value: None,
            db_type,
            index: false,
            default: None,
            on_delete: OnDelete::Restrict,
            auto_increment: false,
        }
    }

    /// `Option<T>`: the column is nullable.
    pub const fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    /// The primary key.
    pub const fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self
    }

    /// An integer primary key numbered by the database.
    pub const fn auto_increment(mut self) -> Self {
        self.auto_increment = true;
        self
    }

    /// A unique constraint.
    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// An index on the column.
    pub const fn index(mut self) -> Self {
        self.index = true;
        self
    }

    /// Set by the server, not accepted in requests.
    pub const fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Accepted in requests, never returned (so also not in responses).
    pub const fn write_only(mut self) -> Self {
        self.write_only = true;
        self.read_as = None;
        self
    }

    /// `#[field(password)]`: stored as a hash, never returned.
    pub const fn password(mut self) -> Self {
        self.password = true;
        self.write_only()
    }

    /// The model permission needed to set or change the field.
    pub const fn write_perm(mut self, action: Action) -> Self {
        self.write_perm = Some(action);
        self
    }

    /// The key of the field in responses (`pk`), instead of its name.
    pub const fn read_as(mut self, key: &'static str) -> Self {
        self.read_as = Some(key);
        self
    }

    /// Left out of responses (`#[api(read(...))]` does not list it).
    pub const fn not_read(mut self) -> Self {
        self.read_as = None;
        self
    }

    /// `max_length`, in characters.
    pub const fn max_length(mut self, max: u64) -> Self {
        self.max_length = Some(max);
        self
    }

    /// `min_length`, in characters.
    pub const fn min_length(mut self, min: u64) -> Self {
        self.min_length = Some(min);
        self
    }

    /// `min_value`, inclusive.
    pub const fn min_value(mut self, min: f64) -> Self {
        self.min_value = Some(min);
        self
    }

    /// `max_value`, inclusive.
    pub const fn max_value(mut self, max: f64) -> Self {
        self.max_value = Some(max);
        self
    }

    /// `regex = "..."`: a string must contain a match.
    pub const fn pattern(mut self, pattern: &'static str) -> Self {
        self.pattern = Some(pattern);
        self
    }

    /// `email` / `url`: the JSON Schema format (`email`, `uri`) a string must have.
    pub const fn format(mut self, format: &'static str) -> Self {
        self.format = Some(format);
        self
    }

    /// The help text (the field's doc comment).
    pub const fn help(mut self, text: &'static str) -> Self {
        self.help_text = Some(text);
        self
    }

    /// A foreign key to `target`, indexed (as SeaORM and Django do),
    /// deleting as `on_delete` says.
    pub const fn references(
        mut self,
        target: fn() -> &'static ModelMeta,
        on_delete: OnDelete,
    ) -> Self {
        self.references = Some(target);
        self.on_delete = on_delete;
        self.index = true;
        self
    }

    /// A field of the choices enum `C` ([`FieldKind::Choice`]): its stored
    /// strings and their labels.
    pub const fn choices<C: Choices>(mut self) -> Self {
        self.kind = FieldKind::Choice;
        self.choices = C::VARIANTS;
        self.choice_labels = C::LABELS;
        self
    }

    /// `default = ...`.
    pub const fn default(mut self, default: FieldDefault) -> Self {
        self.default = Some(default);
        self
    }

    /// The field a create request must carry: writable, not nullable, no default.
    pub fn is_required_on_create(&self) -> bool {
        !self.read_only && !self.nullable && self.default.is_none()
    }

    /// `max_digits` and `decimal_places` of a Decimal field.
    pub fn decimal_precision(&self) -> Option<(u32, u32)> {
        match self.db_type {
            DbType::Decimal(digits, places) => Some((digits, places)),
            _ => None,
        }
    }

    /// The label of the stored choice `value` (the value itself if unknown).
    pub fn choice_label<'a>(&self, value: &'a str) -> &'a str
    where
        'static: 'a,
    {
        self.choices
            .iter()
            .position(|c| *c == value)
            .and_then(|i| self.choice_labels.get(i).copied())
            .unwrap_or(value)
    }

    /// For a foreign key `author_id`, the name its expansion takes (`author`).
    pub fn relation_name(&self) -> &'static str {
        self.name.strip_suffix("_id").unwrap_or(self.name)
    }
}

/// The kind of value a field holds, as the API and forms see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Any integer width.
    Integer,
    /// `f32` / `f64`.
    Float,
    /// `bool`.
    Boolean,
    /// `String`.
    String,
    /// `DateTime<Utc>`, RFC 3339 on the wire.
    DateTime,
    /// `chrono::NaiveDate`, `YYYY-MM-DD` on the wire.
    Date,
    /// `rust_decimal::Decimal`, a string on the wire so no digit is lost.
    Decimal,
    /// `uuid::Uuid`, hyphenated on the wire.
    Uuid,
    /// `serde_json::Value`: any JSON.
    Json,
    /// A Rust enum deriving `Choices`, stored as one of its strings.
    Choice,
}

impl FieldKind {
    /// Pydantic's error type for a value that is not of this kind.
    pub fn type_error(self) -> (ErrorKind, &'static str) {
        match self {
            FieldKind::Integer => (ErrorKind::IntType, "Input should be a valid integer"),
            FieldKind::Float => (ErrorKind::FloatType, "Input should be a valid number"),
            FieldKind::Boolean => (ErrorKind::BoolType, "Input should be a valid boolean"),
            FieldKind::String => (ErrorKind::StringType, "Input should be a valid string"),
            FieldKind::DateTime => (
                ErrorKind::DatetimeType,
                "Input should be a valid datetime (RFC 3339, e.g. 2024-01-31T12:00:00Z)",
            ),
            FieldKind::Date => (
                ErrorKind::DateType,
                "Input should be a valid date (YYYY-MM-DD)",
            ),
            FieldKind::Decimal => (ErrorKind::DecimalType, "Input should be a valid decimal"),
            FieldKind::Uuid => (ErrorKind::UuidType, "Input should be a valid UUID"),
            FieldKind::Json => (ErrorKind::JsonType, "Input should be valid JSON"),
            FieldKind::Choice => (ErrorKind::Enum, "Input should be one of the allowed values"),
        }
    }
}

/// One term of a default ordering, built as `OrderingMeta::descending("created_at")`
/// or `OrderingMeta::ascending("author_id").through("name")`.
#[derive(Debug)]
pub struct OrderingMeta {
    /// The field sorted by; for `author__name`, the foreign key (`author_id`).
    pub field: &'static str,
    /// For `author__name`: the field of the referenced model (`name`),
    /// sorted through a join (INNER, or LEFT when the foreign key is nullable).
    pub related: Option<&'static str>,
    /// Descending (`-field`).
    pub descending: bool,
}

impl OrderingMeta {
    /// `field`, smallest first.
    pub const fn ascending(field: &'static str) -> Self {
        OrderingMeta {
            field,
            related: None,
            descending: false,
        }
    }

    /// `-field`, largest first.
    pub const fn descending(field: &'static str) -> Self {
        OrderingMeta {
            descending: true,
            ..OrderingMeta::ascending(field)
        }
    }

    /// Sorts by the field `related` of the row the foreign key points at.
    pub const fn through(mut self, related: &'static str) -> Self {
        self.related = Some(related);
        self
    }
}

/// A Rust enum usable as a field type, implemented by `#[derive(Choices)]`:
/// stored as one of [`Choices::VARIANTS`], shown with [`Choices::LABELS`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a choices enum",
    label = "a `#[field(choices)]` field needs an enum with `#[derive(Choices)]`",
    note = "add `#[derive(Choices)]` to `{Self}`, or use a built-in field type"
)]
pub trait Choices: Sized + Clone + Send + Sync + 'static {
    /// The stored string of each variant, in declaration order.
    const VARIANTS: &'static [&'static str];
    /// The human label of each variant, in the same order.
    const LABELS: &'static [&'static str];
    /// The stored string of this variant.
    fn as_choice(&self) -> &'static str;
    /// The variant stored as `value`.
    fn from_choice(value: &str) -> Option<Self>;
}

/// The column type of a field, as migrations create it: what the Rust type
/// and the `text`, `max_length`, `max_digits`/`decimal_places` options decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DbType {
    /// `i16`: SMALLINT.
    SmallInteger,
    /// `i32`: INTEGER.
    Integer,
    /// `i64`: BIGINT.
    BigInteger,
    /// `f32`: REAL.
    Float,
    /// `f64`: DOUBLE PRECISION.
    Double,
    /// `bool`.
    Boolean,
    /// `String` (and choices): VARCHAR, of `max_length` characters when given.
    String(Option<u32>),
    /// `#[field(text)] String`: TEXT.
    Text,
    /// `Decimal`: NUMERIC(max_digits, decimal_places).
    Decimal(u32, u32),
    /// `NaiveDate`: DATE.
    Date,
    /// `DateTime<Utc>`: a timestamp with time zone.
    DateTime,
    /// `Uuid`.
    Uuid,
    /// `serde_json::Value`: JSON.
    Json,
}

impl DbType {
    /// The kind of value a column of this type holds (strings are
    /// [`FieldKind::String`]; a choices field says so itself).
    pub const fn kind(self) -> FieldKind {
        match self {
            DbType::SmallInteger | DbType::Integer | DbType::BigInteger => FieldKind::Integer,
            DbType::Float | DbType::Double => FieldKind::Float,
            DbType::Boolean => FieldKind::Boolean,
            DbType::String(_) | DbType::Text => FieldKind::String,
            DbType::Decimal(..) => FieldKind::Decimal,
            DbType::Date => FieldKind::Date,
            DbType::DateTime => FieldKind::DateTime,
            DbType::Uuid => FieldKind::Uuid,
            DbType::Json => FieldKind::Json,
        }
    }

    /// The type as a reader of Rust code knows it, for questions and errors
    /// (`Did you rename post.title to post.headline (a String)?`).
    pub fn rust_name(self) -> &'static str {
        match self {
            DbType::SmallInteger => "i16",
            DbType::Integer => "i32",
            DbType::BigInteger => "i64",
            DbType::Float => "f32",
            DbType::Double => "f64",
            DbType::Boolean => "bool",
            DbType::String(_) | DbType::Text => "String",
            DbType::Decimal(..) => "Decimal",
            DbType::Date => "NaiveDate",
            DbType::DateTime => "DateTime<Utc>",
            DbType::Uuid => "Uuid",
            DbType::Json => "serde_json::Value",
        }
    }
}

/// `#[field(default = ...)]` as the database sees it.
#[derive(Clone, Copy, Debug)]
pub enum FieldDefault {
    /// `default = true`.
    Bool(bool),
    /// `default = 0`.
    Int(i64),
    /// `default = 0.5`.
    Float(f64),
    /// `default = "draft"`.
    Str(&'static str),
    /// `default = Kind::Article` on a choices field: the variant's stored
    /// string, read through [`Choices::as_choice`] (a function, because that
    /// string is only known to the enum's own derive).
    Choice(fn() -> &'static str),
}

/// What the database does to rows referencing a deleted row (`on_delete`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OnDelete {
    /// Delete them too.
    Cascade,
    /// Set their foreign key to NULL.
    SetNull,
    /// Refuse the delete while they exist (the default).
    Restrict,
}

/// A future boxed for a loader of [`ModelMeta`], borrowing for `'a`.
pub type LoaderFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, sea_orm::DbErr>> + Send + 'a>>;

/// Where the loaders of [`ModelMeta`] read rows: the runtime's connection
/// implements it (with its datetime spelling), so metadata, the lowest
/// layer, names no connection type of a higher one.
pub trait RowSource: Send + Sync {
    /// The database's dialect, to build the statement in.
    fn backend(&self) -> sea_orm::DbBackend;
    /// Runs a SELECT and returns its rows.
    fn select_rows(&self, stmt: sea_orm::Statement) -> LoaderFuture<'_, Vec<sea_orm::QueryResult>>;
}

/// Loads rows of one model by primary key as `(primary key text, Read
/// JSON)` pairs, for `?expand=` and for locating a failed foreign key.
pub type LoadByKeys = for<'a> fn(
    &'a dyn RowSource,
    Vec<sea_orm::Value>,
) -> LoaderFuture<'a, Vec<(String, serde_json::Value)>>;

/// Display strings of rows by primary key: what a foreign key column or
/// widget shows for the referenced row.
pub type LoadLabels =
    for<'a> fn(&'a dyn RowSource, Vec<sea_orm::Value>) -> LoaderFuture<'a, Vec<(String, String)>>;
