//! The state of the models: what replaying the operations of every
//! migration gives, and what the registered models' metadata says.

use std::collections::BTreeMap;

use super::{DefaultValue, Field, ForeignKey, Index, Migration, MigrationError, Operation};
use crate::model::ModelMeta;

/// Every model of every app, as the migrations (or the models) describe them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectState {
    /// Keyed by `(app label, model name)`.
    pub models: BTreeMap<(String, String), ModelState>,
}

/// One model: its table, fields and extra indexes.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelState {
    /// The app label.
    pub app: String,
    /// The lower-case model name.
    pub name: String,
    /// The table.
    pub table: String,
    /// The fields, in column order.
    pub fields: Vec<Field>,
    /// Indexes added with [`AddIndex`](super::AddIndex).
    pub indexes: Vec<Index>,
}

impl ModelState {
    /// The model as its metadata describes it.
    pub fn from_meta(meta: &ModelMeta) -> ModelState {
        let fields = meta
            .fields
            .iter()
            .map(|f| {
                let primary_key = f.primary_key;
                let unique = f.unique && !primary_key;
                Field {
                    name: f.name.to_string(),
                    db_type: f.db_type,
                    null: f.nullable && !primary_key,
                    primary_key,
                    auto_increment: f.auto_increment,
                    unique,
                    // A unique column already has an index.
                    index: f.index && !unique && !primary_key,
                    default: f.default.map(DefaultValue::from),
                    references: f.references.map(|target| {
                        let target = target();
                        ForeignKey {
                            table: target.table.to_string(),
                            column: target.primary_key.to_string(),
                            on_delete: f.on_delete,
                        }
                    }),
                }
            })
            .collect();
        ModelState {
            app: meta.app_label.to_string(),
            name: meta.model_name.to_string(),
            table: meta.table.to_string(),
            fields,
            indexes: meta
                .unique_together
                .iter()
                .map(|columns| {
                    Index::new(meta.unique_index_name(columns), columns.iter().copied()).unique()
                })
                .chain(
                    meta.ordering_index()
                        .map(|index| Index::new(index.name, index.columns)),
                )
                .collect(),
        }
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    fn field_mut(&mut self, name: &str) -> Result<&mut Field, MigrationError> {
        let model = self.name.clone();
        self.fields
            .iter_mut()
            .find(|f| f.name == name)
            .ok_or_else(|| MigrationError::UnknownField {
                model,
                field: name.to_string(),
            })
    }
}

impl ProjectState {
    /// The state the models' metadata describes.
    pub fn from_models<'a>(models: impl IntoIterator<Item = &'a ModelMeta>) -> ProjectState {
        let mut state = ProjectState::default();
        for meta in models {
            let model = ModelState::from_meta(meta);
            state
                .models
                .insert((model.app.clone(), model.name.clone()), model);
        }
        state
    }

    /// Model `name` of app `app`.
    pub fn model(&self, app: &str, name: &str) -> Option<&ModelState> {
        self.models.get(&(app.to_string(), name.to_string()))
    }

    /// The model stored in `table`.
    pub fn model_by_table(&self, table: &str) -> Option<&ModelState> {
        self.models.values().find(|m| m.table == table)
    }

    fn model_mut(&mut self, app: &str, name: &str) -> Result<&mut ModelState, MigrationError> {
        self.models
            .get_mut(&(app.to_string(), name.to_string()))
            .ok_or_else(|| unknown_model(app, name))
    }

    /// Applies every operation of `migration` (of app `app`).
    pub fn apply_migration(
        &mut self,
        app: &str,
        migration: &Migration,
    ) -> Result<(), MigrationError> {
        for operation in &migration.operations {
            self.apply(app, operation)
                .map_err(|e| MigrationError::InMigration {
                    app: app.to_string(),
                    name: migration.name.clone(),
                    error: Box::new(e),
                })?;
        }
        Ok(())
    }

    /// Applies one operation of app `app` to the state.
    pub fn apply(&mut self, app: &str, operation: &Operation) -> Result<(), MigrationError> {
        match operation {
            Operation::CreateModel(op) => {
                let key = (app.to_string(), op.name.clone());
                if self.models.contains_key(&key) {
                    return Err(MigrationError::ModelExists {
                        model: op.name.clone(),
                    });
                }
                self.models.insert(
                    key,
                    ModelState {
                        app: app.to_string(),
                        name: op.name.clone(),
                        table: op.table.clone(),
                        fields: op.fields.clone(),
                        indexes: Vec::new(),
                    },
                );
            }
            Operation::DeleteModel(op) => {
                self.models
                    .remove(&(app.to_string(), op.name.clone()))
                    .ok_or_else(|| unknown_model(app, &op.name))?;
            }
            Operation::AddField(op) => {
                let model = self.model_mut(app, &op.model)?;
                if model.field(&op.field.name).is_some() {
                    return Err(MigrationError::FieldExists {
                        model: op.model.clone(),
                        field: op.field.name.clone(),
                    });
                }
                model.fields.push(op.field.clone());
            }
            Operation::RemoveField(op) => {
                let model = self.model_mut(app, &op.model)?;
                model.field_mut(&op.name)?;
                model.fields.retain(|f| f.name != op.name);
            }
            Operation::AlterField(op) => {
                *self.model_mut(app, &op.model)?.field_mut(&op.field.name)? = op.field.clone();
            }
            Operation::RenameField(op) => {
                let model = self.model_mut(app, &op.model)?;
                if model.field(&op.new).is_some() {
                    return Err(MigrationError::FieldExists {
                        model: op.model.clone(),
                        field: op.new.clone(),
                    });
                }
                model.field_mut(&op.old)?.name = op.new.clone();
                for index in &mut model.indexes {
                    for column in &mut index.columns {
                        // A descending column is written `-column`.
                        let descending = column.starts_with('-');
                        if column.trim_start_matches('-') == op.old {
                            *column = format!("{}{}", if descending { "-" } else { "" }, op.new);
                        }
                    }
                }
            }
            Operation::AddIndex(op) => {
                let model = self.model_mut(app, &op.model)?;
                if model.indexes.iter().any(|i| i.name == op.index.name) {
                    return Err(MigrationError::IndexExists {
                        index: op.index.name.clone(),
                    });
                }
                model.indexes.push(op.index.clone());
            }
            Operation::RemoveIndex(op) => {
                let model = self.model_mut(app, &op.model)?;
                if !model.indexes.iter().any(|i| i.name == op.name) {
                    return Err(unknown_index(&op.model, &op.name));
                }
                model.indexes.retain(|i| i.name != op.name);
            }
        }
        Ok(())
    }

    /// The operation that undoes `operation` (of app `app`), given the state
    /// before it (`self`).
    pub fn reverse(&self, app: &str, operation: &Operation) -> Result<Operation, MigrationError> {
        use super::*;
        Ok(match operation {
            Operation::CreateModel(op) => DeleteModel::new(op.name.clone()).into(),
            Operation::DeleteModel(op) => {
                let model = self
                    .model(app, &op.name)
                    .ok_or_else(|| unknown_model(app, &op.name))?;
                CreateModel {
                    name: model.name.clone(),
                    table: model.table.clone(),
                    fields: model.fields.clone(),
                }
                .into()
            }
            Operation::AddField(op) => {
                RemoveField::new(op.model.clone(), op.field.name.clone()).into()
            }
            Operation::RemoveField(op) => {
                let field = self
                    .model(app, &op.model)
                    .and_then(|m| m.field(&op.name))
                    .ok_or_else(|| unknown_field(&op.model, &op.name))?;
                AddField::new(op.model.clone(), field.clone()).into()
            }
            Operation::AlterField(op) => {
                let field = self
                    .model(app, &op.model)
                    .and_then(|m| m.field(&op.field.name))
                    .ok_or_else(|| unknown_field(&op.model, &op.field.name))?;
                AlterField::new(op.model.clone(), field.clone()).into()
            }
            Operation::RenameField(op) => {
                RenameField::new(op.model.clone(), op.new.clone(), op.old.clone()).into()
            }
            Operation::AddIndex(op) => {
                RemoveIndex::new(op.model.clone(), op.index.name.clone()).into()
            }
            Operation::RemoveIndex(op) => {
                let index = self
                    .model(app, &op.model)
                    .and_then(|m| m.indexes.iter().find(|i| i.name == op.name))
                    .ok_or_else(|| unknown_index(&op.model, &op.name))?;
                AddIndex::new(op.model.clone(), index.clone()).into()
            }
        })
    }
}

fn unknown_model(app: &str, model: &str) -> MigrationError {
    MigrationError::UnknownModel {
        app: app.to_string(),
        model: model.to_string(),
    }
}

fn unknown_field(model: &str, field: &str) -> MigrationError {
    MigrationError::UnknownField {
        model: model.to_string(),
        field: field.to_string(),
    }
}

fn unknown_index(model: &str, index: &str) -> MigrationError {
    MigrationError::UnknownIndex {
        model: model.to_string(),
        index: index.to_string(),
    }
}
