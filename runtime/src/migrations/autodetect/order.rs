//! The order of the migrations `makemigrations` writes for several apps:
//! each after the migrations creating the models it references, and a
//! cycle of foreign keys between apps split as Django's autodetector does.

use super::super::state::ProjectState;
use super::super::{AddField, Field, Operation};
use super::AppChanges;

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
pub(super) fn references_of(
    to: &ProjectState,
    app: &str,
    operations: &[Operation],
) -> Vec<(String, String)> {
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
pub(super) fn order_by_references(
    mut pending: Vec<AppChanges>,
    to: &ProjectState,
) -> Vec<AppChanges> {
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
