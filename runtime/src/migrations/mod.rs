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
//! the same writer. After changing or adding a built-in model (one of those
//! `App::new` registers, listed by `app::builtin_models`), regenerate them with
//! `FERROBRIDGE_WRITE_BUILTIN_MIGRATIONS=1 cargo test -p ferrobridge builtin_migrations`.
//!
//! # Where things are
//!
//! A migration as declared: `migration` (a migration, an app's list),
//! `operation` (the operations), `field` (columns). What `makemigrations`
//! does: `state` (the models as the operations leave them), `autodetect`
//! (the difference from the models), `writer` (the Rust files). What
//! `migrate` does: `plan` (the dependency graph and the steps, no SQL),
//! `runner` (each step in a transaction, the record of applied migrations),
//! `schema_editor` (each operation as DDL, per backend). Every failure is a
//! [`MigrationError`]. This module uses only the metadata ([`crate::model`])
//! and the database layer ([`crate::db`]) below it; the app registers the
//! built-in models and migrations.

mod autodetect;
pub mod builtin;
mod error;
mod field;
mod migration;
mod operation;
mod plan;
mod runner;
mod schema_editor;
mod state;
mod writer;

pub use crate::db::table_names;
pub use crate::model::{DbType, OnDelete};
pub use autodetect::{AppChanges, Changes, DetectOptions, OneOffDefault, detect_changes};
pub use error::MigrationError;
pub use field::{DefaultValue, Field, ForeignKey};
pub use migration::{AppMigrations, CodeFn, Migration, MigrationTransaction, RunCode};
pub use operation::{
    AddField, AddIndex, AlterField, CreateModel, DeleteModel, Index, Operation, RemoveField,
    RemoveIndex, RenameField,
};
pub use plan::{MigrationPlan, Migrator, Step};
pub use runner::{MigrationLock, StepOutcome};
pub(crate) use schema_editor::ordering_index_statement;
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

/// The table `migrate` records applied migrations in.
pub const RECORD_TABLE: &str = "ferrobridge_migrations";

#[cfg(test)]
mod tests {
    use super::*;

    /// The `builtin/mod.rs` listing built-in apps `labels`, in dependency order.
    fn render_builtin_index(labels: &[String]) -> String {
        let mut out = String::from(
            "//! Migrations of the built-in apps, written by the migration writer.\n\
             //! Regenerate them after changing or adding a built-in model (see\n\
             //! `ferrobridge::app::builtin_models`):\n\
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
        for meta in crate::app::builtin_models() {
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
        let to = ProjectState::from_models(crate::app::builtin_models());
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
