//! Reading a `Read` straight from a row as the database stores it, by
//! position, without SeaORM's rows in between: what the in-thread SQLite
//! pool hands [`Model::read_from_row`](super::Model::read_from_row). The
//! same generated reading takes SeaORM's rows (a [`QueryResult`] is a
//! [`ColumnRow`] read by name), on every backend.
//!
//! A value of the storage class its field type reads (INTEGER for an
//! `i32`, TEXT for a `String`) converts in place; any other value goes
//! through SeaORM's own reading ([`as_stored`]) of the same value, so a
//! row reads the same either way, errors included.

use std::sync::Arc;

use sea_orm::{DbErr, QueryResult, TryGetable, Value};

use super::FieldMeta;

/// A column's value as the database stores it, borrowed from the row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StoredValue<'a> {
    /// `NULL`.
    Null,
    /// An INTEGER (SQLite stores booleans and every integer width so).
    Integer(i64),
    /// A REAL.
    Real(f64),
    /// TEXT, as stored (checked as UTF-8 when read).
    Text(&'a [u8]),
    /// A BLOB.
    Blob(&'a [u8]),
}

impl StoredValue<'_> {
    /// The value as SeaORM holds it, of its storage class: INTEGER as
    /// `BigInt`, REAL as `Double`, TEXT as `String` (an invalid UTF-8
    /// sequence replaced), BLOB as `Bytes`, `NULL` as `BigInt(None)`. The
    /// field reading it converts further (see `vendor/sea-orm`, PATCHED.md).
    pub fn to_value(self) -> Value {
        match self {
            StoredValue::Null => Value::BigInt(None),
            StoredValue::Integer(i) => Value::BigInt(Some(i)),
            StoredValue::Real(f) => Value::Double(Some(f)),
            StoredValue::Text(t) => Value::String(Some(text(t))),
            StoredValue::Blob(b) => Value::Bytes(Some(b.to_vec())),
        }
    }
}

/// Stored text as a `String`: checked as a whole first (far cheaper than
/// the lossy scan, which only a stored invalid sequence falls back to).
#[inline]
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// A column of a [`ColumnRow`], as the row can give it.
#[derive(Clone, Copy, Debug)]
pub enum Column<'a> {
    /// The value as stored, read by position.
    Stored(StoredValue<'a>),
    /// SeaORM's row, whose columns are read by name.
    ByName(&'a QueryResult),
}

/// One row of a result, its columns in select order.
pub trait ColumnRow {
    /// Column `index`, which the reader expects to be the column `name`
    /// (an error if it is not). One call per value read: the conversion
    /// to the field's type is the caller's, and inlined there.
    fn column(&self, index: usize, name: &str) -> Result<Column<'_>, DbErr>;
}

/// SeaORM's rows (any backend) are read by name, not position.
impl ColumnRow for QueryResult {
    fn column(&self, _: usize, _: &str) -> Result<Column<'_>, DbErr> {
        Ok(Column::ByName(self))
    }
}

impl dyn ColumnRow + '_ {
    /// Column `index`, named `name`, read as `T`: by position
    /// ([`FromColumn`]) from stored values, by name from SeaORM's rows.
    /// What a generated [`Model::read_from_row`](super::Model::read_from_row)
    /// reads each field with.
    #[inline(always)]
    pub fn get<T: FromColumn + TryGetable>(&self, index: usize, name: &str) -> Result<T, DbErr> {
        match self.column(index, name)? {
            Column::Stored(value) => T::from_stored(value, name),
            Column::ByName(result) => result.try_get("", name),
        }
    }

    /// [`get`](Self::get) by SeaORM's reading alone ([`as_stored`]): a
    /// `Choices` field.
    pub fn stored<T: TryGetable>(&self, index: usize, name: &str) -> Result<T, DbErr> {
        match self.column(index, name)? {
            Column::Stored(value) => as_stored(value, name),
            Column::ByName(result) => result.try_get("", name),
        }
    }
}

/// A field type read from a stored value: every scalar type the derive
/// supports, and `Option` of one.
pub trait FromColumn: Sized {
    /// Reads `value`, the stored value of the column `name`.
    fn from_stored(value: StoredValue<'_>, name: &str) -> Result<Self, DbErr>;
}

/// `value` (of the column `name`) read by SeaORM's [`TryGetable`]: the
/// general way, for every type and every value the fast conversions of
/// [`FromColumn`] do not take.
pub fn as_stored<T: TryGetable>(value: StoredValue<'_>, name: &str) -> Result<T, DbErr> {
    let names: Arc<[String]> = Arc::from([name.to_string()]);
    let result = QueryResult::from(sea_orm::ProxyRow::in_order(names, vec![value.to_value()]));
    result.try_get("", name)
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl FromColumn for $t {
            #[inline(always)]
            fn from_stored(value: StoredValue<'_>, name: &str) -> Result<Self, DbErr> {
                if let StoredValue::Integer(i) = value
                    && let Ok(i) = <$t>::try_from(i)
                {
                    return Ok(i);
                }
                as_stored(value, name)
            }
        }
    )*};
}

integers!(i16, i32, i64);

impl FromColumn for bool {
    #[inline(always)]
    fn from_stored(value: StoredValue<'_>, name: &str) -> Result<Self, DbErr> {
        match value {
            // As SeaORM's proxy rows read an INTEGER as a bool: not zero.
            StoredValue::Integer(i) => Ok(i != 0),
            _ => as_stored(value, name),
        }
    }
}

impl FromColumn for f64 {
    #[inline(always)]
    fn from_stored(value: StoredValue<'_>, name: &str) -> Result<Self, DbErr> {
        match value {
            StoredValue::Real(f) => Ok(f),
            _ => as_stored(value, name),
        }
    }
}

impl FromColumn for f32 {
    #[inline(always)]
    fn from_stored(value: StoredValue<'_>, name: &str) -> Result<Self, DbErr> {
        match value {
            StoredValue::Real(f) => Ok(f as f32),
            _ => as_stored(value, name),
        }
    }
}

impl FromColumn for String {
    #[inline(always)]
    fn from_stored(value: StoredValue<'_>, name: &str) -> Result<Self, DbErr> {
        match value {
            StoredValue::Text(t) => Ok(text(t)),
            _ => as_stored(value, name),
        }
    }
}

macro_rules! as_stored {
    ($($t:ty),*) => {$(
        impl FromColumn for $t {
            fn from_stored(value: StoredValue<'_>, name: &str) -> Result<Self, DbErr> {
                as_stored(value, name)
            }
        }
    )*};
}

as_stored!(
    chrono::DateTime<chrono::Utc>,
    chrono::NaiveDate,
    rust_decimal::Decimal,
    uuid::Uuid,
    serde_json::Value
);

impl<T: FromColumn + TryGetable> FromColumn for Option<T> {
    #[inline(always)]
    fn from_stored(value: StoredValue<'_>, name: &str) -> Result<Self, DbErr> {
        match value {
            StoredValue::Null => Ok(None),
            // SeaORM reads a value its type refuses as `None` in an
            // `Option`, not as an error: the general way says so.
            _ => T::from_stored(value, name)
                .map(Some)
                .or_else(|_| as_stored(value, name)),
        }
    }
}

/// The columns a model's [`Model::read_from_row`](super::Model::read_from_row)
/// reads, in select order: of its `fields`, those shown (with a `read_as`
/// key) in declaration order, as [`select_read`](super::select_read)
/// selects them.
pub fn read_columns(fields: &'static [FieldMeta]) -> impl Iterator<Item = &'static str> {
    fields
        .iter()
        .filter(|f| f.read_as.is_some())
        .map(|f| f.name)
}

/// A reading of one row by position ([`Model::read_from_row`](super::Model::read_from_row)).
pub type ReadRow<T> = fn(&dyn ColumnRow) -> Result<T, DbErr>;

/// How a query's rows become `T`: by position from the stored values,
/// when the connection has them and the statement selects the columns
/// of `by_position`'s model ([`read_columns`]), else from SeaORM's rows.
pub struct RowReader<T> {
    /// The model's fields, whose [`read_columns`] the reading reads.
    pub by_position: Option<(&'static [FieldMeta], ReadRow<T>)>,
    /// Reads any row, by column name.
    pub by_name: fn(&QueryResult) -> Result<T, DbErr>,
}

impl<T> RowReader<T> {
    /// The columns to read by position from a statement selecting `names`
    /// (`None`: read by name).
    pub fn positions<'a>(
        &self,
        names: impl ExactSizeIterator<Item = &'a str>,
    ) -> Option<(Vec<&'static str>, ReadRow<T>)> {
        let (fields, read) = self.by_position?;
        let columns: Vec<&'static str> = read_columns(fields).collect();
        let same = names.len() == columns.len() && names.zip(&columns).all(|(a, b)| a == *b);
        same.then_some((columns, read))
    }
}

impl<T> Clone for RowReader<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for RowReader<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// One stored value, in column 0 named `c`.
    struct Row(StoredValue<'static>);

    impl ColumnRow for Row {
        fn column(&self, index: usize, name: &str) -> Result<Column<'_>, DbErr> {
            assert_eq!((index, name), (0, "c"));
            Ok(Column::Stored(self.0))
        }
    }

    /// Every fast conversion gives what SeaORM's reading of the same
    /// stored value gives, errors included.
    #[test]
    fn fast_conversions_read_as_seaorm_reads() {
        use StoredValue::*;
        let stored = [
            Null,
            Integer(0),
            Integer(1),
            Integer(-7),
            Integer(1 << 40),
            Integer(i64::MAX),
            Real(1.5),
            Real(-0.0),
            Text(b"x"),
            Text(b"12"),
            Text(b"a\xffb"),
            Text(b"2024-01-02 03:04:05"),
            Blob(b"\x01\x02"),
        ];
        fn same<T: FromColumn + TryGetable + PartialEq + std::fmt::Debug>(v: StoredValue<'static>) {
            let row: &dyn ColumnRow = &Row(v);
            let fast = row.get::<T>(0, "c").map_err(|e| e.to_string());
            let general = as_stored::<T>(v, "c").map_err(|e| e.to_string());
            assert_eq!(fast, general, "{v:?} as {}", std::any::type_name::<T>());
        }
        for v in stored {
            same::<i16>(v);
            same::<i32>(v);
            same::<i64>(v);
            same::<bool>(v);
            same::<f32>(v);
            same::<f64>(v);
            same::<String>(v);
            same::<Option<i32>>(v);
            same::<Option<String>>(v);
            same::<Option<bool>>(v);
            same::<Option<f64>>(v);
        }
    }

    #[test]
    fn columns_read_as_their_storage_class() {
        assert_eq!(StoredValue::Integer(7).to_value(), Value::BigInt(Some(7)));
        assert_eq!(StoredValue::Null.to_value(), Value::BigInt(None));
        assert_eq!(
            StoredValue::Text(b"x").to_value(),
            Value::String(Some("x".into()))
        );
        assert_eq!(
            StoredValue::Text(b"a\xffb").to_value(),
            Value::String(Some("a\u{fffd}b".into()))
        );
    }

    /// A SeaORM row is read by name, whatever the position says.
    #[test]
    fn seaorm_rows_read_by_name() {
        let names: Arc<[String]> = Arc::from(["a".to_string(), "b".to_string()]);
        let values = vec![Value::BigInt(Some(1)), Value::String(Some("two".into()))];
        let result = QueryResult::from(sea_orm::ProxyRow::in_order(names, values));
        let row: &dyn ColumnRow = &result;
        assert_eq!(row.get::<String>(0, "b").expect("b"), "two");
        assert_eq!(row.get::<i32>(7, "a").expect("a"), 1);
        assert!(row.get::<i32>(0, "missing").is_err());
    }
}
