//! The body reader: a JSON object checked field by field against the
//! model's [`FieldMeta`] (type, presence, every constraint), then moved into
//! the generated `PostCreate` / `PostUpdate` type by its serde derive.
//!
//! Generated `FromJsonBody` impls are one call to [`read_body`]: nothing
//! about a field is repeated in generated code.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use validator::{ValidateEmail, ValidateUrl};

use crate::error::{ErrorDetail, ErrorKind, ValidationError};
use crate::model::{DbType, FieldKind, FieldMeta, ModelMeta};

/// Which request body is read: it decides the fields accepted and required.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// POST and PUT (`PostCreate`): every writable field; those without a
    /// default that are not nullable are required.
    Create,
    /// PATCH (`PostUpdate`): every writable field but the primary key, all optional.
    Patch,
}

impl BodyKind {
    /// Whether a body of this kind carries `field`.
    pub fn reads(self, field: &FieldMeta) -> bool {
        !field.read_only && (self == BodyKind::Create || !field.primary_key)
    }
}

/// Reads `body` as `T`, the `kind` body of the model `meta` describes:
/// every problem of every field is reported at once, as FastAPI does.
///
/// Keys the body may not carry are `extra_forbidden` (unless the model
/// ignores unknown fields); each field present is checked for its type
/// and its constraints, each required one for its presence. Only a body
/// with no problem reaches `T`'s `Deserialize`.
pub fn read_body<T: DeserializeOwned>(
    body: Value,
    meta: &'static ModelMeta,
    kind: BodyKind,
) -> Result<T, ValidationError> {
    let Value::Object(mut object) = body else {
        return Err(ValidationError::single(ErrorDetail::new(
            vec!["body".into()],
            ErrorKind::ModelAttributesType,
            "Input should be a valid dictionary or object to extract fields from",
        )));
    };
    let mut reader = FieldReader { errors: Vec::new() };
    if meta.api.reject_unknown_fields {
        for key in object.keys() {
            if !meta.fields.iter().any(|f| f.name == key && kind.reads(f)) {
                reader.fail(
                    key,
                    ErrorKind::ExtraForbidden,
                    "Extra inputs are not permitted",
                );
            }
        }
    }
    let mut checked = Map::new();
    for field in meta.fields.iter().filter(|f| kind.reads(f)) {
        match object.remove(field.name) {
            Some(value) => {
                if let Some(value) = reader.field(field, value) {
                    checked.insert(field.name.into(), value);
                }
            }
            None if kind == BodyKind::Create && field.is_required_on_create() => {
                reader.fail(field.name, ErrorKind::Missing, "Field required");
            }
            None => {}
        }
    }
    if !reader.errors.is_empty() {
        return Err(ValidationError {
            detail: reader.errors,
        });
    }
    // Every value has the type its field's Rust type reads, so this only
    // fails if `T` and `meta` disagree: still a 422, never a 500.
    serde_json::from_value(Value::Object(checked)).map_err(|error| {
        ValidationError::single(ErrorDetail::new(
            vec!["body".into()],
            ErrorKind::ValueError,
            format!("Value error, {error}"),
        ))
    })
}

/// The problems found so far in one body.
struct FieldReader {
    errors: Vec<ErrorDetail>,
}

impl FieldReader {
    fn fail(&mut self, key: &str, kind: ErrorKind, msg: impl Into<String>) {
        self.errors
            .push(ErrorDetail::new(vec!["body".into(), key.into()], kind, msg));
    }

    fn fail_with(&mut self, key: &str, kind: ErrorKind, msg: String, ctx: Value) {
        let detail = ErrorDetail::new(vec!["body".into(), key.into()], kind, msg);
        self.errors.push(detail.with_ctx(ctx));
    }

    /// Checks one value of `field`: its type, then its constraints. The
    /// value to deserialize, or `None` after recording why not.
    fn field(&mut self, field: &FieldMeta, value: Value) -> Option<Value> {
        // `serde_json::Value` takes `null` as a value of its own.
        if value.is_null() && (field.nullable || field.kind == FieldKind::Json) {
            return Some(value);
        }
        let value = integral(field, value);
        if !has_type(field, &value) {
            if field.kind == FieldKind::Choice {
                let list = choice_list(field.choices);
                self.fail_with(
                    field.name,
                    ErrorKind::Enum,
                    format!("Input should be {list}"),
                    json!({ "expected": list }),
                );
            } else {
                let (kind, msg) = field.kind.type_error();
                self.fail(field.name, kind, msg);
            }
            return None;
        }
        let before = self.errors.len();
        match &value {
            Value::String(text) if field.kind == FieldKind::String => {
                self.check_string(field, text)
            }
            Value::Number(_) if field.kind == FieldKind::Integer => {
                self.check_integer(field, &value)
            }
            Value::Number(_) if field.kind == FieldKind::Float => self.check_float(field, &value),
            _ if field.kind == FieldKind::Decimal => self.check_decimal(field, &value),
            _ => {}
        }
        (self.errors.len() == before).then_some(value)
    }

    /// `min_length` / `max_length` (in characters), `email`, `url`, `regex`.
    fn check_string(&mut self, field: &FieldMeta, value: &str) {
        let key = field.name;
        let length = value.chars().count() as u64;
        let plural = |n: u64| if n == 1 { "character" } else { "characters" };
        if let Some(min) = field.min_length.filter(|min| length < *min) {
            self.fail_with(
                key,
                ErrorKind::StringTooShort,
                format!("String should have at least {min} {}", plural(min)),
                json!({ "min_length": min }),
            );
        } else if let Some(max) = field.max_length.filter(|max| length > *max) {
            self.fail_with(
                key,
                ErrorKind::StringTooLong,
                format!("String should have at most {max} {}", plural(max)),
                json!({ "max_length": max }),
            );
        }
        match field.format {
            Some("email") if !value.validate_email() => self.fail(
                key,
                ErrorKind::ValueError,
                "value is not a valid email address",
            ),
            Some("uri") if !value.validate_url() => {
                self.fail(key, ErrorKind::UrlParsing, "Input should be a valid URL")
            }
            _ => {}
        }
        if let Some(pattern) = field.pattern
            && !matches_pattern(pattern, value)
        {
            self.fail_with(
                key,
                ErrorKind::StringPatternMismatch,
                format!("String should match pattern '{pattern}'"),
                json!({ "pattern": pattern }),
            );
        }
    }

    /// `min_value` / `max_value` of an integer field, inclusive.
    fn check_integer(&mut self, field: &FieldMeta, value: &Value) {
        let Some(value) = value.as_i64() else {
            return;
        };
        let min = field.min_value.map(|m| m as i64);
        let max = field.max_value.map(|m| m as i64);
        self.check_range(field.name, value, min, max);
    }

    /// `min_value` / `max_value` of an `f32` or `f64` field, compared (and
    /// shown) at the field's own precision.
    fn check_float(&mut self, field: &FieldMeta, value: &Value) {
        let Some(value) = value.as_f64() else {
            return;
        };
        if field.db_type == DbType::Float {
            let min = field.min_value.map(|m| m as f32);
            let max = field.max_value.map(|m| m as f32);
            self.check_range(field.name, value as f32, min, max);
        } else {
            self.check_range(field.name, value, field.min_value, field.max_value);
        }
    }

    fn check_range<T>(&mut self, key: &str, value: T, min: Option<T>, max: Option<T>)
    where
        T: PartialOrd + Copy + serde::Serialize + std::fmt::Display,
    {
        if let Some(min) = min.filter(|min| value < *min) {
            self.fail_with(
                key,
                ErrorKind::GreaterThanEqual,
                format!("Input should be greater than or equal to {min}"),
                json!({ "ge": min }),
            );
        } else if let Some(max) = max.filter(|max| value > *max) {
            self.fail_with(
                key,
                ErrorKind::LessThanEqual,
                format!("Input should be less than or equal to {max}"),
                json!({ "le": max }),
            );
        }
    }

    /// `max_digits` / `decimal_places` of a Decimal, as Pydantic checks them.
    fn check_decimal(&mut self, field: &FieldMeta, value: &Value) {
        let (Some((max_digits, decimal_places)), Ok(value)) = (
            field.decimal_precision(),
            <rust_decimal::Decimal as Deserialize>::deserialize(value),
        ) else {
            return;
        };
        let normalized = value.normalize();
        let places = normalized.scale();
        let digits = normalized.mantissa().unsigned_abs().to_string().len() as u32;
        let digits = digits.max(places);
        let whole_digits = max_digits.saturating_sub(decimal_places);
        if places > decimal_places {
            self.fail_with(
                field.name,
                ErrorKind::DecimalMaxPlaces,
                format!("Decimal input should have no more than {decimal_places} decimal places"),
                json!({ "decimal_places": decimal_places }),
            );
        } else if digits - places > whole_digits {
            self.fail_with(
                field.name,
                ErrorKind::DecimalWholeDigits,
                format!(
                    "Decimal input should have no more than {whole_digits} digits before the decimal point"
                ),
                json!({ "whole_digits": whole_digits }),
            );
        }
    }
}

/// JSON Schema counts `3.0` as an integer, and so does Pydantic.
fn integral(field: &FieldMeta, value: Value) -> Value {
    match value {
        Value::Number(n) if field.kind == FieldKind::Integer && n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 2f64.powi(63) => Value::from(f as i64),
            _ => Value::Number(n),
        },
        other => other,
    }
}

/// Whether `value` reads as the Rust type of `field` (by the same
/// `Deserialize` impls the generated body types use).
fn has_type(field: &FieldMeta, value: &Value) -> bool {
    fn reads<'a, T: Deserialize<'a>>(value: &'a Value) -> bool {
        T::deserialize(value).is_ok()
    }
    match (field.kind, field.db_type) {
        (FieldKind::Integer, DbType::SmallInteger) => reads::<i16>(value),
        (FieldKind::Integer, DbType::Integer) => reads::<i32>(value),
        (FieldKind::Integer, _) => reads::<i64>(value),
        (FieldKind::Float, DbType::Float) => reads::<f32>(value),
        (FieldKind::Float, _) => reads::<f64>(value),
        (FieldKind::Boolean, _) => value.is_boolean(),
        (FieldKind::String, _) => value.is_string(),
        (FieldKind::DateTime, _) => reads::<chrono::DateTime<chrono::Utc>>(value),
        (FieldKind::Date, _) => reads::<chrono::NaiveDate>(value),
        (FieldKind::Decimal, _) => reads::<rust_decimal::Decimal>(value),
        (FieldKind::Uuid, _) => reads::<uuid::Uuid>(value),
        (FieldKind::Json, _) => true,
        (FieldKind::Choice, _) => value.as_str().is_some_and(|v| field.choices.contains(&v)),
    }
}

/// `'a', 'b' or 'c'`, as Pydantic lists the values of an enum.
fn choice_list(choices: &[&str]) -> String {
    let quoted: Vec<String> = choices.iter().map(|c| format!("'{c}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// Whether `value` contains a match of `pattern`, compiled once per
/// pattern. The derive refuses a pattern that does not compile; one built
/// by hand that does not is matched by nothing.
fn matches_pattern(pattern: &'static str, value: &str) -> bool {
    static COMPILED: LazyLock<Mutex<HashMap<&'static str, Option<regex::Regex>>>> =
        LazyLock::new(Mutex::default);
    let regex = {
        let mut compiled = COMPILED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        compiled
            .entry(pattern)
            .or_insert_with(|| regex::Regex::new(pattern).ok())
            .clone()
    };
    regex.is_some_and(|regex| regex.is_match(value))
}
