//! Everything that can go wrong making, planning or applying migrations, as
//! one type: each failure a variant carrying what it is about, so callers
//! match on the kind (a dependency cycle, an ambiguous name, a refused
//! conversion) instead of reading a message.
//!
//! The messages are what `makemigrations` and `migrate` print, and each
//! names the way out. Variants that wrap another error (a failing step, a
//! migration that does not replay) say its text in their own, so they do
//! not also report it as their `source()`: `{error:#}` would print it twice.

use sea_orm::DbErr;

/// Why a migration could not be made, planned or applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// A migration names, in `depends_on`, one that no app registers.
    #[error("migration {app}.{name} is named as a dependency but not registered")]
    UnregisteredDependency {
        /// The app label of the missing migration.
        app: String,
        /// Its name.
        name: String,
    },
    /// The declared dependencies loop back to a migration.
    #[error(
        "migrations depend on each other in a cycle through {app}.{name}: remove the \
         `.depends_on(...)` that closes it (for foreign keys between two apps, \
         makemigrations puts the one that closes the cycle in a later migration)"
    )]
    DependencyCycle {
        /// The app label of a migration on the cycle.
        app: String,
        /// Its name.
        name: String,
    },
    /// No registered migration has this exact name.
    #[error("no migration {app}.{name}")]
    UnknownMigration {
        /// The app label.
        app: String,
        /// The name looked for.
        name: String,
    },
    /// A command named an app that has no migrations.
    #[error("app `{app}` has no migrations")]
    NoMigrations {
        /// The app label.
        app: String,
    },
    /// No migration of the app starts with the name given on the command line.
    #[error("app `{app}` has no migration `{prefix}` (see `showmigrations {app}`)")]
    NoMatchingMigration {
        /// The app label.
        app: String,
        /// The name (or its start) as given.
        prefix: String,
    },
    /// Several migrations of the app start with the name given.
    #[error("more than one migration of app `{app}` starts with `{prefix}`: be more precise")]
    AmbiguousPrefix {
        /// The app label.
        app: String,
        /// The start of a name, as given.
        prefix: String,
    },
    /// An operation names a model the state does not have.
    #[error("app `{app}` has no model `{model}`")]
    UnknownModel {
        /// The app label.
        app: String,
        /// The model's lower-case name.
        model: String,
    },
    /// An operation names a field the model does not have.
    #[error("model `{model}` has no field `{field}`")]
    UnknownField {
        /// The model's lower-case name.
        model: String,
        /// The field's name.
        field: String,
    },
    /// An operation names an index the model does not have.
    #[error("model `{model}` has no index `{index}`")]
    UnknownIndex {
        /// The model's lower-case name.
        model: String,
        /// The index's name.
        index: String,
    },
    /// `CreateModel` of a model the state has already.
    #[error("model `{model}` exists already")]
    ModelExists {
        /// The model's lower-case name.
        model: String,
    },
    /// `AddField` or `RenameField` to a name the model has already.
    #[error("model `{model}` has a field `{field}` already")]
    FieldExists {
        /// The model's lower-case name.
        model: String,
        /// The field's name.
        field: String,
    },
    /// `AddIndex` of a name the model has already.
    #[error("index `{index}` exists already")]
    IndexExists {
        /// The index's name.
        index: String,
    },
    /// A registered migration does not replay on the state before it.
    #[error("migration {app}.{name}: {error}")]
    InMigration {
        /// Its app label.
        app: String,
        /// Its name.
        name: String,
        /// What went wrong in it.
        error: Box<MigrationError>,
    },
    /// `--rename` names a model none of the apps has.
    #[error("--rename {model}.{old}={new}: there is no model `{model}` in {}", .apps.join(", "))]
    RenameUnknownModel {
        /// The model, as given.
        model: String,
        /// The old field name, as given.
        old: String,
        /// The new field name, as given.
        new: String,
        /// The app labels looked at.
        apps: Vec<String>,
    },
    /// `--rename` names as old a field the models did not lose.
    #[error(
        "--rename {model}.{old}={new}: `{model}` had no field `{old}` that the models no longer have"
    )]
    RenameUnknownOldField {
        /// The model.
        model: String,
        /// The old field name, as given.
        old: String,
        /// The new field name, as given.
        new: String,
    },
    /// `--rename` names as new a field the models did not gain.
    #[error("--rename {model}.{old}={new}: `{model}` has no new field `{new}`")]
    RenameUnknownNewField {
        /// The model.
        model: String,
        /// The old field name, as given.
        old: String,
        /// The new field name, as given.
        new: String,
    },
    /// A field gone and one of the same type new, with nobody to ask whether
    /// it is a rename (`--noinput`).
    #[error(
        "model `{app}.{model}` lost field `{old}` and gained `{new}` of the same type: \
         if it was renamed, run again with `--rename {model}.{old}={new}`; if not, remove \
         the old field in one migration and add the new one in the next \
         (or answer the question on a terminal, without --noinput)"
    )]
    PossibleRename {
        /// The app label.
        app: String,
        /// The model's lower-case name.
        model: String,
        /// The field the models lost.
        old: String,
        /// The field the models gained.
        new: String,
    },
    /// A model's table changed, which migrations do not support.
    #[error(
        "model `{app}.{model}` moved from table `{old_table}` to `{new_table}`: renaming tables \
         is not supported; keep `#[model(table = \"{old_table}\")]`"
    )]
    TableRenamed {
        /// The app label.
        app: String,
        /// The model's lower-case name.
        model: String,
        /// The table the migrations made.
        old_table: String,
        /// The table the model names now.
        new_table: String,
    },
    /// A field became or stopped being the primary key.
    #[error("`{app}.{model}.{field}`: changing the primary key is not supported by makemigrations")]
    PrimaryKeyChanged {
        /// The app label.
        app: String,
        /// The model's lower-case name.
        model: String,
        /// The field.
        field: String,
    },
    /// `makemigrations` refuses a new NOT NULL field without a default or a
    /// one-off value for the existing rows.
    #[error(
        "cannot add the NOT NULL field `{app}.{model}.{field}` without a default: existing rows \
         need a value. Give it `#[field(default = ...)]`, or run `makemigrations --default \
         {app}.{model}.{field}=VALUE` to give those rows VALUE once (the column keeps no \
         default), or make it an `Option<{rust_type}>`"
    )]
    AddedNotNullWithoutDefault {
        /// The app label.
        app: String,
        /// The model's lower-case name.
        model: String,
        /// The field.
        field: String,
        /// Its Rust type (`i32`), for the `Option<...>` way out.
        rust_type: &'static str,
    },
    /// `makemigrations` refuses a nullable field made NOT NULL without a
    /// default or a one-off value for the rows holding NULL.
    #[error(
        "cannot make NOT NULL the nullable field `{app}.{model}.{field}` without a default: rows \
         holding NULL need a value. Give it `#[field(default = ...)]`, or run `makemigrations \
         --default {app}.{model}.{field}=VALUE` to give those rows VALUE once (the column keeps \
         no default), or make it an `Option<{rust_type}>`"
    )]
    MadeNotNullWithoutDefault {
        /// The app label.
        app: String,
        /// The model's lower-case name.
        model: String,
        /// The field.
        field: String,
        /// Its Rust type (`i32`), for the `Option<...>` way out.
        rust_type: &'static str,
    },
    /// A `--default` that is not `[app.]model.field=VALUE`.
    #[error(
        "--default takes `app.model.field=VALUE` or `model.field=VALUE` \
         (e.g. `blog.post.rating=0`), not `{raw}`"
    )]
    OneOffDefaultSyntax {
        /// The argument as given.
        raw: String,
    },
    /// A `--default` whose value the field's type cannot hold.
    #[error("--default {model}.{field}={value}: `{field}` is {expected}, and `{}` is not one", .value.trim())]
    OneOffDefaultValue {
        /// The model.
        model: String,
        /// The field.
        field: String,
        /// The value, as given.
        value: String,
        /// What the field takes, in words (`an integer`).
        expected: &'static str,
    },
    /// A `--default` for a field that needs none in this migration.
    #[error(
        "--default {model}.{field}={value}: no field `{field}` of model `{model}` is added or made \
         NOT NULL without a default in this migration"
    )]
    UnusedOneOffDefault {
        /// The model.
        model: String,
        /// The field.
        field: String,
        /// The value, as given.
        value: String,
    },
    /// `makemigrations` does not know where an app's first migration goes.
    #[error(
        "app `{app}` has no registered migrations and the crate's directory is unknown: run \
         through `cargo run -- makemigrations`, or register `AppMigrations::new(\"{app}\", \
         env!(\"CARGO_MANIFEST_DIR\"), \"src/migrations\")` with `App::migrations`"
    )]
    UnknownLocation {
        /// The app label.
        app: String,
    },
    /// `migrate` finds rows holding NULL in a column an `AlterField` makes
    /// NOT NULL without a value for them.
    #[error(
        "cannot make the column `{table}.{column}` NOT NULL: rows hold NULL there. Give the \
         field `#[field(default = ...)]`, or give this AlterField `.one_off_default(VALUE)` \
         (`makemigrations --default {app}.{model}.{column}=VALUE` writes it), or set those \
         rows first"
    )]
    NullsInNotNullColumn {
        /// The app label.
        app: String,
        /// The model's lower-case name.
        model: String,
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// `migrate` finds rows in a table an `AddField` gives a NOT NULL column
    /// without a value for them.
    #[error(
        "cannot add the NOT NULL column `{table}.{column}` without a default: the table has \
         rows, and they need a value. Give the field `#[field(default = ...)]` or make it \
         nullable, or give this AddField `.one_off_default(VALUE)` \
         (`makemigrations --default {app}.{model}.{column}=VALUE` writes it)"
    )]
    RowsNeedValue {
        /// The app label.
        app: String,
        /// The model's lower-case name.
        model: String,
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A value does not convert to a column's new type.
    #[error(
        "cannot convert column `{table}.{column}` from {from} to {to}: {reason}. Change or clear \
         the values that are not a valid {to}, then migrate again (nothing was changed)"
    )]
    ConversionRefused {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The old type's Rust name (`String`).
        from: &'static str,
        /// The new type's Rust name (`i32`).
        to: &'static str,
        /// Why, naming the value where the database says it.
        reason: String,
    },
    /// After the migration, rows reference rows that are gone (checked on
    /// SQLite, whose migration connection does not enforce foreign keys).
    #[error(
        "rows of `{table}` reference missing rows of `{parent}`: the migration was rolled back"
    )]
    BrokenForeignKeys {
        /// The referencing table.
        table: String,
        /// The referenced table.
        parent: String,
    },
    /// The connection for migrations did not open: SQLite's (foreign keys
    /// off), or PostgreSQL's holding the migration lock.
    #[error("cannot open a migration connection: {reason}")]
    MigrationConnection {
        /// The driver's words.
        reason: String,
    },
    /// The database-wide [`MigrationLock`](super::MigrationLock) could not be
    /// taken (on SQLite: another run held it longer than the wait).
    #[error("cannot take the migration lock: {reason}")]
    Lock {
        /// The driver's words.
        reason: String,
    },
    /// A migration's [`RunCode`](super::RunCode) step failed.
    #[error("{description}: {error}")]
    RunCode {
        /// The step's description.
        description: String,
        /// Its error.
        error: DbErr,
    },
    /// One step of a plan failed; the migration was rolled back.
    #[error("{} {app}.{name}: {error}", verb(.backwards))]
    Step {
        /// The migration's app label.
        app: String,
        /// Its name.
        name: String,
        /// It was being unapplied.
        backwards: bool,
        /// What went wrong.
        error: Box<MigrationError>,
    },
    /// The database refused a statement.
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// What a step was doing, for [`MigrationError::Step`].
fn verb(backwards: &bool) -> &'static str {
    if *backwards { "unapplying" } else { "applying" }
}

impl MigrationError {
    /// The error under any [`Step`](Self::Step) and
    /// [`InMigration`](Self::InMigration) wrappers: what actually went wrong.
    pub fn root(&self) -> &MigrationError {
        match self {
            MigrationError::Step { error, .. } | MigrationError::InMigration { error, .. } => {
                error.root()
            }
            other => other,
        }
    }
}
