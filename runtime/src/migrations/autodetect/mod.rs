//! `makemigrations`' comparison: the operations that take the state the
//! migrations describe to the state the models describe, app by app and
//! model by model; [`fields`] compares one model's fields (renames, one-off
//! defaults), [`order`] puts the migrations of several apps in an order their
//! foreign keys allow.

mod fields;
mod order;

use super::state::{ModelState, ProjectState};
use super::{
    AddField, AddIndex, CreateModel, DeleteModel, Field, Index, MigrationError, Operation,
    RemoveIndex,
};
use crate::model::ordering_index_name;
pub use fields::OneOffDefault;
use fields::detect_fields;
use order::{order_by_references, references_of};

/// How to treat fields that may have been renamed, and the one-off values
/// given for fields that become NOT NULL without a default.
#[derive(Default)]
pub struct DetectOptions<'a> {
    /// `--rename post.title=headline`: `(model, old, new)`.
    pub renames: Vec<(String, String, String)>,
    /// Asks a yes/no question on a terminal; `None` with `--noinput`, when
    /// an unanswered possible rename is an error naming the flag.
    pub ask: Option<&'a mut dyn FnMut(&str) -> bool>,
    /// `--default blog.post.rating=0`: the value rows get once when a field
    /// becomes (or is added) NOT NULL without a default.
    pub defaults: Vec<OneOffDefault>,
}

/// The operations of one migration of one app.
#[derive(Clone, Debug, PartialEq)]
pub struct AppChanges {
    /// The app label.
    pub app: String,
    /// The operations, in order.
    pub operations: Vec<Operation>,
    /// The models of other apps these operations hold foreign keys to, as
    /// `(app, model)`: the migration comes after the one creating each, and
    /// depends on the latest migration of each such app.
    pub references: Vec<(String, String)>,
}

impl AppChanges {
    /// Creates model `model` of app `app`.
    fn creates(&self, app: &str, model: &str) -> bool {
        self.app == app
            && self
                .operations
                .iter()
                .any(|op| matches!(op, Operation::CreateModel(c) if c.name == model))
    }
}

/// What changed, migration by migration, in an order where each comes after
/// those creating the models it references (an app appears twice when a
/// cycle of foreign keys between apps was split, as Django does).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// The migrations to write, in order.
    pub apps: Vec<AppChanges>,
}

impl Changes {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty()
    }

    /// The app labels with changes, each once.
    pub fn labels(&self) -> Vec<String> {
        let mut labels: Vec<String> = Vec::new();
        for change in &self.apps {
            if !labels.contains(&change.app) {
                labels.push(change.app.clone());
            }
        }
        labels
    }
}

/// Compares `from` (the migrations' state) with `to` (the models') for the
/// apps `apps`; the result is ordered by foreign keys across apps (ties in
/// the order of `apps`), and a cycle between apps is split: the foreign keys
/// that close it move to a second migration of the first app in the cycle.
pub fn detect_changes(
    from: &ProjectState,
    to: &ProjectState,
    apps: &[String],
    mut options: DetectOptions<'_>,
) -> Result<Changes, MigrationError> {
    for (model, old, new) in &options.renames {
        let known = to
            .models
            .values()
            .any(|m| apps.contains(&m.app) && m.name == *model);
        if !known {
            return Err(MigrationError::RenameUnknownModel {
                model: model.clone(),
                old: old.clone(),
                new: new.clone(),
                apps: apps.to_vec(),
            });
        }
    }
    let mut used = vec![false; options.defaults.len()];
    let mut nodes = Vec::new();
    for app in apps {
        let operations = detect_app(from, to, app, &mut options, &mut used)?;
        if operations.is_empty() {
            continue;
        }
        let references = references_of(to, app, &operations);
        nodes.push(AppChanges {
            app: app.clone(),
            operations,
            references,
        });
    }
    if let Some(unused) = options.defaults.iter().zip(&used).find(|(_, u)| !**u) {
        let d = unused.0;
        return Err(MigrationError::UnusedOneOffDefault {
            model: d.model.clone(),
            field: d.field.clone(),
            value: d.value.clone(),
        });
    }
    Ok(Changes {
        apps: order_by_references(nodes, to),
    })
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

/// The operations of app `app` that take `from` to `to`: models created,
/// then models changed, then models deleted.
fn detect_app(
    from: &ProjectState,
    to: &ProjectState,
    app: &str,
    options: &mut DetectOptions<'_>,
    used: &mut [bool],
) -> Result<Vec<Operation>, MigrationError> {
    let old_models = models_of(from, app);
    let new_models = models_of(to, app);
    let created: Vec<&ModelState> = new_models
        .iter()
        .copied()
        .filter(|m| from.model(app, &m.name).is_none())
        .collect();
    let mut operations = create_models(by_references(created));

    for new in &new_models {
        let Some(old) = from.model(app, &new.name) else {
            continue;
        };
        if old.table != new.table {
            return Err(MigrationError::TableRenamed {
                app: app.to_string(),
                model: new.name.clone(),
                old_table: old.table.clone(),
                new_table: new.table.clone(),
            });
        }
        let (dropped, added) = detect_ordering_index(old, new);
        // Dropped before the fields change, so no column an index holds is
        // removed or renamed under it (SQLite refuses that); added after.
        operations.extend(dropped);
        operations.extend(detect_fields(app, old, new, options, used)?);
        operations.extend(detect_unique_together(old, new));
        operations.extend(added);
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

/// The operations creating `created` (ordered by their foreign keys), with
/// their indexes. A foreign key to a model created later (a cycle inside the
/// app) is added once both tables exist, as Django does: PostgreSQL checks it.
fn create_models(created: Vec<&ModelState>) -> Vec<Operation> {
    let mut operations = Vec::new();
    let mut late: Vec<Operation> = Vec::new();
    for (i, model) in created.iter().enumerate() {
        let (fields, deferred): (Vec<Field>, Vec<Field>) =
            model.fields.iter().cloned().partition(|f| {
                f.references
                    .as_ref()
                    .is_none_or(|key| !created[i + 1..].iter().any(|m| m.table == key.table))
            });
        operations.push(Operation::CreateModel(CreateModel {
            name: model.name.clone(),
            table: model.table.clone(),
            fields,
        }));
        for field in deferred {
            late.push(Operation::AddField(AddField::new(
                model.name.clone(),
                field,
            )));
        }
        for index in &model.indexes {
            let target = if index.columns.iter().any(|c| {
                late.iter()
                    .any(|op| matches!(op, Operation::AddField(a) if a.model == model.name && a.field.name == *c))
            }) {
                &mut late
            } else {
                &mut operations
            };
            target.push(Operation::AddIndex(AddIndex::new(
                model.name.clone(),
                index.clone(),
            )));
        }
    }
    operations.extend(late);
    operations
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

/// Whether `index` of `model` is the ordering index `makemigrations`
/// manages: non-unique and named as [`ordering_index_name`] names it for
/// its table and columns (the name holds a hash of both, so an index
/// written by hand does not carry it by chance).
fn is_ordering_index(model: &ModelState, index: &Index) -> bool {
    !index.unique && index.name == ordering_index_name(&model.table, &index.columns)
}

/// The default ordering's index (see `ModelMeta::ordering_index`) dropped,
/// and added, when the ordering changed, the model opted out or in: as
/// `(removals, additions)`.
fn detect_ordering_index(old: &ModelState, new: &ModelState) -> (Vec<Operation>, Vec<Operation>) {
    let dropped = (old.indexes.iter())
        .filter(|i| is_ordering_index(old, i) && !new.indexes.contains(i))
        .map(|i| Operation::RemoveIndex(RemoveIndex::new(new.name.clone(), i.name.clone())))
        .collect();
    let added = (new.indexes.iter())
        .filter(|i| is_ordering_index(new, i) && !old.indexes.contains(i))
        .map(|i| Operation::AddIndex(AddIndex::new(new.name.clone(), i.clone())))
        .collect();
    (dropped, added)
}
