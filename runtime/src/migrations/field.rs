//! A column as migrations declare it: [`Field`], its type, default and
//! foreign key.

use super::{DbType, OnDelete};

/// A column default.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
}

impl From<bool> for DefaultValue {
    fn from(v: bool) -> Self {
        DefaultValue::Bool(v)
    }
}
impl From<i64> for DefaultValue {
    fn from(v: i64) -> Self {
        DefaultValue::Int(v)
    }
}
impl From<i32> for DefaultValue {
    fn from(v: i32) -> Self {
        DefaultValue::Int(v.into())
    }
}
impl From<f64> for DefaultValue {
    fn from(v: f64) -> Self {
        DefaultValue::Float(v)
    }
}
impl From<&str> for DefaultValue {
    fn from(v: &str) -> Self {
        DefaultValue::Str(v.to_string())
    }
}
impl From<String> for DefaultValue {
    fn from(v: String) -> Self {
        DefaultValue::Str(v)
    }
}

impl From<crate::model::FieldDefault> for DefaultValue {
    fn from(v: crate::model::FieldDefault) -> Self {
        use crate::model::FieldDefault as D;
        match v {
            D::Bool(b) => DefaultValue::Bool(b),
            D::Int(i) => DefaultValue::Int(i),
            D::Float(f) => DefaultValue::Float(f),
            D::Str(s) => DefaultValue::Str(s.to_string()),
            D::Choice(stored) => DefaultValue::Str(stored().to_string()),
        }
    }
}

/// A foreign key: the column holds the primary key of a row of `table`.
#[derive(Clone, Debug, PartialEq)]
pub struct ForeignKey {
    /// The referenced table (`blog_author`).
    pub table: String,
    /// The referenced column, its primary key (`id`).
    pub column: String,
    /// What deleting the referenced row does.
    pub on_delete: OnDelete,
}

/// One column of a model, as migrations create it. Built like
/// `Field::string("title").max_length(200)` or
/// `Field::big_integer("author_id").references("blog_author", "id").on_delete(OnDelete::Cascade).index()`.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The field (and column) name.
    pub name: String,
    /// The column type.
    pub db_type: DbType,
    /// NULL allowed (`Option<T>`).
    pub null: bool,
    /// The primary key.
    pub primary_key: bool,
    /// Numbered by the database.
    pub auto_increment: bool,
    /// A unique constraint.
    pub unique: bool,
    /// A (non-unique) index, named `idx-{table}-{column}`.
    pub index: bool,
    /// The column default.
    pub default: Option<DefaultValue>,
    /// A foreign key, named `fk-{table}-{column}`.
    pub references: Option<ForeignKey>,
}

macro_rules! field_constructors {
    ($($(#[$doc:meta])* $fn:ident => $ty:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $fn(name: impl Into<String>) -> Self {
                Field::new(name, $ty)
            }
        )*
    };
}

impl Field {
    /// A NOT NULL column `name` of type `db_type`, with no constraint.
    pub fn new(name: impl Into<String>, db_type: DbType) -> Self {
        Field {
            name: name.into(),
            db_type,
            null: false,
            primary_key: false,
            auto_increment: false,
            unique: false,
            index: false,
            default: None,
            references: None,
        }
    }

    field_constructors! {
        /// `i16`.
        small_integer => DbType::SmallInteger;
        /// `i32`.
        integer => DbType::Integer;
        /// `i64`.
        big_integer => DbType::BigInteger;
        /// `f32`.
        float => DbType::Float;
        /// `f64`.
        double => DbType::Double;
        /// `bool`.
        boolean => DbType::Boolean;
        /// `String` without a length limit (VARCHAR); see [`Field::max_length`].
        string => DbType::String(None);
        /// `#[field(text)] String`.
        text => DbType::Text;
        /// `NaiveDate`.
        date => DbType::Date;
        /// `DateTime<Utc>`.
        date_time => DbType::DateTime;
        /// `Uuid`.
        uuid => DbType::Uuid;
        /// `serde_json::Value`.
        json => DbType::Json;
    }

    /// `Decimal` with `max_digits` digits, `decimal_places` of them after the point.
    pub fn decimal(name: impl Into<String>, max_digits: u32, decimal_places: u32) -> Self {
        Field::new(name, DbType::Decimal(max_digits, decimal_places))
    }

    /// VARCHAR(`max_length`): a string column's length limit.
    pub fn max_length(mut self, max_length: u32) -> Self {
        self.db_type = DbType::String(Some(max_length));
        self
    }

    /// NULL allowed.
    pub fn null(mut self) -> Self {
        self.null = true;
        self
    }

    /// The primary key.
    pub fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self
    }

    /// Numbered by the database (integer primary keys).
    pub fn auto_increment(mut self) -> Self {
        self.auto_increment = true;
        self
    }

    /// A unique constraint.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// A (non-unique) index.
    pub fn index(mut self) -> Self {
        self.index = true;
        self
    }

    /// The column default.
    pub fn default(mut self, value: impl Into<DefaultValue>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// A foreign key to `column` of `table`, `ON DELETE RESTRICT` unless
    /// [`Field::on_delete`] follows.
    pub fn references(mut self, table: impl Into<String>, column: impl Into<String>) -> Self {
        self.references = Some(ForeignKey {
            table: table.into(),
            column: column.into(),
            on_delete: OnDelete::Restrict,
        });
        self
    }

    /// What deleting the referenced row does (after [`Field::references`]).
    pub fn on_delete(mut self, action: OnDelete) -> Self {
        if let Some(key) = &mut self.references {
            key.on_delete = action;
        }
        self
    }

    /// The same definition under another name.
    pub fn renamed(&self, name: &str) -> Field {
        Field {
            name: name.to_string(),
            ..self.clone()
        }
    }
}
