//! Versioned migrations, as Django has them: `makemigrations` writes what
//! changed in the models as a Rust file, `migrate` applies (or unapplies) it.
//!
//! # Files
//!
//! Each migration is a human-readable Rust file in the app's source tree,
//! `src/migrations/m0002_post_add_subtitle.rs`, holding a declarative list of
//! operations built with this module's API:
//!
//! ```
//! use ferrobridge::migrations::prelude::*;
//!
//! /// Add field `subtitle` to `post`.
//! pub fn migration() -> Migration {
//!     Migration::new("0002_post_add_subtitle").operation(AddField::new(
//!         "post",
//!         Field::string("subtitle").max_length(100).default(""),
//!     ))
//! }
//! ```
//!
//! Beside them, `src/migrations/mod.rs` (regenerated with each new migration)
//! lists them in order and says where they live:
//!
//! ```ignore
//! mod m0001_initial;
//! mod m0002_post_add_subtitle;
//!
//! /// The migrations of app `blog`, in order.
//! pub fn all() -> ferrobridge::migrations::AppMigrations {
//!     ferrobridge::migrations::AppMigrations::new("blog", env!("CARGO_MANIFEST_DIR"), "src/migrations")
//!         .migration(m0001_initial::migration())
//!         .migration(m0002_post_add_subtitle::migration())
//! }
//! ```
//!
//! The app registers them: `App::new("blog").model::<Post>().migrations(migrations::all())`.
//! `env!("CARGO_MANIFEST_DIR")` is the crate's directory when the app is
//! compiled, so `cargo run -p blog -- makemigrations` from the workspace root
//! writes into `examples/blog/src/migrations`.
//! An app label without registered migrations gets `src/migrations` (when it is the
//! [`App`](crate::App)'s name) or `src/migrations_{label}` under the
//! directory `cargo run` reports in `CARGO_MANIFEST_DIR`; `makemigrations` then says how to register it.
//!
//! A migration may also change rows, as Django's `RunPython`: a hand-written
//! [`RunCode`] step (`.run_code(RunCode::new("Fill slugs", |tx| Box::pin(fill_slugs(tx))))`)
//! runs after the operations, on the migration's transaction. `makemigrations`
//! never writes one; the state is made from the operations alone.
//!
//! # State and changes
//!
//! The state of an app's models is the replay of every operation of its
//! migrations ([`ProjectState`]). `makemigrations` compares that state with the
//! registered models' metadata ([`ModelMeta`](crate::model::ModelMeta)) and
//! writes the difference: new and removed models, new and removed fields,
//! changed type, nullability, default, unique, index and foreign keys. A field
//! that disappeared while one of the same type appeared is a rename only when
//! the user says so (`--rename post.title=headline`, or `y` at the question
//! asked on a terminal); with `--noinput`, such a pair is an error naming the
//! flag, never a silent drop plus add.
//!
//! A field added NOT NULL without a default, or made NOT NULL from nullable,
//! needs a value for existing rows: `makemigrations` refuses it, naming the
//! field, unless the model gives a `default` or the command a one-off value
//! (`--default app.model.field=VALUE`), written as
//! [`AddField::one_off_default`] / [`AlterField::one_off_default`].
//!
//! # Apps that reference each other
//!
//! A migration with a foreign key to a model of another app depends on the
//! latest migration of that app, which has created the model (as Django
//! writes it), declared with [`Migration::depends_on`]; `makemigrations`
//! plans the migration creating the model first.
//! When two apps reference each other, the first app's initial migration
//! leaves out the foreign key that closes the cycle and a second migration
//! adds it, after the other app's (Django's resolution).
//!
//! # Applying
//!
//! `migrate` applies pending migrations in dependency order (each after the
//! previous one of its app and after those it [`depends_on`](Migration::depends_on)),
//! each in one transaction (SQLite and PostgreSQL both have transactional DDL),
//! and records it in the `ferrobridge_migrations` table (`id`, `app`, `name`,
//! `applied`). Migrating back applies each operation's reverse, computed from
//! the state before it. SQLite cannot alter a column's type, nullability,
//! default or constraints, so there the table is rebuilt as Django does it:
//! a new table, `INSERT ... SELECT` of the rows, the old table dropped, the new
//! one renamed and its indexes recreated, with foreign key enforcement off on
//! the migration's own connection and `PRAGMA foreign_key_check` before the commit.
//! Rows survive every operation that does not drop their column or table.
//! A type change on PostgreSQL converts each value with
//! `USING CAST("column" AS type)`; on SQLite, a value the new integer, float
//! or bool column cannot hold fails the migration as it does on PostgreSQL.
//! Either way the failure names the column and the value, and rolls back.
//! A foreign key to a table created by another app's migration orders the
//! two even when the migration does not declare the dependency.
//!
//! An app's first migration whose tables all exist already (a database made
//! by [`App::create_tables`](crate::App::create_tables), or by Django) is
//! recorded as applied without running, as Django's `migrate --fake-initial`.
//!
//! # Built-in apps
//!
//! The framework's own tables (`contenttypes`, `auth`, `ferrobridge`) have
//! migrations shipped in `runtime/src/migrations/builtin/{label}/`, written by
//! the same writer. After changing or adding a built-in model (registered in
//! [`builtin_models`]), regenerate them with
//! `FERROBRIDGE_WRITE_BUILTIN_MIGRATIONS=1 cargo test -p ferrobridge builtin_migrations`.

mod autodetect;
pub mod builtin;
mod executor;
mod state;
mod writer;

use std::path::PathBuf;

pub use crate::model::{DbType, OnDelete};
pub use autodetect::{AppChanges, Changes, DetectOptions, OneOffDefault, detect_changes};
pub use executor::{MigrationPlan, Migrator, Step, StepOutcome};
pub use state::{ModelState, ProjectState};
pub use writer::{
    PlannedMigration, plan_migrations, render_migration, render_module, write_planned,
};

/// Everything a migration file needs: `use ferrobridge::migrations::prelude::*;`.
pub mod prelude {
    pub use super::{
        AddField, AddIndex, AlterField, CreateModel, DbType, DeleteModel, Field, Index, Migration,
        OnDelete, RemoveField, RemoveIndex, RenameField, RunCode,
    };
}

/// The tables of the database (SQLite's internal ones left out).
pub async fn table_names(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<std::collections::BTreeSet<String>, sea_orm::DbErr> {
    executor::table_names(db).await
}

/// The table `migrate` records applied migrations in.
pub const RECORD_TABLE: &str = "ferrobridge_migrations";

/// The built-in models every [`App`](crate::App) with auth registers, in
/// dependency order; their migrations live in [`builtin`].
pub fn builtin_models() -> Vec<&'static crate::model::ModelMeta> {
    use crate::Model;
    use crate::auth::models::*;
    vec![
        ContentType::meta(),
        Permission::meta(),
        Group::meta(),
        User::meta(),
        UserGroup::meta(),
        GroupPermission::meta(),
        UserPermission::meta(),
        Token::meta(),
        ExternalIdentity::meta(),
        crate::admin::Session::meta(),
        crate::admin::LogEntry::meta(),
    ]
}

/// The migrations of one app label, and the directory their files live in.
#[derive(Clone, Debug)]
pub struct AppMigrations {
    /// The app label (`blog`).
    pub app: String,
    /// The directory of the crate that holds them, `env!("CARGO_MANIFEST_DIR")`
    /// of that crate (captured when it is compiled).
    pub manifest_dir: PathBuf,
    /// Their directory inside the crate (`src/migrations`), where
    /// `makemigrations` writes the next one.
    pub dir: String,
    /// The migrations, in order.
    pub migrations: Vec<Migration>,
}

impl AppMigrations {
    /// No migrations yet for `app`, kept in `dir` of the crate at `manifest_dir`:
    /// `AppMigrations::new("blog", env!("CARGO_MANIFEST_DIR"), "src/migrations")`.
    pub fn new(
        app: impl Into<String>,
        manifest_dir: impl Into<PathBuf>,
        dir: impl Into<String>,
    ) -> Self {
        AppMigrations {
            app: app.into(),
            manifest_dir: manifest_dir.into(),
            dir: dir.into(),
            migrations: Vec::new(),
        }
    }

    /// The absolute directory of the migration files.
    pub fn path(&self) -> PathBuf {
        self.manifest_dir.join(&self.dir)
    }

    /// Appends the next migration.
    pub fn migration(mut self, migration: Migration) -> Self {
        self.migrations.push(migration);
        self
    }

    /// The migration called `name`.
    pub fn get(&self, name: &str) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.name == name)
    }
}

/// One migration: a name, what it must come after, and its operations.
#[derive(Clone, Debug, PartialEq)]
pub struct Migration {
    /// `0002_post_add_subtitle`: a four-digit number, then words.
    pub name: String,
    /// Migrations of other apps applied before this one, as `(app, name)`
    /// (the previous migration of the same app always is).
    pub dependencies: Vec<(String, String)>,
    /// What it does, in order.
    pub operations: Vec<Operation>,
    /// Data changes run after the operations, in the same transaction
    /// (Django's `RunPython`); written by hand, never by `makemigrations`.
    pub code: Vec<RunCode>,
}

impl Migration {
    /// An empty migration called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Migration {
            name: name.into(),
            dependencies: Vec::new(),
            operations: Vec::new(),
            code: Vec::new(),
        }
    }

    /// Applies after migration `name` of app `app` (for foreign keys into it).
    pub fn depends_on(mut self, app: impl Into<String>, name: impl Into<String>) -> Self {
        self.dependencies.push((app.into(), name.into()));
        self
    }

    /// Appends an operation.
    pub fn operation(mut self, operation: impl Into<Operation>) -> Self {
        self.operations.push(operation.into());
        self
    }

    /// Appends a data change, run after the operations (see [`RunCode`]).
    pub fn run_code(mut self, code: RunCode) -> Self {
        self.code.push(code);
        self
    }

    /// The four-digit number that starts the name (`2` for `0002_...`).
    pub fn number(&self) -> Option<u32> {
        self.name.get(..4).and_then(|n| n.parse().ok())
    }
}

/// The transaction a migration runs in (the [`crate::db::Connection`]
/// wrapper's, so a data step writes datetimes as every other query does).
pub type MigrationTransaction = crate::db::Transaction;

/// A data step of a migration: it runs on the migration's transaction, so
/// it commits or rolls back with the migration.
pub type CodeFn = for<'a> fn(
    &'a MigrationTransaction,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), sea_orm::DbErr>> + Send + 'a>,
>;

/// Code a migration runs to change rows rather than the schema (Django's
/// `RunPython`), e.g. deleting rows an earlier version wrote by mistake.
/// It leaves the migration state alone; unapplying the migration runs
/// `reverse` (nothing when there is none, as Django's `RunPython.noop`).
#[derive(Clone)]
pub struct RunCode {
    /// What it does, in words (named in the error when it fails).
    pub description: String,
    /// Run when the migration is applied.
    pub forward: CodeFn,
    /// Run when the migration is unapplied.
    pub reverse: Option<CodeFn>,
}

impl RunCode {
    /// A step described as `description` that runs `forward` and whose
    /// reverse does nothing.
    pub fn new(description: impl Into<String>, forward: CodeFn) -> Self {
        RunCode {
            description: description.into(),
            forward,
            reverse: None,
        }
    }

    /// Runs `reverse` when the migration is unapplied.
    pub fn reverse(mut self, reverse: CodeFn) -> Self {
        self.reverse = Some(reverse);
        self
    }
}

impl std::fmt::Debug for RunCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunCode")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

// Two steps are the same step when they say the same: function pointers do
// not compare reliably across codegen units.
impl PartialEq for RunCode {
    fn eq(&self, other: &Self) -> bool {
        self.description == other.description
    }
}

/// One change to the schema. Each has a reverse, computed from the state
/// before it, so every migration can be unapplied.
#[derive(Clone, Debug, PartialEq)]
pub enum Operation {
    /// A new model and its table.
    CreateModel(CreateModel),
    /// A model gone: its table is dropped.
    DeleteModel(DeleteModel),
    /// A new column.
    AddField(AddField),
    /// A column dropped.
    RemoveField(RemoveField),
    /// A column's new definition (type, null, default, unique, index, foreign key).
    AlterField(AlterField),
    /// A column renamed; its values stay.
    RenameField(RenameField),
    /// An index over one or more columns, written by hand.
    AddIndex(AddIndex),
    /// An index dropped.
    RemoveIndex(RemoveIndex),
}

impl Operation {
    /// What it does, in words (`Add field subtitle to post`).
    pub fn describe(&self) -> String {
        match self {
            Operation::CreateModel(op) => format!("Create model {}", op.name),
            Operation::DeleteModel(op) => format!("Delete model {}", op.name),
            Operation::AddField(op) => format!("Add field {} to {}", op.field.name, op.model),
            Operation::RemoveField(op) => format!("Remove field {} from {}", op.name, op.model),
            Operation::AlterField(op) => format!("Alter field {} on {}", op.field.name, op.model),
            Operation::RenameField(op) => {
                format!("Rename field {} on {} to {}", op.old, op.model, op.new)
            }
            Operation::AddIndex(op) => format!("Add index {} on {}", op.index.name, op.model),
            Operation::RemoveIndex(op) => format!("Remove index {} from {}", op.name, op.model),
        }
    }

    /// The model (lower-case name) the operation is about.
    pub fn model(&self) -> &str {
        match self {
            Operation::CreateModel(op) => &op.name,
            Operation::DeleteModel(op) => &op.name,
            Operation::AddField(op) => &op.model,
            Operation::RemoveField(op) => &op.model,
            Operation::AlterField(op) => &op.model,
            Operation::RenameField(op) => &op.model,
            Operation::AddIndex(op) => &op.model,
            Operation::RemoveIndex(op) => &op.model,
        }
    }
}

macro_rules! into_operation {
    ($($ty:ident),*) => {
        $(impl From<$ty> for Operation {
            fn from(op: $ty) -> Operation {
                Operation::$ty(op)
            }
        })*
    };
}
into_operation!(
    CreateModel,
    DeleteModel,
    AddField,
    RemoveField,
    AlterField,
    RenameField,
    AddIndex,
    RemoveIndex
);

/// Creates model `name` with table `table`.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateModel {
    /// The model's lower-case name (`post`).
    pub name: String,
    /// Its table (`blog_post`).
    pub table: String,
    /// Its columns, in order.
    pub fields: Vec<Field>,
}

impl CreateModel {
    /// Model `name` stored in `table`, without fields yet.
    pub fn new(name: impl Into<String>, table: impl Into<String>) -> Self {
        CreateModel {
            name: name.into(),
            table: table.into(),
            fields: Vec::new(),
        }
    }

    /// Appends a column.
    pub fn field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }
}

/// Deletes model `name` and drops its table.
#[derive(Clone, Debug, PartialEq)]
pub struct DeleteModel {
    /// The model's lower-case name.
    pub name: String,
}

impl DeleteModel {
    /// Deletes model `name`.
    pub fn new(name: impl Into<String>) -> Self {
        DeleteModel { name: name.into() }
    }
}

/// Adds `field` to `model`; existing rows get its default (or NULL), or the
/// [one-off default](AddField::one_off_default).
#[derive(Clone, Debug, PartialEq)]
pub struct AddField {
    /// The model's lower-case name.
    pub model: String,
    /// The new column.
    pub field: Field,
    /// The value existing rows get when the field is NOT NULL without a
    /// default (`makemigrations --default app.model.field=VALUE`); the column
    /// keeps no default afterwards, as Django's `preserve_default=False`.
    pub one_off_default: Option<DefaultValue>,
}

impl AddField {
    /// Adds `field` to `model`.
    pub fn new(model: impl Into<String>, field: Field) -> Self {
        AddField {
            model: model.into(),
            field,
            one_off_default: None,
        }
    }

    /// The value existing rows get, once (the column keeps no default).
    pub fn one_off_default(mut self, value: impl Into<DefaultValue>) -> Self {
        self.one_off_default = Some(value.into());
        self
    }
}

/// Removes field `name` from `model`, and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoveField {
    /// The model's lower-case name.
    pub model: String,
    /// The field's name.
    pub name: String,
}

impl RemoveField {
    /// Removes `name` from `model`.
    pub fn new(model: impl Into<String>, name: impl Into<String>) -> Self {
        RemoveField {
            model: model.into(),
            name: name.into(),
        }
    }
}

/// Gives field `field.name` of `model` the definition `field`, keeping its
/// values (converted to a new type on PostgreSQL with `USING "column"::type`,
/// as Django does; a value that does not convert fails the migration).
#[derive(Clone, Debug, PartialEq)]
pub struct AlterField {
    /// The model's lower-case name.
    pub model: String,
    /// The field's whole new definition.
    pub field: Field,
    /// The value rows holding NULL get when the field becomes NOT NULL without
    /// a default (`makemigrations --default app.model.field=VALUE`), written
    /// by an `UPDATE ... WHERE column IS NULL` before the change.
    pub one_off_default: Option<DefaultValue>,
}

impl AlterField {
    /// Redefines a field of `model` as `field`.
    pub fn new(model: impl Into<String>, field: Field) -> Self {
        AlterField {
            model: model.into(),
            field,
            one_off_default: None,
        }
    }

    /// The value rows holding NULL get, once (the column keeps no default).
    pub fn one_off_default(mut self, value: impl Into<DefaultValue>) -> Self {
        self.one_off_default = Some(value.into());
        self
    }
}

/// Renames field `old` of `model` to `new`, keeping its values.
#[derive(Clone, Debug, PartialEq)]
pub struct RenameField {
    /// The model's lower-case name.
    pub model: String,
    /// The current name.
    pub old: String,
    /// The new name.
    pub new: String,
}

impl RenameField {
    /// Renames `old` to `new` on `model`.
    pub fn new(model: impl Into<String>, old: impl Into<String>, new: impl Into<String>) -> Self {
        RenameField {
            model: model.into(),
            old: old.into(),
            new: new.into(),
        }
    }
}

/// Adds `index` to `model`.
#[derive(Clone, Debug, PartialEq)]
pub struct AddIndex {
    /// The model's lower-case name.
    pub model: String,
    /// The index.
    pub index: Index,
}

impl AddIndex {
    /// Adds `index` to `model`.
    pub fn new(model: impl Into<String>, index: Index) -> Self {
        AddIndex {
            model: model.into(),
            index,
        }
    }
}

/// Removes index `name` from `model`.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoveIndex {
    /// The model's lower-case name.
    pub model: String,
    /// The index's name.
    pub name: String,
}

impl RemoveIndex {
    /// Removes index `name` from `model`.
    pub fn new(model: impl Into<String>, name: impl Into<String>) -> Self {
        RemoveIndex {
            model: model.into(),
            name: name.into(),
        }
    }
}

/// An index over columns of one table (field-level `index` and `unique`
/// are part of [`Field`]; this is for indexes over several columns).
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    /// Its name, unique in the database.
    pub name: String,
    /// The columns, in order.
    pub columns: Vec<String>,
    /// A unique index.
    pub unique: bool,
}

impl Index {
    /// A (non-unique) index `name` over `columns`.
    pub fn new<I, S>(name: impl Into<String>, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Index {
            name: name.into(),
            columns: columns.into_iter().map(Into::into).collect(),
            unique: false,
        }
    }

    /// Makes it a unique index.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
}

/// A column default.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
}

impl From<bool> for DefaultValue {
    fn from(v: bool) -> Self {
        DefaultValue::Bool(v)
    }
}
impl From<i64> for DefaultValue {
    fn from(v: i64) -> Self {
        DefaultValue::Int(v)
    }
}
impl From<i32> for DefaultValue {
    fn from(v: i32) -> Self {
        DefaultValue::Int(v.into())
    }
}
impl From<f64> for DefaultValue {
    fn from(v: f64) -> Self {
        DefaultValue::Float(v)
    }
}
impl From<&str> for DefaultValue {
    fn from(v: &str) -> Self {
        DefaultValue::Str(v.to_string())
    }
}
impl From<String> for DefaultValue {
    fn from(v: String) -> Self {
        DefaultValue::Str(v)
    }
}

impl From<crate::model::FieldDefault> for DefaultValue {
    fn from(v: crate::model::FieldDefault) -> Self {
        use crate::model::FieldDefault as D;
        match v {
            D::Bool(b) => DefaultValue::Bool(b),
            D::Int(i) => DefaultValue::Int(i),
            D::Float(f) => DefaultValue::Float(f),
            D::Str(s) => DefaultValue::Str(s.to_string()),
            D::Choice(stored) => DefaultValue::Str(stored().to_string()),
        }
    }
}

/// A foreign key: the column holds the primary key of a row of `table`.
#[derive(Clone, Debug, PartialEq)]
pub struct ForeignKey {
    /// The referenced table (`blog_author`).
    pub table: String,
    /// The referenced column, its primary key (`id`).
    pub column: String,
    /// What deleting the referenced row does.
    pub on_delete: OnDelete,
}

/// One column of a model, as migrations create it. Built like
/// `Field::string("title").max_length(200)` or
/// `Field::big_integer("author_id").references("blog_author", "id").on_delete(OnDelete::Cascade).index()`.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The field (and column) name.
    pub name: String,
    /// The column type.
    pub db_type: DbType,
    /// NULL allowed (`Option<T>`).
    pub null: bool,
    /// The primary key.
    pub primary_key: bool,
    /// Numbered by the database.
    pub auto_increment: bool,
    /// A unique constraint.
    pub unique: bool,
    /// A (non-unique) index, named `idx-{table}-{column}`.
    pub index: bool,
    /// The column default.
    pub default: Option<DefaultValue>,
    /// A foreign key, named `fk-{table}-{column}`.
    pub references: Option<ForeignKey>,
}

macro_rules! field_constructors {
    ($($(#[$doc:meta])* $fn:ident => $ty:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $fn(name: impl Into<String>) -> Self {
                Field::new(name, $ty)
            }
        )*
    };
}

impl Field {
    /// A NOT NULL column `name` of type `db_type`, with no constraint.
    pub fn new(name: impl Into<String>, db_type: DbType) -> Self {
        Field {
            name: name.into(),
            db_type,
            null: false,
            primary_key: false,
            auto_increment: false,
            unique: false,
            index: false,
            default: None,
            references: None,
        }
    }

    field_constructors! {
        /// `i16`.
        small_integer => DbType::SmallInteger;
        /// `i32`.
        integer => DbType::Integer;
        /// `i64`.
        big_integer => DbType::BigInteger;
        /// `f32`.
        float => DbType::Float;
        /// `f64`.
        double => DbType::Double;
        /// `bool`.
        boolean => DbType::Boolean;
        /// `String` without a length limit (VARCHAR); see [`Field::max_length`].
        string => DbType::String(None);
        /// `#[field(text)] String`.
        text => DbType::Text;
        /// `NaiveDate`.
        date => DbType::Date;
        /// `DateTime<Utc>`.
        date_time => DbType::DateTime;
        /// `Uuid`.
        uuid => DbType::Uuid;
        /// `serde_json::Value`.
        json => DbType::Json;
    }

    /// `Decimal` with `max_digits` digits, `decimal_places` of them after the point.
    pub fn decimal(name: impl Into<String>, max_digits: u32, decimal_places: u32) -> Self {
        Field::new(name, DbType::Decimal(max_digits, decimal_places))
    }

    /// VARCHAR(`max_length`): a string column's length limit.
    pub fn max_length(mut self, max_length: u32) -> Self {
        self.db_type = DbType::String(Some(max_length));
        self
    }

    /// NULL allowed.
    pub fn null(mut self) -> Self {
        self.null = true;
        self
    }

    /// The primary key.
    pub fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self
    }

    /// Numbered by the database (integer primary keys).
    pub fn auto_increment(mut self) -> Self {
        self.auto_increment = true;
        self
    }

    /// A unique constraint.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// A (non-unique) index.
    pub fn index(mut self) -> Self {
        self.index = true;
        self
    }

    /// The column default.
    pub fn default(mut self, value: impl Into<DefaultValue>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// A foreign key to `column` of `table`, `ON DELETE RESTRICT` unless
    /// [`Field::on_delete`] follows.
    pub fn references(mut self, table: impl Into<String>, column: impl Into<String>) -> Self {
        self.references = Some(ForeignKey {
            table: table.into(),
            column: column.into(),
            on_delete: OnDelete::Restrict,
        });
        self
    }

    /// What deleting the referenced row does (after [`Field::references`]).
    pub fn on_delete(mut self, action: OnDelete) -> Self {
        if let Some(key) = &mut self.references {
            key.on_delete = action;
        }
        self
    }

    /// The same definition under another name.
    pub fn renamed(&self, name: &str) -> Field {
        Field {
            name: name.to_string(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `builtin/mod.rs` listing built-in apps `labels`, in dependency order.
    fn render_builtin_index(labels: &[String]) -> String {
        let mut out = String::from(
            "//! Migrations of the built-in apps, written by the migration writer.\n\
             //! Regenerate them after changing or adding a built-in model (see\n\
             //! `ferrobridge::migrations::builtin_models`):\n\
             //! `FERROBRIDGE_WRITE_BUILTIN_MIGRATIONS=1 cargo test -p ferrobridge builtin_migrations`.\n\n",
        );
        for label in labels {
            out.push_str(&format!("pub mod {label};\n"));
        }
        out.push_str(
            "\n/// Every built-in app's migrations, in dependency order.\n\
             pub fn all() -> Vec<crate::migrations::AppMigrations> {\n    vec![",
        );
        let calls: Vec<String> = labels.iter().map(|l| format!("{l}::all()")).collect();
        out.push_str(&calls.join(", "));
        out.push_str("]\n}\n");
        out
    }

    /// The built-in models' labels, in dependency order.
    fn builtin_labels() -> Vec<String> {
        let mut labels: Vec<String> = Vec::new();
        for meta in builtin_models() {
            if !labels.iter().any(|l| l == meta.app_label) {
                labels.push(meta.app_label.to_string());
            }
        }
        labels
    }

    /// Fails when the built-in models changed without their migrations;
    /// with `FERROBRIDGE_WRITE_BUILTIN_MIGRATIONS=1`, writes them instead.
    #[test]
    fn builtin_migrations() {
        const REGENERATE: &str =
            "FERROBRIDGE_WRITE_BUILTIN_MIGRATIONS=1 cargo test -p ferrobridge builtin_migrations";
        let labels = builtin_labels();
        let migrator = Migrator::new(builtin::all());
        let from = migrator
            .state()
            .unwrap_or_else(|e| panic!("the built-in migrations do not replay: {e}"));
        let to = ProjectState::from_models(builtin_models());
        let changes = detect_changes(
            &from,
            &to,
            &labels,
            DetectOptions {
                renames: Vec::new(),
                ask: None,
                defaults: Vec::new(),
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        if std::env::var_os("FERROBRIDGE_WRITE_BUILTIN_MIGRATIONS").is_none() {
            let apps: Vec<&str> = changes.apps.iter().map(|c| c.app.as_str()).collect();
            assert!(
                changes.is_empty(),
                "the built-in models of {apps:?} changed without a migration: run `{REGENERATE}`"
            );
            return;
        }
        let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let planned = plan_migrations(&migrator, &changes, None, |label| {
            Some((manifest.clone(), format!("src/migrations/builtin/{label}")))
        })
        .expect("plan");
        let written = write_planned(&planned).expect("write the migrations");
        let index = manifest.join("src/migrations/builtin/mod.rs");
        std::fs::write(&index, render_builtin_index(&labels)).expect("write builtin/mod.rs");
        writer::format_files(std::slice::from_ref(&index));
        for file in written {
            eprintln!("wrote {}", file.display());
        }
    }

    #[test]
    fn reverse_of_each_operation_restores_the_state() {
        let create = CreateModel::new("book", "library_book")
            .field(Field::big_integer("id").primary_key().auto_increment())
            .field(Field::string("title").max_length(100));
        let mut before = ProjectState::default();
        before.apply("library", &create.into()).expect("create");
        let operations: Vec<Operation> = vec![
            AddField::new("book", Field::boolean("read").default(false)).into(),
            AlterField::new("book", Field::string("title").max_length(200).null()).into(),
            RenameField::new("book", "title", "headline").into(),
            AddIndex::new("book", Index::new("book_title", ["title"])).into(),
            RemoveField::new("book", "title").into(),
            DeleteModel::new("book").into(),
        ];
        for operation in operations {
            let mut after = before.clone();
            if after.apply("library", &operation).is_err() {
                continue;
            }
            let reverse = before.reverse("library", &operation).expect("reverse");
            after.apply("library", &reverse).expect("apply the reverse");
            assert_eq!(after, before, "{} then its reverse", operation.describe());
        }
    }
}
