//! Writes migrations as Rust source: one file per migration and the
//! `mod.rs` that lists them.

use std::path::PathBuf;

use super::autodetect::Changes;
use super::plan::Migrator;
use super::{DbType, DefaultValue, Field, Migration, MigrationError, OnDelete, Operation};

/// A migration `makemigrations` is about to write.
#[derive(Clone, Debug)]
pub struct PlannedMigration {
    /// Its app label.
    pub app: String,
    /// The crate directory (`CARGO_MANIFEST_DIR`) it is written under.
    pub manifest_dir: PathBuf,
    /// Its directory inside the crate (`src/migrations`).
    pub dir: String,
    /// The migration.
    pub migration: Migration,
    /// Every migration name of the app, this one last (for `mod.rs`).
    pub names: Vec<String>,
}

impl PlannedMigration {
    /// The file the migration goes to (`.../src/migrations/m0002_post_add_subtitle.rs`).
    pub fn file(&self) -> PathBuf {
        self.manifest_dir
            .join(&self.dir)
            .join(format!("{}.rs", module_name(&self.migration.name)))
    }
}

/// The Rust module of migration `name`: `m0002_post_add_subtitle`
/// (a module name cannot start with a digit).
pub fn module_name(name: &str) -> String {
    format!("m{name}")
}

/// Numbers and names the migrations for `changes`: `--name` when given,
/// `initial` for an app's first, else words from the operations. Each
/// depends on the latest migration (registered, or planned before it) of
/// every other app whose models it holds a foreign key to. `location` says where an app without registered
/// migrations keeps them (`(manifest_dir, dir)`), or `None` when that is unknown.
pub fn plan_migrations(
    migrator: &Migrator,
    changes: &Changes,
    name: Option<&str>,
    location: impl Fn(&str) -> Option<(PathBuf, String)>,
) -> Result<Vec<PlannedMigration>, MigrationError> {
    let mut planned: Vec<PlannedMigration> = Vec::new();
    for app_changes in &changes.apps {
        let app = &app_changes.app;
        let (manifest_dir, dir) = match migrator.app(app) {
            Some(registered) => (registered.manifest_dir.clone(), registered.dir.clone()),
            None => {
                location(app).ok_or_else(|| MigrationError::UnknownLocation { app: app.clone() })?
            }
        };
        let existing = migrations_of(migrator, &planned, app);
        let number = existing
            .iter()
            .filter_map(|m| m.number())
            .max()
            .unwrap_or(0)
            + 1;
        let suffix = match name {
            Some(name) => sanitize(name),
            None if existing.is_empty() => "initial".to_string(),
            None => auto_name(&app_changes.operations),
        };
        let mut migration = Migration::new(format!("{number:04}_{suffix}"));
        for (other, target) in dependencies(migrator, &planned, &app_changes.references) {
            migration = migration.depends_on(other, target);
        }
        migration.operations = app_changes.operations.clone();
        let mut names: Vec<String> = existing.iter().map(|m| m.name.clone()).collect();
        names.push(migration.name.clone());
        planned.push(PlannedMigration {
            app: app.clone(),
            manifest_dir,
            dir,
            migration,
            names,
        });
    }
    Ok(planned)
}

/// The migrations of `app`: registered, then planned so far.
fn migrations_of<'a>(
    migrator: &'a Migrator,
    planned: &'a [PlannedMigration],
    app: &str,
) -> Vec<&'a Migration> {
    let registered = migrator
        .app(app)
        .map(|a| a.migrations.iter().collect::<Vec<_>>())
        .unwrap_or_default();
    registered
        .into_iter()
        .chain(
            planned
                .iter()
                .filter(|p| p.app == app)
                .map(|p| &p.migration),
        )
        .collect()
}

/// For each app of `references` (`(app, model)` pairs), its latest migration
/// (registered or planned before), as Django's autodetector picks: the
/// referenced models exist after it; apps without any are skipped.
fn dependencies(
    migrator: &Migrator,
    planned: &[PlannedMigration],
    references: &[(String, String)],
) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for (app, _) in references {
        if found.iter().any(|(a, _)| a == app) {
            continue;
        }
        if let Some(latest) = migrations_of(migrator, planned, app).last() {
            found.push((app.clone(), latest.name.clone()));
        }
    }
    found
}

/// Lower-case words and underscores only, so the name is a module name.
fn sanitize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "auto".to_string()
    } else {
        out
    }
}

/// Django's naming: one fragment per operation (`post_add_subtitle`),
/// joined, or the first one and `_and_more` when that gets long.
fn auto_name(operations: &[Operation]) -> String {
    let fragments: Vec<String> = operations
        .iter()
        .map(|op| match op {
            Operation::CreateModel(op) => op.name.clone(),
            Operation::DeleteModel(op) => format!("delete_{}", op.name),
            Operation::AddField(op) => format!("{}_add_{}", op.model, op.field.name),
            Operation::RemoveField(op) => format!("{}_remove_{}", op.model, op.name),
            Operation::AlterField(op) => format!("{}_alter_{}", op.model, op.field.name),
            Operation::RenameField(op) => format!("{}_rename_{}_{}", op.model, op.old, op.new),
            Operation::AddIndex(op) => format!("{}_add_index", op.model),
            Operation::RemoveIndex(op) => format!("{}_remove_index", op.model),
        })
        .collect();
    let joined = fragments.join("_");
    let name = if joined.len() > 52 {
        format!("{}_and_more", fragments[0])
    } else {
        joined
    };
    sanitize(&name)
}

fn field_code(field: &Field) -> String {
    let name = format!("{:?}", field.name);
    let mut code = match field.db_type {
        DbType::SmallInteger => format!("Field::small_integer({name})"),
        DbType::Integer => format!("Field::integer({name})"),
        DbType::BigInteger => format!("Field::big_integer({name})"),
        DbType::Float => format!("Field::float({name})"),
        DbType::Double => format!("Field::double({name})"),
        DbType::Boolean => format!("Field::boolean({name})"),
        DbType::String(None) => format!("Field::string({name})"),
        DbType::String(Some(n)) => format!("Field::string({name}).max_length({n})"),
        DbType::Text => format!("Field::text({name})"),
        DbType::Decimal(d, p) => format!("Field::decimal({name}, {d}, {p})"),
        DbType::Date => format!("Field::date({name})"),
        DbType::DateTime => format!("Field::date_time({name})"),
        DbType::Uuid => format!("Field::uuid({name})"),
        DbType::Json => format!("Field::json({name})"),
    };
    for (set, method) in [
        (field.null, ".null()"),
        (field.primary_key, ".primary_key()"),
        (field.auto_increment, ".auto_increment()"),
        (field.unique, ".unique()"),
        (field.index, ".index()"),
    ] {
        if set {
            code.push_str(method);
        }
    }
    if let Some(default) = &field.default {
        code.push_str(&format!(".default({})", value_code(default)));
    }
    if let Some(key) = &field.references {
        code.push_str(&format!(".references({:?}, {:?})", key.table, key.column));
        match key.on_delete {
            OnDelete::Restrict => {}
            OnDelete::Cascade => code.push_str(".on_delete(OnDelete::Cascade)"),
            OnDelete::SetNull => code.push_str(".on_delete(OnDelete::SetNull)"),
        }
    }
    code
}

/// A default as a Rust literal `DefaultValue` converts from.
fn value_code(value: &DefaultValue) -> String {
    match value {
        DefaultValue::Bool(b) => b.to_string(),
        DefaultValue::Int(i) if i32::try_from(*i).is_ok() => i.to_string(),
        DefaultValue::Int(i) => format!("{i}_i64"),
        DefaultValue::Float(f) => format!("{f:?}"),
        DefaultValue::Str(s) => format!("{s:?}"),
    }
}

/// `.one_off_default(VALUE)` after an `AddField`/`AlterField`, when it has one.
fn one_off_code(value: Option<&DefaultValue>) -> String {
    value
        .map(|v| format!(".one_off_default({})", value_code(v)))
        .unwrap_or_default()
}

fn operation_code(operation: &Operation) -> String {
    match operation {
        Operation::CreateModel(op) => {
            let mut code = format!("CreateModel::new({:?}, {:?})", op.name, op.table);
            for field in &op.fields {
                code.push_str(&format!("\n                .field({})", field_code(field)));
            }
            code
        }
        Operation::DeleteModel(op) => format!("DeleteModel::new({:?})", op.name),
        Operation::AddField(op) => format!(
            "AddField::new({:?}, {}){}",
            op.model,
            field_code(&op.field),
            one_off_code(op.one_off_default.as_ref())
        ),
        Operation::RemoveField(op) => format!("RemoveField::new({:?}, {:?})", op.model, op.name),
        Operation::AlterField(op) => format!(
            "AlterField::new({:?}, {}){}",
            op.model,
            field_code(&op.field),
            one_off_code(op.one_off_default.as_ref())
        ),
        Operation::RenameField(op) => format!(
            "RenameField::new({:?}, {:?}, {:?})",
            op.model, op.old, op.new
        ),
        Operation::AddIndex(op) => {
            let columns: Vec<String> = op.index.columns.iter().map(|c| format!("{c:?}")).collect();
            format!(
                "AddIndex::new({:?}, Index::new({:?}, [{}]){})",
                op.model,
                op.index.name,
                columns.join(", "),
                if op.index.unique { ".unique()" } else { "" }
            )
        }
        Operation::RemoveIndex(op) => format!("RemoveIndex::new({:?}, {:?})", op.model, op.name),
    }
}

/// The Rust source of `migration` of app `app`.
pub fn render_migration(app: &str, migration: &Migration) -> String {
    let mut out = format!(
        "//! Migration `{}` of app `{app}`, written by `makemigrations`:\n//!\n",
        migration.name
    );
    for operation in &migration.operations {
        out.push_str(&format!("//! - {}\n", operation.describe()));
    }
    out.push_str(
        "//!\n//! `migrate` applies it, and unapplies it by reversing each operation.\n\n\
         use ferrobridge::migrations::prelude::*;\n\n\
         /// The migration: its dependencies and operations, in order.\n\
         pub fn migration() -> Migration {\n",
    );
    out.push_str(&format!("    Migration::new({:?})", migration.name));
    for (app, name) in &migration.dependencies {
        out.push_str(&format!("\n        .depends_on({app:?}, {name:?})"));
    }
    for operation in &migration.operations {
        out.push_str(&format!(
            "\n        .operation(\n            {},\n        )",
            operation_code(operation)
        ));
    }
    out.push_str("\n}\n");
    out
}

/// The `mod.rs` listing migrations `names` of app `app`, kept in `dir` of their crate.
pub fn render_module(app: &str, dir: &str, names: &[String]) -> String {
    let mut out = format!(
        "//! The migrations of app `{app}`, in order. Written by `makemigrations`,\n\
         //! which rewrites this file with each new migration.\n\n"
    );
    for name in names {
        out.push_str(&format!("mod {};\n", module_name(name)));
    }
    out.push_str(&format!(
        "\n/// The migrations of app `{app}`: register them with `App::migrations(...)`.\n\
         pub fn all() -> ferrobridge::migrations::AppMigrations {{\n    \
         ferrobridge::migrations::AppMigrations::new({app:?}, env!(\"CARGO_MANIFEST_DIR\"), {dir:?})"
    ));
    for name in names {
        out.push_str(&format!(
            "\n        .migration({}::migration())",
            module_name(name)
        ));
    }
    out.push_str("\n}\n");
    out
}

/// Writes each planned migration and its app's `mod.rs`, formatted with
/// `rustfmt` when it is installed; returns the files written.
pub fn write_planned(planned: &[PlannedMigration]) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for plan in planned {
        let dir = plan.manifest_dir.join(&plan.dir);
        std::fs::create_dir_all(&dir)?;
        let file = plan.file();
        std::fs::write(&file, render_migration(&plan.app, &plan.migration))?;
        let module = dir.join("mod.rs");
        std::fs::write(&module, render_module(&plan.app, &plan.dir, &plan.names))?;
        written.push(file);
        written.push(module);
    }
    format_files(&written);
    Ok(written)
}

/// Runs `rustfmt` on `files` so they read as the rest of the code; the
/// files are valid Rust without it, so a missing `rustfmt` is no error.
pub(crate) fn format_files(files: &[PathBuf]) {
    let rustfmt = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let _ = std::process::Command::new(rustfmt)
        .args(["--edition", "2024"])
        .args(files.iter().map(|f| f.as_os_str()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}
