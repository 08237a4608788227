//! `makemigrations`' comparison: the operations that take the state the
//! migrations describe to the state the models describe.

use std::collections::BTreeSet;

use super::state::{ModelState, ProjectState};
use super::{
    AddField, AddIndex, AlterField, CreateModel, DeleteModel, Field, Operation, RemoveField,
    RemoveIndex, RenameField,
};

/// How to treat fields that may have been renamed.
pub struct DetectOptions<'a> {
    /// `--rename post.title=headline`: `(model, old, new)`.
    pub renames: Vec<(String, String, String)>,
    /// Asks a yes/no question on a terminal; `None` with `--noinput`, when
    /// an unanswered possible rename is an error naming the flag.
    pub ask: Option<&'a mut dyn FnMut(&str) -> bool>,
}

/// The operations of one app.
#[derive(Clone, Debug, PartialEq)]
pub struct AppChanges {
    /// The app label.
    pub app: String,
    /// The operations, in order.
    pub operations: Vec<Operation>,
    /// Other apps whose tables these operations reference.
    pub depends_on_apps: Vec<String>,
}

/// What changed, app by app (only apps with changes).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// The apps with changes.
    pub apps: Vec<AppChanges>,
}

impl Changes {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty()
    }
}

/// Compares `from` (the migrations' state) with `to` (the models') for the
/// apps `apps`, in that order.
pub fn detect_changes(
    from: &ProjectState,
    to: &ProjectState,
    apps: &[String],
    mut options: DetectOptions<'_>,
) -> Result<Changes, String> {
    for (model, old, new) in &options.renames {
        let known = to
            .models
            .values()
            .any(|m| apps.contains(&m.app) && m.name == *model);
        if !known {
            return Err(format!(
                "--rename {model}.{old}={new}: there is no model `{model}` in {}",
                apps.join(", ")
            ));
        }
    }
    let mut changes = Changes::default();
    for app in apps {
        let operations = detect_app(from, to, app, &mut options)?;
        if operations.is_empty() {
            continue;
        }
        let own_tables: BTreeSet<&str> = to
            .models
            .values()
            .filter(|m| m.app == *app)
            .map(|m| m.table.as_str())
            .collect();
        let mut depends_on_apps: Vec<String> = Vec::new();
        for operation in &operations {
            let fields: Vec<&Field> = match operation {
                Operation::CreateModel(op) => op.fields.iter().collect(),
                Operation::AddField(op) => vec![&op.field],
                Operation::AlterField(op) => vec![&op.field],
                _ => Vec::new(),
            };
            for key in fields.iter().filter_map(|f| f.references.as_ref()) {
                if own_tables.contains(key.table.as_str()) {
                    continue;
                }
                if let Some(target) = to.model_by_table(&key.table)
                    && !depends_on_apps.contains(&target.app)
                {
                    depends_on_apps.push(target.app.clone());
                }
            }
        }
        changes.apps.push(AppChanges {
            app: app.clone(),
            operations,
            depends_on_apps,
        });
    }
    Ok(changes)
}

fn models_of<'a>(state: &'a ProjectState, app: &str) -> Vec<&'a ModelState> {
    state.models.values().filter(|m| m.app == app).collect()
}

/// Orders models so each comes after the models of the same set it references.
fn by_references(models: Vec<&ModelState>) -> Vec<&ModelState> {
    let mut pending = models;
    let mut ordered: Vec<&ModelState> = Vec::new();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|m| {
                m.fields
                    .iter()
                    .filter_map(|f| f.references.as_ref())
                    .all(|key| {
                        key.table == m.table
                            || ordered.iter().any(|o| o.table == key.table)
                            || !pending.iter().any(|p| p.table == key.table)
                    })
            })
            // A cycle: take the first; its foreign keys name tables created next.
            .unwrap_or(0);
        ordered.push(pending.remove(ready));
    }
    ordered
}

fn detect_app(
    from: &ProjectState,
    to: &ProjectState,
    app: &str,
    options: &mut DetectOptions<'_>,
) -> Result<Vec<Operation>, String> {
    let old_models = models_of(from, app);
    let new_models = models_of(to, app);
    let mut operations = Vec::new();

    let created: Vec<&ModelState> = new_models
        .iter()
        .copied()
        .filter(|m| from.model(app, &m.name).is_none())
        .collect();
    for model in by_references(created) {
        operations.push(Operation::CreateModel(CreateModel {
            name: model.name.clone(),
            table: model.table.clone(),
            fields: model.fields.clone(),
        }));
        for index in &model.indexes {
            operations.push(Operation::AddIndex(AddIndex::new(
                model.name.clone(),
                index.clone(),
            )));
        }
    }

    for new in &new_models {
        let Some(old) = from.model(app, &new.name) else {
            continue;
        };
        if old.table != new.table {
            return Err(format!(
                "model `{app}.{}` moved from table `{}` to `{}`: renaming tables is not supported; \
                 keep `#[model(table = \"{}\")]`",
                new.name, old.table, new.table, old.table
            ));
        }
        operations.extend(detect_fields(app, old, new, options)?);
        operations.extend(detect_unique_together(old, new));
    }

    let deleted: Vec<&ModelState> = old_models
        .iter()
        .copied()
        .filter(|m| to.model(app, &m.name).is_none())
        .collect();
    // Referencing models go first, so no table is dropped while referenced.
    for model in by_references(deleted).into_iter().rev() {
        operations.push(Operation::DeleteModel(DeleteModel::new(model.name.clone())));
    }
    Ok(operations)
}

/// Unique indexes (`#[model(unique_together(...))]`) added or removed.
/// Only unique ones are compared: a plain index a migration adds by hand
/// has no declaration on the model and stays.
fn detect_unique_together(old: &ModelState, new: &ModelState) -> Vec<Operation> {
    let mut operations = Vec::new();
    for index in old.indexes.iter().filter(|i| i.unique) {
        if !new.indexes.contains(index) {
            operations.push(Operation::RemoveIndex(RemoveIndex::new(
                new.name.clone(),
                index.name.clone(),
            )));
        }
    }
    for index in new.indexes.iter().filter(|i| i.unique) {
        if !old.indexes.contains(index) {
            operations.push(Operation::AddIndex(AddIndex::new(
                new.name.clone(),
                index.clone(),
            )));
        }
    }
    operations
}

fn detect_fields(
    app: &str,
    old: &ModelState,
    new: &ModelState,
    options: &mut DetectOptions<'_>,
) -> Result<Vec<Operation>, String> {
    let model = &new.name;
    let mut removed: Vec<&Field> = old
        .fields
        .iter()
        .filter(|f| new.field(&f.name).is_none())
        .collect();
    let mut added: Vec<&Field> = new
        .fields
        .iter()
        .filter(|f| old.field(&f.name).is_none())
        .collect();
    let mut renames: Vec<(&Field, &Field)> = Vec::new();

    for (rename_model, from_name, to_name) in &options.renames {
        if rename_model != model {
            continue;
        }
        let source = removed.iter().position(|f| f.name == *from_name);
        let target = added.iter().position(|f| f.name == *to_name);
        match (source, target) {
            (Some(s), Some(t)) => renames.push((removed.remove(s), added.remove(t))),
            (None, _) => {
                return Err(format!(
                    "--rename {model}.{from_name}={to_name}: `{model}` had no field `{from_name}` \
                     that the models no longer have"
                ));
            }
            (_, None) => {
                return Err(format!(
                    "--rename {model}.{from_name}={to_name}: `{model}` has no new field `{to_name}`"
                ));
            }
        }
    }

    // A field gone and one of the same type new: ask, never guess.
    let mut i = 0;
    while i < removed.len() {
        let gone = removed[i];
        let candidate = added
            .iter()
            .position(|f| f.db_type.rust_name() == gone.db_type.rust_name());
        let Some(j) = candidate else {
            i += 1;
            continue;
        };
        let fresh = added[j];
        let type_name = fresh.db_type.rust_name();
        // Said aloud: "an i32", "an f64", "a String", "a Uuid".
        let article = if type_name.starts_with(['i', 'f']) {
            "an"
        } else {
            "a"
        };
        let question = format!(
            "Did you rename {model}.{} to {model}.{} ({article} {type_name})? [y/N]",
            gone.name, fresh.name,
        );
        let renamed = match options.ask.as_mut() {
            Some(ask) => ask(&question),
            None => {
                return Err(format!(
                    "model `{app}.{model}` lost field `{}` and gained `{}` of the same type: \
                     if it was renamed, run again with `--rename {model}.{}={}`; if not, remove \
                     the old field in one migration and add the new one in the next \
                     (or answer the question on a terminal, without --noinput)",
                    gone.name, fresh.name, gone.name, fresh.name
                ));
            }
        };
        if renamed {
            renames.push((removed.remove(i), added.remove(j)));
        } else {
            i += 1;
        }
    }

    let mut operations = Vec::new();
    for (gone, fresh) in &renames {
        operations.push(Operation::RenameField(RenameField::new(
            model.clone(),
            gone.name.clone(),
            fresh.name.clone(),
        )));
        if gone.renamed(&fresh.name) != **fresh {
            operations.push(Operation::AlterField(AlterField::new(
                model.clone(),
                (*fresh).clone(),
            )));
        }
    }
    for field in &new.fields {
        if let Some(previous) = old.field(&field.name)
            && previous != field
        {
            if previous.primary_key != field.primary_key {
                return Err(format!(
                    "`{app}.{model}.{}`: changing the primary key is not supported by makemigrations",
                    field.name
                ));
            }
            operations.push(Operation::AlterField(AlterField::new(
                model.clone(),
                field.clone(),
            )));
        }
    }
    for field in added {
        if !field.null && field.default.is_none() {
            return Err(format!(
                "cannot add the NOT NULL field `{app}.{model}.{}` without a default: existing rows \
                 need a value. Give it `#[field(default = ...)]` or make it an `Option<{}>`",
                field.name,
                field.db_type.rust_name()
            ));
        }
        operations.push(Operation::AddField(AddField::new(
            model.clone(),
            field.clone(),
        )));
    }
    for field in removed {
        operations.push(Operation::RemoveField(RemoveField::new(
            model.clone(),
            field.name.clone(),
        )));
    }
    Ok(operations)
}
