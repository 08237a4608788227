//! The operations a migration is made of, each one change to the schema
//! (a model created, a field altered, an index dropped...), built like
//! `AddField::new("post", Field::string("subtitle"))`.

use super::{DefaultValue, Field};

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
    /// The columns, in order; `-column` sorts that column descending
    /// (as Django's `Index(fields=["-created_at"])`).
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
