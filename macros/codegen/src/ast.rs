//! The internal model of a `#[derive(Model)]` struct: what the generators read.
//!
//! Every node keeps the tokens it came from, so later checks and generated
//! code can point errors at the user's own source.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{Ident, LitInt, LitStr, Path, Type, Visibility};

/// The name an identifier stands for: `r#type` is the field `type`, which
/// is its JSON key, column, filter name and label everywhere (as serde and
/// SeaORM read it); the `r#` only lets Rust source spell a keyword.
pub fn name_of(ident: &Ident) -> String {
    ident.unraw().to_string()
}

/// Rust's keywords (strict, reserved and edition-dependent), which a
/// generated name must not be spelled as.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "try",
    "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield",
];

/// A generated identifier spelled `name`: as written when it is not a
/// keyword, raw (`r#where`) when it is one Rust allows raw, and with a
/// trailing underscore (`crate_`, `Self_`) for `crate`, `self`, `super`
/// and `Self`, which cannot be raw (SeaORM's rule for its column variants).
pub fn ident_for(name: &str, span: Span) -> Ident {
    if !KEYWORDS.contains(&name) {
        Ident::new(name, span)
    } else if matches!(name, "crate" | "self" | "super" | "Self") {
        Ident::new(&format!("{name}_"), span)
    } else {
        Ident::new_raw(name, span)
    }
}

/// A `#[derive(Model)]` struct after its attributes were read.
pub struct ModelDef {
    /// The struct's name, e.g. `Post`.
    pub ident: Ident,
    /// The struct's visibility, reused for every generated item.
    pub vis: Visibility,
    /// The struct's doc comment, one string per line.
    pub docs: Vec<String>,
    /// Django app label, `#[model(app = "blog")]`.
    pub app: String,
    /// Model name in lower case, as Django names it (`blogpost` for `BlogPost`).
    pub model_name: String,
    /// The entity module's name: the struct's name in snake_case (`blog_post`).
    pub module_name: String,
    /// The SQL table, `{app}_{model_name}` unless `#[model(table = "...")]`.
    pub table: String,
    /// URL segment under `/api/`, the English plural of the model name unless given.
    pub plural: String,
    /// Default ordering of lists, `#[model(ordering = "-created_at")]`.
    pub ordering: Vec<OrderingTerm>,
    /// Where `ordering` was written, for errors about it.
    pub ordering_span: Option<Span>,
    /// `#[model(ordering_index = false)]` makes it `false`: no index is
    /// created for the default ordering.
    pub ordering_index: bool,
    /// The fields, in declaration order.
    pub fields: Vec<FieldDef>,
    /// `#[api(...)]`: what the list endpoint accepts.
    pub api: ApiDef,
    /// `#[model(unknown_fields = "ignore")]`: accept and drop unknown body keys.
    pub ignore_unknown_fields: bool,
    /// `#[model(display = "...")]` or `#[model(display)]`: how a row is named.
    pub display: Option<DisplayDef>,
    /// `#[admin(...)]`: how the admin site shows the model.
    pub admin: AdminDef,
    /// `#[model(unique_together(a, b))]`, each: a unique index over these columns.
    pub unique_together: Vec<Vec<Ident>>,
}

/// How a row is named in the admin (Django's `__str__`).
pub enum DisplayDef {
    /// `display = "{title} by {author_id}"`: the template and its pieces.
    Template(LitStr, Vec<DisplayPart>),
    /// A bare `display`: the struct's own `std::fmt::Display` impl.
    DisplayImpl(Span),
}

/// A piece of a display template.
pub enum DisplayPart {
    /// Text copied as written.
    Text(String),
    /// `{field}`: the field's value.
    Field(String),
}

/// `#[admin(...)]`, as written.
#[derive(Default)]
pub struct AdminDef {
    /// `list_display(...)`: the change list's columns.
    pub list_display: Vec<Ident>,
    /// `list_filter(...)`: the filter sidebar's fields.
    pub list_filter: Vec<Ident>,
    /// `search(...)`: the fields the search box looks in.
    pub search: Vec<Ident>,
    /// `readonly(...)`: fields shown on forms but not editable.
    pub readonly: Vec<Ident>,
    /// `autocomplete(...)`: foreign keys edited with a search-as-you-type widget.
    pub autocomplete: Vec<Ident>,
    /// `inlines(Post, ...)`: models whose rows reference this one, edited on its page.
    pub inlines: Vec<Path>,
    /// `list_per_page = N`: rows per change list page.
    pub list_per_page: Option<LitInt>,
    /// `hidden`: not listed in the admin (Django: not registered).
    pub hidden: Option<Span>,
}

impl FieldDef {
    /// The field's name (`type` for `r#type`): its key, column and label.
    pub fn name(&self) -> String {
        name_of(&self.ident)
    }

    /// Whether `ident` (as written in an attribute, raw or not) names this field.
    pub fn is_named(&self, ident: &Ident) -> bool {
        self.name() == name_of(ident)
    }

    /// Never shown: in responses, `Debug` output or logs.
    pub fn is_secret(&self) -> bool {
        self.options.write_only.is_some() || self.options.password.is_some()
    }
}

/// `#[api(filter(...), search(...), ordering(...), read(...), pagination = "...")]`, as written.
#[derive(Default)]
pub struct ApiDef {
    /// Fields clients may filter on, with Django lookups.
    pub filter: Vec<Ident>,
    /// Fields `?search=` looks in.
    pub search: Vec<Ident>,
    /// Fields clients may order by.
    pub ordering: Vec<Ident>,
    /// `policy = "..."`: who may use the endpoints.
    pub policy: Option<(Span, ApiPolicy)>,
    /// `owner = field`: the foreign key to the user who owns a row.
    pub owner: Option<Ident>,
    /// `own_rows_only`: with `owner`, lists and lookups show a user only their rows.
    pub own_rows_only: Option<Span>,
    /// `permissions_of = field`: a link table whose rows are part of the
    /// row `field` references, guarded by that model's `view`/`change`.
    pub permissions_of: Option<Ident>,
    /// `read(pk, name)`: the fields of the Read schema, in order; `pk` names
    /// the primary key under the key `pk`. `None`: every readable field.
    pub read: Option<Vec<Ident>>,
    /// `pagination = "none"`: lists answer `{"items": [...]}` of every row.
    pub unpaged: bool,
}

/// `#[api(policy = "...")]`, as written: the policies a user may name
/// (`owner` and `permissions_of` set theirs by their own keys).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ApiPolicy {
    /// `"model_permissions"`, the default.
    ModelPermissions,
    /// `"authenticated"`.
    Authenticated,
    /// `"public_read"`.
    PublicRead,
    /// `"allow_any"`.
    AllowAny,
}

impl ApiPolicy {
    /// Every policy with its spelling in the attribute.
    pub const ALL: [(&'static str, ApiPolicy); 4] = [
        ("model_permissions", ApiPolicy::ModelPermissions),
        ("authenticated", ApiPolicy::Authenticated),
        ("public_read", ApiPolicy::PublicRead),
        ("allow_any", ApiPolicy::AllowAny),
    ];

    /// The policy spelled `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }

    /// Its spelling in the attribute (`"public_read"`).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("", |(n, _)| n)
    }

    /// The variant of the runtime's `ferrobridge::model::Policy` it becomes.
    pub fn runtime_variant(self) -> &'static str {
        match self {
            ApiPolicy::ModelPermissions => "ModelPermissions",
            ApiPolicy::Authenticated => "Authenticated",
            ApiPolicy::PublicRead => "PublicRead",
            ApiPolicy::AllowAny => "AllowAny",
        }
    }
}

/// One term of a default ordering: a field name, descending when prefixed by `-`.
pub struct OrderingTerm {
    /// The field the term sorts by; for `author__name`, the relation (`author`).
    pub field: String,
    /// For `author__name`: the referenced model's field (`name`).
    pub related: Option<String>,
    /// `true` for `-field`.
    pub descending: bool,
}

/// A field of the struct with its `#[field(...)]` options.
pub struct FieldDef {
    /// The field as written (`r#type` for a raw identifier); [`FieldDef::name`] is its name.
    pub ident: Ident,
    /// The type exactly as written, for conversions and error spans.
    pub ty: Type,
    /// The type inside `Option`, as written.
    pub inner: Type,
    /// The doc comment, joined into one paragraph (help text).
    pub docs: Option<String>,
    /// The scalar type stored, or `None` when the type is not supported.
    pub kind: Option<ScalarKind>,
    /// `Option<T>`: the column is nullable and the value optional.
    pub nullable: bool,
    /// Options from `#[field(...)]`.
    pub options: FieldOptions,
}

/// Scalar types a field may have (inside an optional `Option`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ScalarKind {
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `bool`
    Bool,
    /// `String`
    String,
    /// `chrono::DateTime<Utc>` (or SeaORM's `DateTimeUtc` alias)
    DateTimeUtc,
    /// `chrono::NaiveDate` (or `Date`)
    Date,
    /// `rust_decimal::Decimal`
    Decimal,
    /// `uuid::Uuid`
    Uuid,
    /// `serde_json::Value` (or `Json`)
    Json,
    /// A Rust enum deriving `Choices`, marked `#[field(choices)]`.
    Choice,
}

impl ScalarKind {
    /// Every supported type, as the error for an unsupported one lists them.
    pub const SUPPORTED: &'static str = "i16, i32, i64, f32, f64, bool, String, DateTime<Utc> (DateTimeUtc), NaiveDate, Decimal, Uuid, serde_json::Value (Json), a #[derive(Choices)] enum, or Option<T> of one of these";

    /// Integers can be auto-increment primary keys and foreign keys.
    pub fn is_integer(self) -> bool {
        matches!(self, ScalarKind::I16 | ScalarKind::I32 | ScalarKind::I64)
    }

    /// Numbers accept `min_value` / `max_value`.
    pub fn is_number(self) -> bool {
        self.is_integer() || matches!(self, ScalarKind::F32 | ScalarKind::F64)
    }

    /// The name of the runtime's `FieldKind` variant describing this scalar.
    pub fn runtime_variant(self) -> &'static str {
        match self {
            ScalarKind::I16 | ScalarKind::I32 | ScalarKind::I64 => "Integer",
            ScalarKind::F32 | ScalarKind::F64 => "Float",
            ScalarKind::Bool => "Boolean",
            ScalarKind::String => "String",
            ScalarKind::DateTimeUtc => "DateTime",
            ScalarKind::Date => "Date",
            ScalarKind::Decimal => "Decimal",
            ScalarKind::Uuid => "Uuid",
            ScalarKind::Json => "Json",
            ScalarKind::Choice => "Choice",
        }
    }
}

/// `#[field(...)]` options; each keeps the span of its key for errors.
#[derive(Default)]
pub struct FieldOptions {
    /// `primary_key`
    pub primary_key: Option<Span>,
    /// `unique`
    pub unique: Option<Span>,
    /// `index`
    pub index: Option<Span>,
    /// `text`: a long string stored as TEXT.
    pub text: Option<Span>,
    /// `max_length = N`
    pub max_length: Option<(Span, LitInt)>,
    /// `min_length = N`
    pub min_length: Option<(Span, LitInt)>,
    /// `min_value = N`
    pub min_value: Option<(Span, syn::Lit)>,
    /// `max_value = N`
    pub max_value: Option<(Span, syn::Lit)>,
    /// `default = literal`
    pub default: Option<(Span, syn::Lit)>,
    /// `references = Model`
    pub references: Option<(Span, Path)>,
    /// `on_delete = "cascade" | "set_null" | "restrict"`
    pub on_delete: Option<(Span, OnDelete, LitStr)>,
    /// `read_only`: set by the server, never accepted in a request body.
    pub read_only: Option<Span>,
    /// `write_only`: accepted in requests, never shown in responses.
    pub write_only: Option<Span>,
    /// `write_perm = "change"`: only holders of the model's `change`
    /// permission (and superusers) may set or change the field.
    pub write_perm: Option<LitStr>,
    /// `auto_now`: set to the current time on every save.
    pub auto_now: Option<Span>,
    /// `auto_now_add`: set to the current time when the row is created.
    pub auto_now_add: Option<Span>,
    /// `regex = "..."`: the string must match.
    pub regex: Option<(Span, LitStr)>,
    /// `email`: the string must be an email address.
    pub email: Option<Span>,
    /// `url`: the string must be a URL.
    pub url: Option<Span>,
    /// `max_digits = N`: a Decimal's total digits (required on Decimal fields).
    pub max_digits: Option<(Span, LitInt)>,
    /// `decimal_places = N`: a Decimal's scale (required on Decimal fields).
    pub decimal_places: Option<(Span, LitInt)>,
    /// `choices`: the type is a Rust enum deriving `Choices`.
    pub choices: Option<Span>,
    /// `password`: write-only, stored as an argon2 hash of what is written.
    pub password: Option<Span>,
    /// Named by `#[api(owner = ...)]`: set from the current user on create.
    pub is_owner: bool,
    /// `default = Status::Draft`: the default of a choices field.
    pub default_variant: Option<(Span, syn::Path)>,
}

/// What the database does to referencing rows when the referenced row goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OnDelete {
    /// Delete the referencing rows too.
    Cascade,
    /// Set the foreign key to NULL (the field must be `Option`).
    SetNull,
    /// Refuse to delete while rows reference it.
    Restrict,
}

impl FieldDef {
    /// The field is filled in by the server: never part of a request body.
    pub fn is_server_set(&self) -> bool {
        let o = &self.options;
        o.read_only.is_some()
            || o.is_owner
            || o.auto_now.is_some()
            || o.auto_now_add.is_some()
            || self.is_auto_increment()
            || self.is_generated_uuid()
    }

    /// An integer primary key is generated by the database.
    pub fn is_auto_increment(&self) -> bool {
        self.options.primary_key.is_some() && self.kind.is_some_and(ScalarKind::is_integer)
    }

    /// `default = ...` was given, as a literal or an enum variant.
    pub fn has_default(&self) -> bool {
        self.options.default.is_some() || self.options.default_variant.is_some()
    }

    /// A UUID primary key is generated by the server (v4), like Django's `default=uuid4`.
    pub fn is_generated_uuid(&self) -> bool {
        self.options.primary_key.is_some() && self.kind == Some(ScalarKind::Uuid)
    }

    /// The field may be left out of a create request.
    pub fn is_optional_on_create(&self) -> bool {
        self.nullable || self.has_default()
    }
}

impl ModelDef {
    /// The primary key field; `check` guarantees there is exactly one.
    pub fn primary_key(&self) -> &FieldDef {
        self.fields
            .iter()
            .find(|f| f.options.primary_key.is_some())
            .expect("checked: exactly one primary key")
    }

    /// The field `ident` (raw or not, as written in an attribute) names.
    pub fn field(&self, ident: &Ident) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.is_named(ident))
    }

    /// The field called `name` (unraw'd: `type`).
    pub fn field_named(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name() == name)
    }

    /// The foreign key a relation name designates: `author` (or `author_id`)
    /// is the field `author_id` with `references = ...`.
    pub fn relation(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| {
            f.options.references.is_some() && {
                let ident = f.name();
                ident == name || ident.strip_suffix("_id") == Some(name)
            }
        })
    }

    /// The field a name in `#[api(read(...))]` designates: `pk` is the
    /// primary key (as in Django and DRF) unless a field is called `pk`.
    pub fn read_target(&self, name: &Ident) -> Option<&FieldDef> {
        self.field(name).or_else(|| {
            (name == "pk")
                .then(|| self.fields.iter().find(|f| f.options.primary_key.is_some()))
                .flatten()
        })
    }

    /// The Read schema's fields as `(key, field)`, in order: the
    /// `#[api(read(...))]` list, or every field that is not write-only.
    pub fn read_fields(&self) -> Vec<(Ident, &FieldDef)> {
        match &self.api.read {
            Some(names) => names
                .iter()
                .filter_map(|name| {
                    // The key is the field's own ident (so `type` written in
                    // the attribute becomes the field `r#type`), or `pk`.
                    self.read_target(name).map(|f| {
                        let key = if f.is_named(name) {
                            f.ident.clone()
                        } else {
                            name.clone()
                        };
                        (key, f)
                    })
                })
                .collect(),
            None => self
                .fields
                .iter()
                .filter(|f| !f.is_secret())
                .map(|f| (f.ident.clone(), f))
                .collect(),
        }
    }
}
