//! Values between SeaORM and rusqlite: binding a [`sea_orm::Value`] the
//! way sqlx's SQLite driver binds it (so rows written by either read the
//! same), and reading a column back as what SQLite stores.
//!
//! A column is read as its storage class: INTEGER as `BigInt`, REAL as
//! `Double`, TEXT as `String`, BLOB as `Bytes`. SQLite does not tell an
//! `i32` from an `i64` or a `bool`, nor a datetime from other text, and a
//! raw `SELECT` of a datetime column may well want the text as stored: the
//! field reading a value decides. SeaORM's proxy rows (as patched in
//! `vendor/sea-orm`, see PATCHED.md) convert a value to the variant the
//! field's type reads when the conversion is exact: `BigInt(7)` to an
//! `i32` or a `bool`, stored text to a `DateTime<Utc>` in any spelling
//! sqlx's SQLite driver reads, a 16-byte BLOB to a `Uuid`.

use chrono::{DateTime, TimeZone};
use rusqlite::types::{ToSqlOutput, ValueRef};
use sea_orm::Value;
use sea_orm::sea_query::OptionEnum;

use crate::model::StoredValue;

/// A bound parameter, encoded as sqlx's SQLite driver encodes it
/// (sea-query-sqlx's binder): booleans and integers as INTEGER, decimals
/// as their text, UUIDs as 16-byte BLOBs, JSON as its text, chrono values
/// in sqlx's spellings (datetimes reach here already respelled by the
/// [`Connection`](crate::db::Connection)).
pub(crate) struct Bind<'a>(pub &'a Value);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as Sql;
        let owned = |v: Option<Sql>| Ok(ToSqlOutput::Owned(v.unwrap_or(Sql::Null)));
        match self.0 {
            Value::Bool(v) => owned(v.map(|b| Sql::Integer(i64::from(b)))),
            Value::TinyInt(v) => owned(v.map(|i| Sql::Integer(i.into()))),
            Value::SmallInt(v) => owned(v.map(|i| Sql::Integer(i.into()))),
            Value::Int(v) => owned(v.map(|i| Sql::Integer(i.into()))),
            Value::BigInt(v) => owned(v.map(Sql::Integer)),
            Value::TinyUnsigned(v) => owned(v.map(|i| Sql::Integer(i.into()))),
            Value::SmallUnsigned(v) => owned(v.map(|i| Sql::Integer(i.into()))),
            Value::Unsigned(v) => owned(v.map(|i| Sql::Integer(i.into()))),
            Value::BigUnsigned(v) => match v {
                Some(i) => match i64::try_from(*i) {
                    Ok(i) => owned(Some(Sql::Integer(i))),
                    Err(e) => Err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))),
                },
                None => owned(None),
            },
            Value::Float(v) => owned(v.map(|f| Sql::Real(f.into()))),
            Value::Double(v) => owned(v.map(Sql::Real)),
            Value::String(Some(s)) => Ok(ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))),
            Value::String(None) => owned(None),
            Value::Char(v) => owned(v.map(|c| Sql::Text(c.to_string()))),
            Value::Enum(e) => match e {
                OptionEnum::Some(v) => owned(Some(Sql::Text(v.value.to_string()))),
                OptionEnum::None(_) => owned(None),
            },
            Value::Bytes(Some(b)) => Ok(ToSqlOutput::Borrowed(ValueRef::Blob(b))),
            Value::Bytes(None) => owned(None),
            Value::Json(v) => owned(v.as_ref().map(|j| Sql::Text(j.to_string()))),
            Value::Decimal(v) => owned(v.map(|d| Sql::Text(d.to_string()))),
            Value::Uuid(v) => owned(v.map(|u| Sql::Blob(u.as_bytes().to_vec()))),
            Value::ChronoDate(v) => owned(v.map(|d| Sql::Text(d.format("%F").to_string()))),
            Value::ChronoTime(v) => owned(v.map(|t| Sql::Text(t.format("%T%.f").to_string()))),
            Value::ChronoDateTime(v) => {
                owned(v.map(|t| Sql::Text(t.format("%F %T%.f").to_string())))
            }
            Value::ChronoDateTimeUtc(v) => owned(v.map(|t| Sql::Text(rfc3339(&t)))),
            Value::ChronoDateTimeLocal(v) => owned(v.map(|t| Sql::Text(rfc3339(&t)))),
            Value::ChronoDateTimeWithTimeZone(v) => owned(v.map(|t| Sql::Text(rfc3339(&t)))),
            #[allow(unreachable_patterns)]
            other => Err(rusqlite::Error::ToSqlConversionFailure(
                format!("SQLite cannot bind {other:?}").into(),
            )),
        }
    }
}

fn rfc3339<Tz: TimeZone>(at: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// A column's value as SQLite stores it.
pub(crate) fn stored(value: ValueRef<'_>) -> StoredValue<'_> {
    match value {
        ValueRef::Null => StoredValue::Null,
        ValueRef::Integer(i) => StoredValue::Integer(i),
        ValueRef::Real(f) => StoredValue::Real(f),
        ValueRef::Text(t) => StoredValue::Text(t),
        ValueRef::Blob(b) => StoredValue::Blob(b),
    }
}
