//! Field lookups (`__gte`, `__icontains`, `__isnull`...), the typed values
//! they compare with, and one `field__lookup=value` parsed into a [`Filter`].

use sea_orm::Value;
use serde_json::{Value as Json, json};

use super::settings::{too_long_text, too_many};
use super::{Filter, ListSettings, RESERVED, detail};
use crate::error::{ErrorDetail, ErrorKind};
use crate::model::{FieldKind, FieldMeta, ModelMeta};

/// A Django field lookup, the part after `__` in `?title__icontains=rust`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// `field=v`
    Exact,
    /// `field__iexact=v`: equal ignoring case (Unicode letters fold on
    /// every backend).
    IExact,
    /// `field__ne=v`: not equal (rows where the field is NULL included).
    Ne,
    /// `field__gt=v`
    Gt,
    /// `field__gte=v`
    Gte,
    /// `field__lt=v`
    Lt,
    /// `field__lte=v`
    Lte,
    /// `field__in=a,b,c`
    In,
    /// `field__contains=v`, case-sensitive.
    Contains,
    /// `field__icontains=v`, case-insensitive.
    IContains,
    /// `field__startswith=v`, case-sensitive.
    StartsWith,
    /// `field__istartswith=v`, case-insensitive.
    IStartsWith,
    /// `field__isnull=true|false`
    IsNull,
}

impl Lookup {
    /// Every lookup, in the order documentation lists them.
    pub const ALL: &'static [Lookup] = &[
        Lookup::Exact,
        Lookup::IExact,
        Lookup::Ne,
        Lookup::Gt,
        Lookup::Gte,
        Lookup::Lt,
        Lookup::Lte,
        Lookup::In,
        Lookup::Contains,
        Lookup::IContains,
        Lookup::StartsWith,
        Lookup::IStartsWith,
        Lookup::IsNull,
    ];

    /// The suffix after `__` (`exact` for the bare field name).
    pub fn name(self) -> &'static str {
        match self {
            Lookup::Exact => "exact",
            Lookup::IExact => "iexact",
            Lookup::Ne => "ne",
            Lookup::Gt => "gt",
            Lookup::Gte => "gte",
            Lookup::Lt => "lt",
            Lookup::Lte => "lte",
            Lookup::In => "in",
            Lookup::Contains => "contains",
            Lookup::IContains => "icontains",
            Lookup::StartsWith => "startswith",
            Lookup::IStartsWith => "istartswith",
            Lookup::IsNull => "isnull",
        }
    }

    /// Whether the lookup makes sense for a field of `kind`.
    pub fn applies_to(self, kind: FieldKind) -> bool {
        use FieldKind::*;
        match self {
            Lookup::Exact | Lookup::Ne | Lookup::IsNull => kind != Json,
            Lookup::In => !matches!(kind, Json | Boolean),
            Lookup::Gt | Lookup::Gte | Lookup::Lt | Lookup::Lte => {
                matches!(kind, Integer | Float | Decimal | Date | DateTime | String)
            }
            Lookup::IExact
            | Lookup::Contains
            | Lookup::IContains
            | Lookup::StartsWith
            | Lookup::IStartsWith => kind == String,
        }
    }

    /// The lookups a field of `kind` accepts.
    pub fn for_kind(kind: FieldKind) -> impl Iterator<Item = Lookup> {
        Self::ALL
            .iter()
            .copied()
            .filter(move |l| l.applies_to(kind))
    }
}

/// Parses a typed value of `field` from query-string text.
pub fn parse_value(field: &FieldMeta, raw: &str) -> Result<Value, (ErrorKind, String)> {
    let bad = |kind: ErrorKind, msg: &str| Err((kind, msg.to_string()));
    if raw.contains('\0') {
        return bad(
            ErrorKind::StringNul,
            "String should not contain NUL characters",
        );
    }
    match field.kind {
        FieldKind::Integer => {
            // Past the column's own type a value could only fail in the
            // database (or, bound as `i64`, in the driver): refuse it here.
            let (min, max) = integer_range(field);
            match raw.trim().parse::<i128>() {
                Ok(n) if n > i128::from(max) => Err((
                    ErrorKind::LessThanEqual,
                    format!("Input should be less than or equal to {max}"),
                )),
                Ok(n) if n < i128::from(min) => Err((
                    ErrorKind::GreaterThanEqual,
                    format!("Input should be greater than or equal to {min}"),
                )),
                Ok(n) => Ok(integer_value(field, n as i64)),
                Err(_) => bad(
                    ErrorKind::IntParsing,
                    "Input should be a valid integer, unable to parse string as an integer",
                ),
            }
        }
        FieldKind::Float => match raw.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Value::from(n)),
            _ => bad(
                ErrorKind::FloatParsing,
                "Input should be a valid number, unable to parse string as a number",
            ),
        },
        FieldKind::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::from(true)),
            "false" | "0" | "no" | "off" => Ok(Value::from(false)),
            _ => bad(
                ErrorKind::BoolParsing,
                "Input should be a valid boolean, unable to interpret input",
            ),
        },
        FieldKind::String => Ok(Value::from(raw.to_string())),
        FieldKind::Choice => {
            if field.choices.contains(&raw) {
                Ok(Value::from(raw.to_string()))
            } else {
                Err((
                    ErrorKind::Enum,
                    format!("Input should be {}", quoted_list(field.choices)),
                ))
            }
        }
        FieldKind::DateTime => match chrono::DateTime::parse_from_rfc3339(raw.trim()) {
            Ok(t) => Ok(Value::from(t.with_timezone(&chrono::Utc))),
            Err(_) => bad(
                ErrorKind::DatetimeParsing,
                "Input should be a valid datetime (RFC 3339, e.g. 2024-01-31T12:00:00Z)",
            ),
        },
        FieldKind::Date => match raw.trim().parse::<chrono::NaiveDate>() {
            Ok(d) => Ok(Value::from(d)),
            Err(_) => bad(
                ErrorKind::DateParsing,
                "Input should be a valid date (YYYY-MM-DD)",
            ),
        },
        FieldKind::Decimal => match raw.trim().parse::<rust_decimal::Decimal>() {
            Ok(d) => Ok(Value::from(d)),
            Err(_) => bad(ErrorKind::DecimalParsing, "Input should be a valid decimal"),
        },
        FieldKind::Uuid => match raw.trim().parse::<uuid::Uuid>() {
            Ok(u) => Ok(Value::from(u)),
            Err(_) => bad(ErrorKind::UuidParsing, "Input should be a valid UUID"),
        },
        FieldKind::Json => bad(ErrorKind::JsonFilter, "JSON fields cannot be filtered"),
    }
}

/// The values an integer field's column holds: `i16`, `i32` or `i64`.
pub fn integer_range(field: &FieldMeta) -> (i64, i64) {
    match field.db_type {
        crate::model::DbType::SmallInteger => (i16::MIN.into(), i16::MAX.into()),
        crate::model::DbType::Integer => (i32::MIN.into(), i32::MAX.into()),
        _ => (i64::MIN, i64::MAX),
    }
}

/// `n` (within [`integer_range`]) bound with its column's width. PostgreSQL
/// statements are prepared once per SQL text and connection: the same query
/// bound with an `i32` (a row's value) and later with an `i64` (a parsed one)
/// failed with "incorrect binary data format in bind parameter".
pub fn integer_value(field: &FieldMeta, n: i64) -> Value {
    match field.db_type {
        crate::model::DbType::SmallInteger => Value::from(n as i16),
        crate::model::DbType::Integer => Value::from(n as i32),
        _ => Value::from(n),
    }
}

/// `ctx` for an out-of-range integer error of [`parse_value`], as Pydantic gives it.
pub fn range_ctx(field: &FieldMeta, kind: &ErrorKind) -> Option<Json> {
    let (min, max) = integer_range(field);
    match kind {
        ErrorKind::LessThanEqual => Some(json!({ "le": max })),
        ErrorKind::GreaterThanEqual => Some(json!({ "ge": min })),
        _ => None,
    }
}

/// A typed value of `field` from its JSON form in a `Read` object
/// (cursor values, foreign keys); `Null` for JSON null.
pub fn value_from_json(field: &FieldMeta, json: &Json) -> Option<Value> {
    match json {
        Json::Null => Some(null_of(field.kind)),
        Json::String(s) => parse_value(field, s).ok(),
        Json::Bool(b) => Some(Value::from(*b)),
        Json::Number(n) => parse_value(field, &n.to_string()).ok(),
        _ => None,
    }
}

/// SQL NULL of the right type for `kind`.
pub fn null_of(kind: FieldKind) -> Value {
    match kind {
        FieldKind::Integer => Value::BigInt(None),
        FieldKind::Float => Value::Double(None),
        FieldKind::Boolean => Value::Bool(None),
        FieldKind::String | FieldKind::Choice => Value::String(None),
        FieldKind::DateTime => Value::ChronoDateTimeUtc(None),
        FieldKind::Date => Value::ChronoDate(None),
        FieldKind::Decimal => Value::Decimal(None),
        FieldKind::Uuid => Value::Uuid(None),
        FieldKind::Json => Value::Json(None),
    }
}

fn quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|c| format!("'{c}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// Why a `field__lookup=value` parameter is not a [`Filter`].
#[derive(Debug)]
pub enum FilterError {
    /// Not a filterable field, or a lookup the field does not take (the
    /// API's 400).
    Unknown(ErrorDetail),
    /// A value that does not parse or is past a bound (the API's 422).
    Invalid(ErrorDetail),
}

impl Filter {
    /// Parses one `field__lookup=value` parameter (`field=value` is
    /// `exact`) on one of the `allowed` fields of `meta`: the API passes
    /// `#[api(filter(...))]`, the admin `#[admin(list_filter(...))]`. Values
    /// are spelled as [`parse_value`] reads them; `__in` takes a comma list,
    /// `__isnull` a boolean (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`).
    pub fn parse(
        meta: &'static ModelMeta,
        allowed: &[&'static str],
        key: &str,
        value: &str,
        settings: &ListSettings,
    ) -> Result<Filter, FilterError> {
        parse_filter(meta, allowed, key, value, settings)
    }

    /// `field IN (values)`: the rows of a set of keys.
    pub fn is_in(field: &'static FieldMeta, values: Vec<Value>) -> Filter {
        Filter {
            field,
            lookup: Lookup::In,
            values,
        }
    }

    /// `field = value`.
    pub fn exact(field: &'static FieldMeta, value: Value) -> Filter {
        Filter {
            field,
            lookup: Lookup::Exact,
            values: vec![value],
        }
    }
}

pub(super) fn parse_filter(
    meta: &'static ModelMeta,
    allowed: &[&'static str],
    key: &str,
    value: &str,
    settings: &ListSettings,
) -> Result<Filter, FilterError> {
    let (name, lookup_name) = match key.split_once("__") {
        Some((name, lookup)) => (name, Some(lookup)),
        None => (key, None),
    };
    let declared = allowed.contains(&name);
    let Some(field) = meta.field(name).filter(|_| declared) else {
        let mut names: Vec<&str> = RESERVED.to_vec();
        if meta.api.search.is_empty() {
            names.retain(|p| *p != "search");
        }
        names.extend(allowed.iter().copied());
        return Err(FilterError::Unknown(detail(
            key,
            ErrorKind::UnknownParameter,
            format!(
                "Unknown query parameter; allowed: {} (filters take Django lookups such as `__gte`)",
                names.join(", ")
            ),
        )));
    };
    let lookup = match lookup_name {
        None => Lookup::Exact,
        Some(l) => match Lookup::ALL.iter().find(|x| x.name() == l) {
            Some(lookup) => *lookup,
            None => return Err(FilterError::Unknown(unknown_lookup(key, field, l))),
        },
    };
    if !lookup.applies_to(field.kind) {
        return Err(FilterError::Unknown(unknown_lookup(
            key,
            field,
            lookup.name(),
        )));
    }
    let values = filter_values(field, lookup, key, value, settings)?;
    Ok(Filter {
        field,
        lookup,
        values,
    })
}

/// The operands of `key=value` for `lookup` on `field`: one value, a
/// comma list for `__in` (at most `max_in_values`), a boolean for
/// `__isnull`; each within `max_filter_value_length` characters.
fn filter_values(
    field: &FieldMeta,
    lookup: Lookup,
    key: &str,
    value: &str,
    settings: &ListSettings,
) -> Result<Vec<Value>, FilterError> {
    let invalid = |(kind, msg): (ErrorKind, String)| {
        let ctx = range_ctx(field, &kind);
        let error = detail(key, kind, msg);
        FilterError::Invalid(match ctx {
            Some(ctx) => error.with_ctx(ctx),
            None => error,
        })
    };
    let max_length = settings.max_filter_value_length;
    let too_long = || FilterError::Invalid(too_long_text(key, max_length));
    Ok(match lookup {
        Lookup::IsNull => {
            let flag = parse_value(&BOOL_FIELD, value).map_err(invalid)?;
            vec![flag]
        }
        Lookup::In => {
            let count = value.split(',').count();
            if count > settings.max_in_values {
                return Err(FilterError::Invalid(too_many(
                    key,
                    "List",
                    settings.max_in_values,
                    count,
                )));
            }
            let mut values = Vec::with_capacity(count);
            for part in value.split(',') {
                if part.chars().count() > max_length {
                    return Err(too_long());
                }
                values.push(parse_value(field, part).map_err(invalid)?);
            }
            values
        }
        _ if value.chars().count() > max_length => return Err(too_long()),
        _ => vec![parse_value(field, value).map_err(invalid)?],
    })
}

/// A stand-in field for parsing `__isnull`'s boolean.
static BOOL_FIELD: FieldMeta = FieldMeta::new("isnull", crate::model::DbType::Boolean);

fn unknown_lookup(key: &str, field: &FieldMeta, lookup: &str) -> ErrorDetail {
    let allowed: Vec<&str> = Lookup::for_kind(field.kind).map(Lookup::name).collect();
    detail(
        key,
        ErrorKind::UnknownLookup,
        format!(
            "Unknown lookup `{lookup}` for `{}`; allowed: {}",
            field.name,
            allowed.join(", ")
        ),
    )
}
