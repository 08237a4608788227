//! A [`Filter`] judged in memory against a row's `Read` JSON: for rows the
//! database can no longer be asked about (the change feed's deletes, whose
//! row is gone and whose last representation is all that is left).

use std::cmp::Ordering;

use sea_orm::Value;
use serde_json::Value as Json;

use super::{Filter, Lookup, value_from_json};

impl Filter {
    /// Whether `row`, a `Read` object of the filter's model, passes this
    /// filter as the SQL condition [`fetch`](super::fetch) runs would let it
    /// through: the field's value is read from the JSON under the field's
    /// `Read` name, typed as the field (as a filter value is parsed), then
    /// compared as the database compares (NULL matches only `__isnull=true`
    /// and a nullable field's `__ne`; the `i...` lookups fold case).
    ///
    /// A field the `Read` object does not show, a missing key, or a value
    /// that does not read as the field's type never matches: a reader must
    /// not receive a row the filter cannot vouch for.
    pub fn matches_json(&self, row: &Json) -> bool {
        let Some(raw) = self.field.read_as.and_then(|key| row.get(key)) else {
            return false;
        };
        let Some(value) = value_from_json(self.field, raw) else {
            return false;
        };
        let is_null = raw.is_null();
        let first = self.values.first();
        match self.lookup {
            Lookup::IsNull => {
                matches!(first, Some(Value::Bool(Some(wanted))) if *wanted == is_null)
            }
            _ if is_null => self.lookup == Lookup::Ne && self.field.nullable,
            Lookup::Exact => first.is_some_and(|v| compare(&value, v) == Some(Ordering::Equal)),
            Lookup::Ne => first
                .is_some_and(|v| compare(&value, v).is_some_and(|order| order != Ordering::Equal)),
            Lookup::Gt => first.is_some_and(|v| compare(&value, v) == Some(Ordering::Greater)),
            Lookup::Gte => first.is_some_and(|v| {
                matches!(
                    compare(&value, v),
                    Some(Ordering::Greater | Ordering::Equal)
                )
            }),
            Lookup::Lt => first.is_some_and(|v| compare(&value, v) == Some(Ordering::Less)),
            Lookup::Lte => first.is_some_and(|v| {
                matches!(compare(&value, v), Some(Ordering::Less | Ordering::Equal))
            }),
            Lookup::In => self
                .values
                .iter()
                .any(|v| compare(&value, v) == Some(Ordering::Equal)),
            Lookup::IExact
            | Lookup::Contains
            | Lookup::IContains
            | Lookup::StartsWith
            | Lookup::IStartsWith => {
                let (Some(text), Some(Value::String(Some(needle)))) = (text_of(&value), first)
                else {
                    return false;
                };
                let folded = matches!(
                    self.lookup,
                    Lookup::IExact | Lookup::IContains | Lookup::IStartsWith
                );
                let (text, needle) = if folded {
                    (text.to_lowercase(), needle.to_lowercase())
                } else {
                    (text.to_string(), needle.clone())
                };
                match self.lookup {
                    Lookup::IExact => text == needle,
                    Lookup::Contains | Lookup::IContains => text.contains(&needle),
                    _ => text.starts_with(&needle),
                }
            }
        }
    }
}

fn text_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(Some(text)) => Some(text),
        _ => None,
    }
}

fn integer_of(value: &Value) -> Option<i128> {
    Some(match value {
        Value::TinyInt(Some(n)) => (*n).into(),
        Value::SmallInt(Some(n)) => (*n).into(),
        Value::Int(Some(n)) => (*n).into(),
        Value::BigInt(Some(n)) => (*n).into(),
        Value::TinyUnsigned(Some(n)) => (*n).into(),
        Value::SmallUnsigned(Some(n)) => (*n).into(),
        Value::Unsigned(Some(n)) => (*n).into(),
        Value::BigUnsigned(Some(n)) => (*n).into(),
        _ => return None,
    })
}

fn float_of(value: &Value) -> Option<f64> {
    match value {
        Value::Float(Some(n)) => Some(f64::from(*n)),
        Value::Double(Some(n)) => Some(*n),
        other => integer_of(other).map(|n| n as f64),
    }
}

/// How two non-null values of one field compare; `None` for values of
/// kinds that do not compare (which then match no lookup).
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (integer_of(a), integer_of(b)) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (float_of(a), float_of(b)) {
        return x.partial_cmp(&y);
    }
    match (a, b) {
        (Value::Bool(Some(x)), Value::Bool(Some(y))) => Some(x.cmp(y)),
        (Value::String(Some(x)), Value::String(Some(y))) => Some(x.cmp(y)),
        (Value::ChronoDateTimeUtc(Some(x)), Value::ChronoDateTimeUtc(Some(y))) => Some(x.cmp(y)),
        (Value::ChronoDate(Some(x)), Value::ChronoDate(Some(y))) => Some(x.cmp(y)),
        (Value::Decimal(Some(x)), Value::Decimal(Some(y))) => Some(x.cmp(y)),
        (Value::Uuid(Some(x)), Value::Uuid(Some(y))) => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{DbType, FieldKind, FieldMeta};

    static AUTHOR: FieldMeta = FieldMeta::new("author_id", DbType::BigInteger);
    static TITLE: FieldMeta = FieldMeta::new("title", DbType::String(None));
    static HIDDEN: FieldMeta = FieldMeta::new("secret", DbType::String(None)).not_read();

    fn filter(field: &'static FieldMeta, lookup: Lookup, values: Vec<Value>) -> Filter {
        Filter {
            field,
            lookup,
            values,
        }
    }

    #[test]
    fn lookups_compare_as_the_database_does() {
        assert_eq!(AUTHOR.kind, FieldKind::Integer);
        let row = json!({ "author_id": 7, "title": "Rust in Winter" });
        let author = |lookup, n: i64| filter(&AUTHOR, lookup, vec![Value::from(n)]);
        assert!(author(Lookup::Exact, 7).matches_json(&row));
        assert!(!author(Lookup::Exact, 8).matches_json(&row));
        assert!(author(Lookup::Ne, 8).matches_json(&row));
        assert!(author(Lookup::Gte, 7).matches_json(&row));
        assert!(!author(Lookup::Gt, 7).matches_json(&row));
        assert!(author(Lookup::Lt, 8).matches_json(&row));
        let some = filter(
            &AUTHOR,
            Lookup::In,
            vec![Value::from(1i64), Value::from(7i64)],
        );
        assert!(some.matches_json(&row));
        let title = |lookup, text: &str| filter(&TITLE, lookup, vec![Value::from(text)]);
        assert!(title(Lookup::IExact, "rust IN winter").matches_json(&row));
        assert!(!title(Lookup::IExact, "rust").matches_json(&row));
        assert!(title(Lookup::IContains, "WINTER").matches_json(&row));
        assert!(!title(Lookup::Contains, "WINTER").matches_json(&row));
        assert!(title(Lookup::IStartsWith, "rust").matches_json(&row));
        assert!(!title(Lookup::StartsWith, "Winter").matches_json(&row));
    }

    #[test]
    fn null_missing_and_hidden_fields_never_leak() {
        let exact = filter(&AUTHOR, Lookup::Exact, vec![Value::from(7i64)]);
        assert!(!exact.matches_json(&json!({ "author_id": null })));
        assert!(!exact.matches_json(&json!({ "title": "no author" })));
        assert!(!exact.matches_json(&json!({ "author_id": "seven" })));
        let isnull = filter(&AUTHOR, Lookup::IsNull, vec![Value::from(true)]);
        assert!(isnull.matches_json(&json!({ "author_id": null })));
        assert!(!isnull.matches_json(&json!({ "author_id": 7 })));
        let hidden = filter(&HIDDEN, Lookup::Exact, vec![Value::from("x")]);
        assert!(!hidden.matches_json(&json!({ "secret": "x" })));
    }
}
