//! Patched in for ferrobridge (see PATCHED.md): the conversions
//! `ProxyRow::try_get` tries when a value's variant is not the one the
//! requested type reads. Each is exact or not offered: `BigInt(1 << 40)`
//! is no `i32`, `"x"` no datetime.

use sea_query::{ColumnType as C, Value};

/// The values `value` converts to for a type of `target` column type, in
/// the order to try them (at most three, kept off the heap: rows read
/// this way are the hot path of every list).
pub(crate) fn candidates(value: &Value, target: &C) -> impl Iterator<Item = Value> {
    let integer: Option<i128> = match value {
        Value::Bool(Some(b)) => Some(i128::from(*b)),
        Value::TinyInt(Some(i)) => Some(i128::from(*i)),
        Value::SmallInt(Some(i)) => Some(i128::from(*i)),
        Value::Int(Some(i)) => Some(i128::from(*i)),
        Value::BigInt(Some(i)) => Some(i128::from(*i)),
        Value::TinyUnsigned(Some(i)) => Some(i128::from(*i)),
        Value::SmallUnsigned(Some(i)) => Some(i128::from(*i)),
        Value::Unsigned(Some(i)) => Some(i128::from(*i)),
        Value::BigUnsigned(Some(i)) => Some(i128::from(*i)),
        _ => None,
    };
    let real: Option<f64> = match value {
        Value::Float(Some(f)) => Some(f64::from(*f)),
        Value::Double(Some(f)) => Some(*f),
        _ => integer.map(|i| i as f64),
    };
    let text: Option<&str> = match value {
        Value::String(Some(s)) => Some(s.as_str()),
        _ => None,
    };
    let one = |v: Option<Value>| [v, None, None];
    let found = match target {
        C::Boolean => one(integer.map(|i| Value::Bool(Some(i != 0)))),
        C::TinyInteger => one(integer
            .and_then(|i| i.try_into().ok())
            .map(|i| Value::TinyInt(Some(i)))),
        C::SmallInteger => one(integer
            .and_then(|i| i.try_into().ok())
            .map(|i| Value::SmallInt(Some(i)))),
        C::Integer => one(integer
            .and_then(|i| i.try_into().ok())
            .map(|i| Value::Int(Some(i)))),
        C::BigInteger => one(integer
            .and_then(|i| i.try_into().ok())
            .map(|i| Value::BigInt(Some(i)))),
        C::TinyUnsigned => one(integer
            .and_then(|i| i.try_into().ok())
            .map(|i| Value::TinyUnsigned(Some(i)))),
        C::SmallUnsigned => one(integer
            .and_then(|i| i.try_into().ok())
            .map(|i| Value::SmallUnsigned(Some(i)))),
        C::Unsigned => one(integer
            .and_then(|i| i.try_into().ok())
            .map(|i| Value::Unsigned(Some(i)))),
        C::BigUnsigned => one(integer
            .and_then(|i| i.try_into().ok())
            .map(|i| Value::BigUnsigned(Some(i)))),
        C::Float => one(real.map(|f| Value::Float(Some(f as f32)))),
        C::Double => one(real.map(|f| Value::Double(Some(f)))),
        C::Char(_) | C::String(_) | C::Text => one(match value {
            Value::BigInt(Some(i)) => Some(Value::String(Some(i.to_string()))),
            Value::Double(Some(f)) => Some(Value::String(Some(f.to_string()))),
            Value::Bytes(Some(b)) => String::from_utf8(b.clone())
                .ok()
                .map(|s| Value::String(Some(s))),
            _ => None,
        }),
        C::Binary(_) | C::VarBinary(_) | C::Blob => {
            one(text.map(|t| Value::Bytes(Some(t.as_bytes().to_vec()))))
        }
        #[cfg(feature = "with-rust_decimal")]
        C::Decimal(_) | C::Money(_) => one(decimal(value, text).map(|d| Value::Decimal(Some(d)))),
        #[cfg(feature = "with-uuid")]
        C::Uuid => one(match value {
            Value::Bytes(Some(b)) => uuid::Uuid::from_slice(b).ok(),
            Value::String(Some(s)) => uuid::Uuid::parse_str(s).ok(),
            _ => None,
        }
        .map(|u| Value::Uuid(Some(u)))),
        #[cfg(feature = "with-json")]
        C::Json | C::JsonBinary => one(match value {
            Value::String(Some(s)) => serde_json::from_str(s).ok(),
            Value::Bytes(Some(b)) => serde_json::from_slice(b).ok(),
            Value::BigInt(Some(i)) => Some(serde_json::Value::from(*i)),
            Value::Double(Some(f)) => {
                serde_json::Number::from_f64(*f).map(serde_json::Value::Number)
            }
            _ => None,
        }
        .map(|j| Value::Json(Some(Box::new(j))))),
        #[cfg(feature = "with-chrono")]
        C::Date => one(text
            .and_then(|t| chrono::NaiveDate::parse_from_str(t, "%F").ok())
            .map(|d| Value::ChronoDate(Some(d)))),
        #[cfg(feature = "with-chrono")]
        C::Time => one(text.and_then(time).map(|t| Value::ChronoTime(Some(t)))),
        #[cfg(feature = "with-chrono")]
        C::DateTime | C::Timestamp => {
            one(datetime(value).map(|at| Value::ChronoDateTime(Some(at.naive_utc()))))
        }
        #[cfg(feature = "with-chrono")]
        C::TimestampWithTimeZone => match datetime(value) {
            Some(at) => [
                Some(Value::ChronoDateTimeUtc(Some(
                    at.with_timezone(&chrono::Utc),
                ))),
                Some(Value::ChronoDateTimeWithTimeZone(Some(at))),
                Some(Value::ChronoDateTimeLocal(Some(
                    at.with_timezone(&chrono::Local),
                ))),
            ],
            None => [None, None, None],
        },
        _ => [None, None, None],
    };
    found.into_iter().flatten()
}

/// `i` as the integer (or boolean) variant of `target`, when it fits: the
/// one conversion of almost every INTEGER read, done without building the
/// general [`candidates`].
pub(crate) fn integer_as(i: i64, target: &C) -> Option<Value> {
    Some(match target {
        C::Integer => Value::Int(Some(i.try_into().ok()?)),
        C::BigInteger => Value::BigInt(Some(i)),
        C::SmallInteger => Value::SmallInt(Some(i.try_into().ok()?)),
        C::TinyInteger => Value::TinyInt(Some(i.try_into().ok()?)),
        C::Boolean => Value::Bool(Some(i != 0)),
        _ => return None,
    })
}

/// A decimal from an integer, a float (as sqlx's SQLite reading does,
/// through `f64`) or text (every digit kept).
#[cfg(feature = "with-rust_decimal")]
fn decimal(value: &Value, text: Option<&str>) -> Option<rust_decimal::Decimal> {
    use std::str::FromStr;
    match value {
        Value::BigInt(Some(i)) => Some((*i).into()),
        Value::Int(Some(i)) => Some((*i).into()),
        Value::Double(Some(f)) => rust_decimal::Decimal::try_from(*f).ok(),
        _ => {
            let text = text?.trim();
            rust_decimal::Decimal::from_str(text)
                .or_else(|_| rust_decimal::Decimal::from_scientific(text))
                .ok()
        }
    }
}

/// A time in any of the spellings sqlx's SQLite driver reads.
#[cfg(feature = "with-chrono")]
fn time(text: &str) -> Option<chrono::NaiveTime> {
    ["%T%.f", "%R", "%RZ", "%T%.fZ", "%R%:z", "%T%.f%:z"]
        .iter()
        .find_map(|format| chrono::NaiveTime::parse_from_str(text, format).ok())
}

/// A datetime in any of the spellings sqlx's SQLite driver reads: RFC
/// 3339, SQLite's date-time text with or without an offset, Unix seconds
/// as an integer, a Julian day as a float; another datetime variant too.
#[cfg(feature = "with-chrono")]
fn datetime(value: &Value) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    use chrono::{DateTime, NaiveDateTime, Offset, TimeZone, Utc};
    let utc = Utc.fix();
    match value {
        Value::String(Some(text)) => {
            if let Ok(at) = DateTime::parse_from_rfc3339(text) {
                return Some(at);
            }
            const FORMATS: [&str; 6] = [
                "%F %T%.f",
                "%F %R",
                "%F %RZ",
                "%F %R%:z",
                "%F %T%.fZ",
                "%F %T%.f%:z",
            ];
            FORMATS.iter().find_map(|format| {
                DateTime::parse_from_str(text, format).ok().or_else(|| {
                    NaiveDateTime::parse_from_str(text, format)
                        .ok()
                        .map(|at| utc.from_utc_datetime(&at))
                })
            })
        }
        Value::BigInt(Some(seconds)) => utc.timestamp_opt(*seconds, 0).single(),
        Value::Double(Some(julian)) => {
            let seconds = (julian - 2_440_587.5) * 86_400.0;
            let whole = seconds.floor();
            let nanos = ((seconds - whole) * 1e9).round().min(999_999_999.0) as u32;
            utc.timestamp_opt(whole as i64, nanos).single()
        }
        Value::ChronoDateTime(Some(at)) => Some(utc.from_utc_datetime(at)),
        Value::ChronoDateTimeUtc(Some(at)) => Some(at.fixed_offset()),
        Value::ChronoDateTimeWithTimeZone(Some(at)) => Some(*at),
        Value::ChronoDateTimeLocal(Some(at)) => Some(at.fixed_offset()),
        _ => None,
    }
}
