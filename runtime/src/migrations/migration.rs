//! A migration as its file declares it: its name, what it comes after,
//! its operations and its hand-written data steps; and the migrations of
//! one app, with the directory their files live in.

use std::path::PathBuf;

use super::Operation;

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
    /// Faked, like the app's first migration, when it only creates models
    /// whose tables all exist (Django's `initial = True`): a later
    /// migration adding a model to a database made from the models.
    pub initial: bool,
}

impl Migration {
    /// An empty migration called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Migration {
            name: name.into(),
            dependencies: Vec::new(),
            operations: Vec::new(),
            code: Vec::new(),
            initial: false,
        }
    }

    /// Marks it [`Migration::initial`].
    pub fn initial(mut self) -> Self {
        self.initial = true;
        self
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
