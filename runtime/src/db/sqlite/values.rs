//! Values between SeaORM and rusqlite: binding a [`sea_orm::Value`] the
//! way sqlx's SQLite driver binds it (so rows written by either read the
//! same), and reading a column back as the exact [`Value`] variant the
//! entity's field asks for.
//!
//! SeaORM reads rows handed to it from outside its drivers strictly: an
//! `i32` field takes `Value::Int` and nothing else, and an `Option<i32>`
//! field given a `Value::BigInt` reads as `None`. SQLite has one INTEGER
//! storage class for `i32`, `i64` and `bool`, and keeps decimals and
//! datetimes as text or numbers, so the row alone does not say which
//! variant to build. What does: the result column's origin (SQLite
//! reports the table and column a selected column comes from) looked up in
//! the [`register`]ed entities' column types; a computed column (`COUNT(*)`)
//! or an unregistered table falls back to the declared type, then to the
//! storage class.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use rusqlite::types::{ToSqlOutput, ValueRef};
use sea_orm::sea_query::{ColumnType, OptionEnum};
use sea_orm::{ColumnTrait, EntityTrait, IdenStatic, Iterable, Value};

/// The [`Value`] variant a column is read into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    TinyUnsigned,
    SmallUnsigned,
    Unsigned,
    BigUnsigned,
    Float,
    Double,
    String,
    Bytes,
    Json,
    Decimal,
    Uuid,
    Date,
    Time,
    /// A naive datetime (`ColumnType::DateTime` / `Timestamp`).
    DateTime,
    /// `DateTime<Utc>` (`ColumnType::TimestampWithTimeZone`: the derive's
    /// datetimes are UTC).
    DateTimeUtc,
    /// Nothing known: the storage class decides.
    Any,
}

impl Kind {
    /// The variant SeaORM's entity derive gives a field of `column_type`.
    fn of(column_type: &ColumnType) -> Kind {
        match column_type {
            ColumnType::Char(_)
            | ColumnType::String(_)
            | ColumnType::Text
            | ColumnType::Enum { .. }
            | ColumnType::Custom(_) => Kind::String,
            ColumnType::Blob | ColumnType::Binary(_) | ColumnType::VarBinary(_) => Kind::Bytes,
            ColumnType::TinyInteger => Kind::TinyInt,
            ColumnType::SmallInteger => Kind::SmallInt,
            ColumnType::Integer => Kind::Int,
            ColumnType::BigInteger => Kind::BigInt,
            ColumnType::TinyUnsigned => Kind::TinyUnsigned,
            ColumnType::SmallUnsigned => Kind::SmallUnsigned,
            ColumnType::Unsigned => Kind::Unsigned,
            ColumnType::BigUnsigned => Kind::BigUnsigned,
            ColumnType::Float => Kind::Float,
            ColumnType::Double => Kind::Double,
            ColumnType::Decimal(_) | ColumnType::Money(_) => Kind::Decimal,
            ColumnType::DateTime | ColumnType::Timestamp => Kind::DateTime,
            ColumnType::TimestampWithTimeZone => Kind::DateTimeUtc,
            ColumnType::Time => Kind::Time,
            ColumnType::Date => Kind::Date,
            ColumnType::Boolean => Kind::Bool,
            ColumnType::Json | ColumnType::JsonBinary => Kind::Json,
            ColumnType::Uuid => Kind::Uuid,
            _ => Kind::Any,
        }
    }

    /// A guess from a declared column type, for tables no entity describes
    /// (SeaORM's SQLite names, `timestamp_with_timezone_text`, and
    /// Django's, `datetime`, both read). Integers read as `i64`; SeaORM
    /// converts one to the `i32` or `bool` a field asks for when it fits.
    pub(crate) fn of_declared(declared: &str) -> Kind {
        let declared = declared.to_ascii_lowercase();
        let has = |word: &str| declared.contains(word);
        if declared == "bool" || declared == "boolean" {
            Kind::Bool
        } else if has("int") {
            Kind::BigInt
        } else if has("decimal") || has("numeric") || has("money") || declared.starts_with("real(")
        {
            Kind::Decimal
        } else if has("real") || has("floa") || has("doub") {
            Kind::Double
        } else if has("datetime") || has("timestamp") {
            Kind::DateTimeUtc
        } else if declared.starts_with("date") {
            Kind::Date
        } else if declared.starts_with("time") {
            Kind::Time
        } else if has("uuid") {
            Kind::Uuid
        } else if has("json") {
            Kind::Json
        } else if has("char") || has("text") || has("clob") {
            Kind::String
        } else if has("blob") {
            Kind::Bytes
        } else {
            Kind::Any
        }
    }
}

/// Column kinds of each registered table, by table then column name.
type Registry = HashMap<String, HashMap<String, Kind>>;

static REGISTRY: LazyLock<RwLock<Arc<Registry>>> = LazyLock::new(Default::default);

/// Records the column types of `E`'s table, so rows read from it on SQLite
/// decode as its model's fields ask. [`App::model`](crate::App::model)
/// registers every model; call this for a SeaORM entity of your own that
/// you query through a ferrobridge [`Connection`](crate::db::Connection)
/// on SQLite (an unregistered table is read by its declared column types:
/// every integer as `i64`). Registering a table again replaces its columns.
pub fn register<E: EntityTrait + Default>() {
    let table = E::default().table_name().to_string();
    let columns: HashMap<String, Kind> = E::Column::iter()
        .map(|column| {
            (
                column.as_str().to_string(),
                Kind::of(column.def().get_column_type()),
            )
        })
        .collect();
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if registry.get(&table) == Some(&columns) {
        return;
    }
    let mut next = Registry::clone(&registry);
    next.insert(table, columns);
    *registry = Arc::new(next);
}

/// The registry as it is now (cheap: readers share one snapshot).
pub(crate) fn registry() -> Arc<Registry> {
    REGISTRY.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The kind of a result column: its origin's registered type, else its
/// declared type, else [`Kind::Any`].
pub(crate) fn column_kind(
    registry: &Registry,
    table: Option<&str>,
    origin: Option<&str>,
    declared: Option<&str>,
) -> Kind {
    if let (Some(table), Some(origin)) = (table, origin)
        && let Some(kind) = registry.get(table).and_then(|columns| columns.get(origin))
        && *kind != Kind::Any
    {
        return *kind;
    }
    declared.map(Kind::of_declared).unwrap_or(Kind::Any)
}

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

/// A column's value read as `kind`; `None` when the stored value cannot
/// be read so (text in an integer column, say), which the caller turns
/// into an error naming the column.
pub(crate) fn read(kind: Kind, value: ValueRef<'_>) -> Option<Value> {
    let integer = |v: ValueRef<'_>| match v {
        ValueRef::Integer(i) => Some(i),
        ValueRef::Real(f) if f.fract() == 0.0 => Some(f as i64),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    };
    let real = |v: ValueRef<'_>| match v {
        ValueRef::Real(f) => Some(f),
        ValueRef::Integer(i) => Some(i as f64),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    };
    if let ValueRef::Null = value {
        return Some(null(kind));
    }
    Some(match kind {
        Kind::Bool => Value::Bool(Some(integer(value)? != 0)),
        Kind::TinyInt => Value::TinyInt(Some(integer(value)?.try_into().ok()?)),
        Kind::SmallInt => Value::SmallInt(Some(integer(value)?.try_into().ok()?)),
        Kind::Int => Value::Int(Some(integer(value)?.try_into().ok()?)),
        Kind::BigInt => Value::BigInt(Some(integer(value)?)),
        Kind::TinyUnsigned => Value::TinyUnsigned(Some(integer(value)?.try_into().ok()?)),
        Kind::SmallUnsigned => Value::SmallUnsigned(Some(integer(value)?.try_into().ok()?)),
        Kind::Unsigned => Value::Unsigned(Some(integer(value)?.try_into().ok()?)),
        Kind::BigUnsigned => Value::BigUnsigned(Some(integer(value)?.try_into().ok()?)),
        Kind::Float => Value::Float(Some(real(value)? as f32)),
        Kind::Double => Value::Double(Some(real(value)?)),
        Kind::String => Value::String(Some(match value {
            ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Real(f) => f.to_string(),
            ValueRef::Null => unreachable!("handled above"),
        })),
        Kind::Bytes => Value::Bytes(Some(match value {
            ValueRef::Text(b) | ValueRef::Blob(b) => b.to_vec(),
            _ => return None,
        })),
        Kind::Json => {
            let bytes = match value {
                ValueRef::Text(b) | ValueRef::Blob(b) => b,
                _ => return None,
            };
            Value::Json(Some(Box::new(serde_json::from_slice(bytes).ok()?)))
        }
        Kind::Decimal => Value::Decimal(Some(decimal(value)?)),
        Kind::Uuid => Value::Uuid(Some(match value {
            ValueRef::Blob(b) => uuid::Uuid::from_slice(b).ok()?,
            ValueRef::Text(t) => uuid::Uuid::parse_str(std::str::from_utf8(t).ok()?).ok()?,
            _ => return None,
        })),
        Kind::Date => Value::ChronoDate(Some(NaiveDate::parse_from_str(text(value)?, "%F").ok()?)),
        Kind::Time => Value::ChronoTime(Some(time(text(value)?)?)),
        Kind::DateTime => Value::ChronoDateTime(Some(datetime(value)?.naive_utc())),
        Kind::DateTimeUtc => Value::ChronoDateTimeUtc(Some(datetime(value)?.with_timezone(&Utc))),
        Kind::Any => match value {
            ValueRef::Integer(i) => Value::BigInt(Some(i)),
            ValueRef::Real(f) => Value::Double(Some(f)),
            ValueRef::Text(t) => Value::String(Some(String::from_utf8_lossy(t).into_owned())),
            ValueRef::Blob(b) => Value::Bytes(Some(b.to_vec())),
            ValueRef::Null => unreachable!("handled above"),
        },
    })
}

fn text(value: ValueRef<'_>) -> Option<&str> {
    match value {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    }
}

/// SQL NULL as `kind`'s variant (SeaORM reads any mismatch as NULL, but
/// the right variant keeps `Option` fields honest).
fn null(kind: Kind) -> Value {
    match kind {
        Kind::Bool => Value::Bool(None),
        Kind::TinyInt => Value::TinyInt(None),
        Kind::SmallInt => Value::SmallInt(None),
        Kind::Int => Value::Int(None),
        Kind::BigInt | Kind::Any => Value::BigInt(None),
        Kind::TinyUnsigned => Value::TinyUnsigned(None),
        Kind::SmallUnsigned => Value::SmallUnsigned(None),
        Kind::Unsigned => Value::Unsigned(None),
        Kind::BigUnsigned => Value::BigUnsigned(None),
        Kind::Float => Value::Float(None),
        Kind::Double => Value::Double(None),
        Kind::String => Value::String(None),
        Kind::Bytes => Value::Bytes(None),
        Kind::Json => Value::Json(None),
        Kind::Decimal => Value::Decimal(None),
        Kind::Uuid => Value::Uuid(None),
        Kind::Date => Value::ChronoDate(None),
        Kind::Time => Value::ChronoTime(None),
        Kind::DateTime => Value::ChronoDateTime(None),
        Kind::DateTimeUtc => Value::ChronoDateTimeUtc(None),
    }
}

/// A decimal as SeaORM reads one through sqlx on SQLite (through `f64`),
/// except that text keeps every digit it has.
fn decimal(value: ValueRef<'_>) -> Option<rust_decimal::Decimal> {
    use std::str::FromStr;
    match value {
        ValueRef::Integer(i) => Some(i.into()),
        ValueRef::Real(f) => rust_decimal::Decimal::try_from(f).ok(),
        ValueRef::Text(t) => {
            let text = std::str::from_utf8(t).ok()?.trim();
            rust_decimal::Decimal::from_str(text)
                .or_else(|_| rust_decimal::Decimal::from_scientific(text))
                .ok()
        }
        _ => None,
    }
}

/// A time in any of the spellings sqlx's SQLite driver reads.
fn time(text: &str) -> Option<NaiveTime> {
    ["%T%.f", "%R", "%RZ", "%T%.fZ", "%R%:z", "%T%.f%:z"]
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(text, format).ok())
}

/// A datetime in any of the spellings sqlx's SQLite driver reads: RFC 3339,
/// SQLite's date-time formats with or without an offset, Unix seconds as
/// an INTEGER, a Julian day as a REAL.
fn datetime(value: ValueRef<'_>) -> Option<DateTime<FixedOffset>> {
    match value {
        ValueRef::Text(t) => {
            let text = std::str::from_utf8(t).ok()?;
            if let Ok(at) = DateTime::parse_from_rfc3339(text) {
                return Some(at);
            }
            const FORMATS: [&str; 10] = [
                "%F %T%.f",
                "%F %R",
                "%F %RZ",
                "%F %R%:z",
                "%F %T%.fZ",
                "%F %T%.f%:z",
                "%FT%R",
                "%FT%RZ",
                "%FT%R%:z",
                "%FT%T%.f",
            ];
            FORMATS.iter().find_map(|format| {
                DateTime::parse_from_str(text, format).ok().or_else(|| {
                    NaiveDateTime::parse_from_str(text, format)
                        .ok()
                        .map(|at| Utc.fix().from_utc_datetime(&at))
                })
            })
        }
        ValueRef::Integer(seconds) => Utc.fix().timestamp_opt(seconds, 0).single(),
        ValueRef::Real(julian) => {
            let seconds = (julian - 2_440_587.5) * 86_400.0;
            let whole = seconds.floor();
            let nanos = ((seconds - whole) * 1e9).round() as u32;
            Utc.fix()
                .timestamp_opt(whole as i64, nanos.min(999_999_999))
                .single()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_as_the_field_asks() {
        let v = ValueRef::Integer(7);
        assert_eq!(read(Kind::Int, v), Some(Value::Int(Some(7))));
        assert_eq!(read(Kind::BigInt, v), Some(Value::BigInt(Some(7))));
        assert_eq!(read(Kind::Bool, v), Some(Value::Bool(Some(true))));
        assert_eq!(read(Kind::Int, ValueRef::Integer(1 << 40)), None);
        assert_eq!(read(Kind::Int, ValueRef::Null), Some(Value::Int(None)));
    }

    #[test]
    fn datetimes_read_in_every_spelling() {
        let expected = Utc.with_ymd_and_hms(2026, 11, 29, 20, 54, 25).unwrap();
        for text in [
            "2026-11-29 20:54:25",
            "2026-11-29T20:54:25Z",
            "2026-11-29T20:54:25+00:00",
            "2026-11-29 20:54:25+00:00",
        ] {
            assert_eq!(
                read(Kind::DateTimeUtc, ValueRef::Text(text.as_bytes())),
                Some(Value::ChronoDateTimeUtc(Some(expected))),
                "{text}"
            );
        }
    }

    #[test]
    fn declared_types_guess_kinds() {
        assert_eq!(Kind::of_declared("bool"), Kind::Bool);
        assert_eq!(Kind::of_declared("varchar(255)"), Kind::String);
        assert_eq!(Kind::of_declared("BIGINT"), Kind::BigInt);
        assert_eq!(Kind::of_declared("decimal"), Kind::Decimal);
        assert_eq!(Kind::of_declared("datetime"), Kind::DateTimeUtc);
        assert_eq!(Kind::of_declared("date_text"), Kind::Date);
        assert_eq!(Kind::of_declared("real(10, 2)"), Kind::Decimal);
        assert_eq!(Kind::of_declared("real"), Kind::Double);
    }
}
