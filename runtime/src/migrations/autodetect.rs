//! `makemigrations`' comparison: the operations that take the state the
//! migrations describe to the state the models describe.

use super::state::{ModelState, ProjectState};
use super::{
    AddField, AddIndex, AlterField, CreateModel, DbType, DefaultValue, DeleteModel, Field,
    MigrationError, Operation, RemoveField, RemoveIndex, RenameField,
};

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

/// `--default [app.]model.field=VALUE`: a one-off value for the rows of a
/// field that becomes NOT NULL (or is added NOT NULL) without a default.
#[derive(Clone, Debug, PartialEq)]
pub struct OneOffDefault {
    /// The app label, when given (needed only when two apps have the model).
    pub app: Option<String>,
    /// The model's lower-case name.
    pub model: String,
    /// The field.
    pub field: String,
    /// The value as written; parsed by the field's type.
    pub value: String,
}

impl OneOffDefault {
    /// Parses `[app.]model.field=VALUE`.
    pub fn parse(raw: &str) -> Result<OneOffDefault, MigrationError> {
        let usage = || MigrationError::OneOffDefaultSyntax {
            raw: raw.to_string(),
        };
        let (left, value) = raw.split_once('=').ok_or_else(usage)?;
        let parts: Vec<&str> = left.split('.').map(str::trim).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(usage());
        }
        let (app, model, field) = match parts[..] {
            [model, field] => (None, model, field),
            [app, model, field] => (Some(app.to_string()), model, field),
            _ => return Err(usage()),
        };
        Ok(OneOffDefault {
            app,
            model: model.to_lowercase(),
            field: field.to_string(),
            value: value.to_string(),
        })
    }

    fn names(&self, app: &str, model: &str, field: &str) -> bool {
        self.app.as_deref().is_none_or(|a| a == app) && self.model == model && self.field == field
    }

    /// The value as `field`'s type.
    fn value_for(&self, field: &Field) -> Result<DefaultValue, MigrationError> {
        let raw = self.value.trim();
        let bad = |expected: &'static str| MigrationError::OneOffDefaultValue {
            model: self.model.clone(),
            field: self.field.clone(),
            value: self.value.clone(),
            expected,
        };
        Ok(match field.db_type {
            DbType::SmallInteger | DbType::Integer | DbType::BigInteger => {
                DefaultValue::Int(raw.parse().map_err(|_| bad("an integer"))?)
            }
            DbType::Float | DbType::Double => {
                DefaultValue::Float(raw.parse().map_err(|_| bad("a number"))?)
            }
            DbType::Decimal(..) => {
                raw.parse::<f64>().map_err(|_| bad("a decimal number"))?;
                DefaultValue::Str(raw.to_string())
            }
            DbType::Boolean => DefaultValue::Bool(match raw {
                "true" | "True" | "1" => true,
                "false" | "False" | "0" => false,
                _ => return Err(bad("a bool (true or false)")),
            }),
            _ => DefaultValue::Str(self.value.clone()),
        })
    }
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

/// The fields `operation` defines (with their foreign keys).
fn defined_fields(operation: &Operation) -> Vec<&Field> {
    match operation {
        Operation::CreateModel(op) => op.fields.iter().collect(),
        Operation::AddField(op) => vec![&op.field],
        Operation::AlterField(op) => vec![&op.field],
        _ => Vec::new(),
    }
}

/// The models of apps other than `app` that `operations` reference.
fn references_of(to: &ProjectState, app: &str, operations: &[Operation]) -> Vec<(String, String)> {
    let mut references: Vec<(String, String)> = Vec::new();
    for operation in operations {
        for key in defined_fields(operation)
            .into_iter()
            .filter_map(|f| f.references.as_ref())
        {
            if let Some(target) = to.model_by_table(&key.table)
                && target.app != app
            {
                let pair = (target.app.clone(), target.name.clone());
                if !references.contains(&pair) {
                    references.push(pair);
                }
            }
        }
    }
    references
}

/// The pending migrations `pending[i]` must wait for: an earlier one of its
/// app, or one creating a model it references.
fn blockers(pending: &[AppChanges], i: usize) -> Vec<usize> {
    let node = &pending[i];
    (0..pending.len())
        .filter(|&j| j != i)
        .filter(|&j| {
            (pending[j].app == node.app && j < i)
                || node
                    .references
                    .iter()
                    .any(|(app, model)| pending[j].creates(app, model))
        })
        .collect()
}

/// Whether waiting leads from `pending[start]` back to itself.
fn in_cycle(pending: &[AppChanges], start: usize) -> bool {
    let mut seen = vec![false; pending.len()];
    let mut stack = blockers(pending, start);
    while let Some(j) = stack.pop() {
        if j == start {
            return true;
        }
        if !std::mem::replace(&mut seen[j], true) {
            stack.extend(blockers(pending, j));
        }
    }
    false
}

/// Orders the migrations so each comes after those it waits for (ties in
/// the given order); a cycle is split as Django's autodetector does.
fn order_by_references(mut pending: Vec<AppChanges>, to: &ProjectState) -> Vec<AppChanges> {
    let mut ordered = Vec::new();
    while !pending.is_empty() {
        if let Some(i) = (0..pending.len()).find(|&i| blockers(&pending, i).is_empty()) {
            ordered.push(pending.remove(i));
            continue;
        }
        let Some(i) = (0..pending.len()).find(|&i| in_cycle(&pending, i)) else {
            // Unreachable (waiting without a cycle always ends); keep going.
            ordered.push(pending.remove(0));
            continue;
        };
        let blocked: Vec<(String, String)> = pending[i]
            .references
            .iter()
            .filter(|(app, model)| pending.iter().any(|p| p.creates(app, model)))
            .cloned()
            .collect();
        let deferred = split_off(&mut pending[i], &blocked, to);
        if pending[i].operations.is_empty() {
            pending.remove(i);
        }
        pending.push(deferred);
    }
    ordered
}

/// Moves the foreign keys of `node` into `blocked` models out of it: out of
/// its `CreateModel`s into `AddField`s, and its `AddField`/`AlterField`s (and
/// indexes over moved fields) whole, into the migration it returns.
fn split_off(node: &mut AppChanges, blocked: &[(String, String)], to: &ProjectState) -> AppChanges {
    let closes_cycle = |field: &Field| {
        field.references.as_ref().is_some_and(|key| {
            to.model_by_table(&key.table).is_some_and(|target| {
                blocked
                    .iter()
                    .any(|(app, model)| target.app == *app && target.name == *model)
            })
        })
    };
    let mut kept = Vec::new();
    let mut moved = Vec::new();
    let mut moved_fields: Vec<(String, String)> = Vec::new();
    for operation in std::mem::take(&mut node.operations) {
        match operation {
            Operation::CreateModel(mut op) => {
                let (late, early): (Vec<Field>, Vec<Field>) =
                    op.fields.into_iter().partition(|f| closes_cycle(f));
                op.fields = early;
                for field in late {
                    moved_fields.push((op.name.clone(), field.name.clone()));
                    moved.push(Operation::AddField(AddField::new(op.name.clone(), field)));
                }
                kept.push(Operation::CreateModel(op));
            }
            Operation::AddField(ref op) if closes_cycle(&op.field) => {
                moved_fields.push((op.model.clone(), op.field.name.clone()));
                moved.push(operation);
            }
            Operation::AlterField(ref op) if closes_cycle(&op.field) => moved.push(operation),
            Operation::AddIndex(ref op)
                if op
                    .index
                    .columns
                    .iter()
                    .any(|c| moved_fields.contains(&(op.model.clone(), c.clone()))) =>
            {
                moved.push(operation)
            }
            other => kept.push(other),
        }
    }
    node.operations = kept;
    node.references = references_of(to, &node.app, &node.operations);
    AppChanges {
        app: node.app.clone(),
        references: references_of(to, &node.app, &moved),
        operations: moved,
    }
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
        operations.extend(detect_fields(app, old, new, options, used)?);
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

/// The fields one model lost and gained, and the pairs of them that are
/// renames (from `--rename`, or answered on a terminal).
struct FieldDiff<'a> {
    removed: Vec<&'a Field>,
    added: Vec<&'a Field>,
    renames: Vec<(&'a Field, &'a Field)>,
}

impl<'a> FieldDiff<'a> {
    /// What `new` lost and gained since `old`, no rename known yet.
    fn between(old: &'a ModelState, new: &'a ModelState) -> Self {
        FieldDiff {
            removed: old
                .fields
                .iter()
                .filter(|f| new.field(&f.name).is_none())
                .collect(),
            added: new
                .fields
                .iter()
                .filter(|f| old.field(&f.name).is_none())
                .collect(),
            renames: Vec::new(),
        }
    }

    /// Pairs the renames `--rename model.old=new` names for `model`; one
    /// that names no lost or no gained field is an error.
    fn rename_flagged(
        &mut self,
        model: &str,
        options: &DetectOptions<'_>,
    ) -> Result<(), MigrationError> {
        for (rename_model, old, new) in &options.renames {
            if rename_model != model {
                continue;
            }
            let source = self.removed.iter().position(|f| f.name == *old);
            let target = self.added.iter().position(|f| f.name == *new);
            let (model, old, new) = (model.to_string(), old.clone(), new.clone());
            match (source, target) {
                (Some(s), Some(t)) => {
                    let pair = (self.removed.remove(s), self.added.remove(t));
                    self.renames.push(pair);
                }
                (None, _) => return Err(MigrationError::RenameUnknownOldField { model, old, new }),
                (_, None) => return Err(MigrationError::RenameUnknownNewField { model, old, new }),
            }
        }
        Ok(())
    }

    /// A field gone and one of the same type new: asks whether it is a
    /// rename, never guesses; without a way to ask, that is an error.
    fn rename_asked(
        &mut self,
        app: &str,
        model: &str,
        options: &mut DetectOptions<'_>,
    ) -> Result<(), MigrationError> {
        let mut i = 0;
        while i < self.removed.len() {
            let gone = self.removed[i];
            let candidate = self
                .added
                .iter()
                .position(|f| f.db_type.rust_name() == gone.db_type.rust_name());
            let Some(j) = candidate else {
                i += 1;
                continue;
            };
            let fresh = self.added[j];
            let Some(ask) = options.ask.as_mut() else {
                return Err(MigrationError::PossibleRename {
                    app: app.to_string(),
                    model: model.to_string(),
                    old: gone.name.clone(),
                    new: fresh.name.clone(),
                });
            };
            if ask(&rename_question(model, gone, fresh)) {
                let pair = (self.removed.remove(i), self.added.remove(j));
                self.renames.push(pair);
            } else {
                i += 1;
            }
        }
        Ok(())
    }
}

/// `Did you rename post.title to post.headline (a String)? [y/N]`.
fn rename_question(model: &str, gone: &Field, fresh: &Field) -> String {
    let type_name = fresh.db_type.rust_name();
    // Said aloud: "an i32", "an f64", "a String", "a Uuid".
    let article = if type_name.starts_with(['i', 'f']) {
        "an"
    } else {
        "a"
    };
    format!(
        "Did you rename {model}.{} to {model}.{} ({article} {type_name})? [y/N]",
        gone.name, fresh.name,
    )
}

/// The field operations that take `old` to `new`: renames, alterations,
/// additions and removals, in that order.
fn detect_fields(
    app: &str,
    old: &ModelState,
    new: &ModelState,
    options: &mut DetectOptions<'_>,
    used: &mut [bool],
) -> Result<Vec<Operation>, MigrationError> {
    let model = &new.name;
    let mut diff = FieldDiff::between(old, new);
    diff.rename_flagged(model, options)?;
    diff.rename_asked(app, model, options)?;
    let FieldDiff {
        removed,
        added,
        renames,
    } = diff;

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
                return Err(MigrationError::PrimaryKeyChanged {
                    app: app.to_string(),
                    model: model.clone(),
                    field: field.name.clone(),
                });
            }
            let mut alter = AlterField::new(model.clone(), field.clone());
            if previous.null && !field.null && field.default.is_none() {
                let found = one_off(app, model, field, options, used)?;
                alter.one_off_default =
                    Some(found.ok_or_else(|| not_null_refusal(app, model, field, false))?);
            }
            operations.push(Operation::AlterField(alter));
        }
    }
    for field in added {
        let mut add = AddField::new(model.clone(), field.clone());
        if !field.null && field.default.is_none() {
            let found = one_off(app, model, field, options, used)?;
            add.one_off_default =
                Some(found.ok_or_else(|| not_null_refusal(app, model, field, true))?);
        }
        operations.push(Operation::AddField(add));
    }
    for field in removed {
        operations.push(Operation::RemoveField(RemoveField::new(
            model.clone(),
            field.name.clone(),
        )));
    }
    Ok(operations)
}

/// The `--default` given for `app.model.field`, as the field's type.
fn one_off(
    app: &str,
    model: &str,
    field: &Field,
    options: &DetectOptions<'_>,
    used: &mut [bool],
) -> Result<Option<DefaultValue>, MigrationError> {
    let Some(i) = options
        .defaults
        .iter()
        .position(|d| d.names(app, model, &field.name))
    else {
        return Ok(None);
    };
    used[i] = true;
    options.defaults[i].value_for(field).map(Some)
}

/// Why a NOT NULL field without a default cannot be written as it is, and
/// the three ways out (Django asks for a one-off value on a terminal).
fn not_null_refusal(app: &str, model: &str, field: &Field, added: bool) -> MigrationError {
    let (app, model, rust_type) = (
        app.to_string(),
        model.to_string(),
        field.db_type.rust_name(),
    );
    let field = field.name.clone();
    if added {
        MigrationError::AddedNotNullWithoutDefault {
            app,
            model,
            field,
            rust_type,
        }
    } else {
        MigrationError::MadeNotNullWithoutDefault {
            app,
            model,
            field,
            rust_type,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_off_defaults_parse_or_say_how_to_write_them() {
        let given = OneOffDefault::parse("blog.Post.rating=0").expect("app, model, field");
        assert_eq!(given.app.as_deref(), Some("blog"));
        assert_eq!(
            (given.model.as_str(), given.field.as_str()),
            ("post", "rating")
        );
        assert_eq!(given.value, "0");
        for raw in ["rating=0", "post.rating", "a.b.c.d=1", "post..rating=1"] {
            assert!(
                matches!(OneOffDefault::parse(raw), Err(MigrationError::OneOffDefaultSyntax { raw: r }) if r == raw),
                "{raw}"
            );
        }
        let many = OneOffDefault::parse("post.rating=many").expect("parses");
        let error = many
            .value_for(&Field::integer("rating"))
            .expect_err("no integer");
        assert!(
            matches!(&error, MigrationError::OneOffDefaultValue { expected, .. } if *expected == "an integer"),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "--default post.rating=many: `rating` is an integer, and `many` is not one"
        );
    }
}
