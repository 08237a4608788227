//! Reading request bodies into the generated schema types, collecting every
//! problem as a FastAPI-shaped [`ErrorDetail`] instead of stopping at the first.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use validator::{ValidateEmail, ValidateLength, ValidateRange, ValidateRegex, ValidateUrl};

use crate::error::{ApiError, ErrorDetail, ErrorKind, ValidationError};
use crate::model::FieldKind;

/// A type built from a JSON request body, reporting all errors at once.
/// Implemented by `#[derive(Model)]` for `PostCreate` and `PostUpdate`.
pub trait FromJsonBody: Sized {
    /// Parses and validates `body`.
    fn from_json_body(body: Value) -> Result<Self, ValidationError>;
}

/// Extractor for a JSON body parsed with [`FromJsonBody`]: 415 when the
/// content type is not JSON, 413 past the body limit, 422 for bad JSON or
/// invalid fields.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: FromJsonBody, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = DeferredJson::from_request(req, state)
            .await
            .unwrap_or_else(|never| match never {});
        Ok(JsonBody(body.parse()?))
    }
}

/// A JSON body read but not yet parsed, so a handler can check who is
/// calling before looking at what they sent (401/403 before 422, as DRF).
#[derive(Debug)]
pub struct DeferredJson {
    body: Result<Bytes, ApiError>,
    max_depth: usize,
}

/// How deeply a JSON request body may nest arrays and objects (64 unless
/// set with [`App::json_depth`](crate::App::json_depth)); deeper bodies get
/// a 422 `json_invalid` before any field is read. serde_json refuses
/// anything past 128 levels whatever this says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonDepth(pub usize);

/// The default [`JsonDepth`].
pub const DEFAULT_JSON_DEPTH: usize = 64;

impl Default for JsonDepth {
    fn default() -> Self {
        JsonDepth(DEFAULT_JSON_DEPTH)
    }
}

impl<S: Send + Sync> FromRequest<S> for DeferredJson {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let max_depth = req
            .extensions()
            .get::<JsonDepth>()
            .copied()
            .unwrap_or_default()
            .0;
        if !is_json(&req) {
            return Ok(DeferredJson {
                body: Err(ApiError::UnsupportedMediaType(ValidationError::single(
                    ErrorDetail::new(
                        vec!["header".into(), "content-type".into()],
                        ErrorKind::ContentType,
                        "Expected a JSON body with `Content-Type: application/json`",
                    ),
                ))),
                max_depth,
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::Validation(ValidationError::single(ErrorDetail::new(
                    vec!["body".into()],
                    ErrorKind::BodyRead,
                    "The request body could not be read",
                )))
            }
        });
        Ok(DeferredJson {
            body: bytes,
            max_depth,
        })
    }
}

impl DeferredJson {
    /// A body already read, as the extractor would hold it: for tests and
    /// for handlers that read the body themselves.
    pub fn from_bytes(bytes: impl Into<Bytes>, max_depth: JsonDepth) -> Self {
        DeferredJson {
            body: Ok(bytes.into()),
            max_depth: max_depth.0,
        }
    }

    /// Parses and validates the body as `T` (415, 413 or 422 on failure).
    pub fn parse<T: FromJsonBody>(self) -> Result<T, ApiError> {
        Ok(T::from_json_body(self.json()?)?)
    }

    /// [`DeferredJson::parse`], also answering the JSON it was parsed from,
    /// for checks across fields (a password against the account's name).
    pub fn parse_with_json<T: FromJsonBody>(self) -> Result<(T, Value), ApiError> {
        let value = self.json()?;
        Ok((T::from_json_body(value.clone())?, value))
    }

    fn json(self) -> Result<Value, ApiError> {
        let bytes = self.body?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|error| {
            ValidationError::single(
                ErrorDetail::new(
                    vec!["body".into()],
                    ErrorKind::JsonInvalid,
                    "JSON decode error",
                )
                .with_ctx(json!({ "error": error.to_string() })),
            )
        })?;
        if depth(&value) > self.max_depth {
            return Err(ApiError::Validation(ValidationError::single(
                ErrorDetail::new(
                    vec!["body".into()],
                    ErrorKind::JsonInvalid,
                    format!(
                        "JSON should nest at most {} levels of arrays and objects",
                        self.max_depth
                    ),
                )
                .with_ctx(json!({ "max_depth": self.max_depth })),
            )));
        }
        let mut nul = Vec::new();
        find_nul(&value, &mut vec![Value::from("body")], &mut nul);
        if !nul.is_empty() {
            return Err(ApiError::Validation(ValidationError { detail: nul }));
        }
        Ok(value)
    }
}

/// Levels of arrays and objects in `value`: 0 for a scalar, 1 for `[]`.
/// Recursion is safe: serde_json stops parsing at 128 levels.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Records every string holding a NUL character: PostgreSQL cannot store
/// one in text, and no client means to send it.
fn find_nul(value: &Value, loc: &mut Vec<Value>, found: &mut Vec<ErrorDetail>) {
    match value {
        Value::String(s) if s.contains('\0') => found.push(ErrorDetail::new(
            loc.clone(),
            ErrorKind::StringNul,
            "String should not contain NUL characters",
        )),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                loc.push(Value::from(i));
                find_nul(item, loc, found);
                loc.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if key.contains('\0') {
                    found.push(ErrorDetail::new(
                        loc.clone(),
                        ErrorKind::StringNul,
                        "Keys should not contain NUL characters",
                    ));
                }
                loc.push(Value::from(key.as_str()));
                find_nul(item, loc, found);
                loc.pop();
            }
        }
        _ => {}
    }
}

fn is_json(req: &Request) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// What a field's value must be, for error messages: its kind, and for
/// a choices enum the allowed values.
#[derive(Clone, Copy, Debug)]
pub struct Expected {
    /// The kind of value.
    pub kind: FieldKind,
    /// For [`FieldKind::Choice`], the allowed strings.
    pub choices: &'static [&'static str],
}

impl Expected {
    /// A `Choices` enum's values.
    pub fn choices<T: crate::Choices>() -> Self {
        Expected {
            kind: FieldKind::Choice,
            choices: T::VARIANTS,
        }
    }
}

impl From<FieldKind> for Expected {
    fn from(kind: FieldKind) -> Self {
        Expected { kind, choices: &[] }
    }
}

/// Takes a JSON object apart field by field for generated `FromJsonBody` impls.
pub struct ObjectReader {
    object: Map<String, Value>,
    errors: Vec<ErrorDetail>,
}

impl ObjectReader {
    /// Starts reading `body`, which must be an object; keys not in `known`
    /// are errors when `reject_unknown`, else ignored.
    pub fn new(
        body: Value,
        known: &'static [&'static str],
        reject_unknown: bool,
    ) -> Result<Self, ValidationError> {
        let Value::Object(object) = body else {
            return Err(ValidationError::single(ErrorDetail::new(
                vec!["body".into()],
                ErrorKind::ModelAttributesType,
                "Input should be a valid dictionary or object to extract fields from",
            )));
        };
        let errors = object
            .keys()
            .filter(|key| reject_unknown && !known.contains(&key.as_str()))
            .map(|key| {
                ErrorDetail::new(
                    vec!["body".into(), key.clone().into()],
                    ErrorKind::ExtraForbidden,
                    "Extra inputs are not permitted",
                )
            })
            .collect();
        Ok(ObjectReader { object, errors })
    }

    fn take<T: DeserializeOwned>(
        &mut self,
        key: &str,
        expected: Expected,
        value: Value,
    ) -> Option<T> {
        // JSON Schema counts `3.0` as an integer, and so does Pydantic.
        let value = match value {
            Value::Number(n) if expected.kind == FieldKind::Integer && n.is_f64() => {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 2f64.powi(63) => Value::from(f as i64),
                    _ => Value::Number(n),
                }
            }
            other => other,
        };
        match serde_json::from_value(value) {
            Ok(v) => Some(v),
            Err(_) if expected.kind == FieldKind::Choice => {
                let quoted: Vec<String> =
                    expected.choices.iter().map(|c| format!("'{c}'")).collect();
                let list = match quoted.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("{} or {last}", rest.join(", "))
                    }
                    _ => quoted.join(""),
                };
                self.fail(
                    key,
                    ErrorKind::Enum,
                    format!("Input should be {list}"),
                    Some(json!({ "expected": list })),
                );
                None
            }
            Err(_) => {
                let (kind, msg) = expected.kind.type_error();
                self.errors
                    .push(ErrorDetail::new(vec!["body".into(), key.into()], kind, msg));
                None
            }
        }
    }

    /// A field that must be present.
    pub fn required<T: DeserializeOwned>(
        &mut self,
        key: &str,
        expected: impl Into<Expected>,
    ) -> Option<T> {
        match self.object.remove(key) {
            Some(value) => self.take(key, expected.into(), value),
            None => {
                self.errors.push(ErrorDetail::new(
                    vec!["body".into(), key.into()],
                    ErrorKind::Missing,
                    "Field required",
                ));
                None
            }
        }
    }

    /// A field that takes `default()` when absent.
    pub fn optional<T: DeserializeOwned>(
        &mut self,
        key: &str,
        expected: impl Into<Expected>,
        default: fn() -> T,
    ) -> Option<T> {
        match self.object.remove(key) {
            Some(value) => self.take(key, expected.into(), value),
            None => Some(default()),
        }
    }

    /// A PATCH field: `Some(None)` when absent (unchanged), `None` on error.
    pub fn patch<T: DeserializeOwned>(
        &mut self,
        key: &str,
        expected: impl Into<Expected>,
    ) -> Option<Option<T>> {
        match self.object.remove(key) {
            Some(value) => self.take(key, expected.into(), value).map(Some),
            None => Some(None),
        }
    }

    /// No error so far.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors collected so far.
    pub fn into_error(self) -> ValidationError {
        ValidationError {
            detail: self.errors,
        }
    }

    fn fail(&mut self, key: &str, kind: ErrorKind, msg: String, ctx: Option<Value>) {
        let mut detail = ErrorDetail::new(vec!["body".into(), key.into()], kind, msg);
        detail.ctx = ctx.map(Box::new);
        self.errors.push(detail);
    }

    /// `min_length` / `max_length`, counted in characters.
    pub fn check_length(&mut self, key: &str, value: &str, min: Option<u64>, max: Option<u64>) {
        if value.validate_length(min, max, None) {
            return;
        }
        let length = value.chars().count() as u64;
        let plural = |n: u64| if n == 1 { "character" } else { "characters" };
        match (min, max) {
            (Some(min), _) if length < min => self.fail(
                key,
                ErrorKind::StringTooShort,
                format!("String should have at least {min} {}", plural(min)),
                Some(json!({ "min_length": min })),
            ),
            (_, Some(max)) => self.fail(
                key,
                ErrorKind::StringTooLong,
                format!("String should have at most {max} {}", plural(max)),
                Some(json!({ "max_length": max })),
            ),
            _ => {}
        }
    }

    /// `min_value` / `max_value`, inclusive.
    pub fn check_range<T>(&mut self, key: &str, value: T, min: Option<T>, max: Option<T>)
    where
        T: ValidateRange<T> + PartialOrd + Copy + serde::Serialize + std::fmt::Display,
    {
        if value.validate_range(min, max, None, None) {
            return;
        }
        match (min, max) {
            (Some(min), _) if value < min => self.fail(
                key,
                ErrorKind::GreaterThanEqual,
                format!("Input should be greater than or equal to {min}"),
                Some(json!({ "ge": min })),
            ),
            (_, Some(max)) => self.fail(
                key,
                ErrorKind::LessThanEqual,
                format!("Input should be less than or equal to {max}"),
                Some(json!({ "le": max })),
            ),
            _ => {}
        }
    }

    /// `max_digits` / `decimal_places` of a Decimal, as Pydantic checks them.
    pub fn check_decimal(
        &mut self,
        key: &str,
        value: &rust_decimal::Decimal,
        max_digits: u32,
        decimal_places: u32,
    ) {
        let normalized = value.normalize();
        let places = normalized.scale();
        let digits = normalized.mantissa().unsigned_abs().to_string().len() as u32;
        let digits = digits.max(places);
        if places > decimal_places {
            self.fail(
                key,
                ErrorKind::DecimalMaxPlaces,
                format!("Decimal input should have no more than {decimal_places} decimal places"),
                Some(json!({ "decimal_places": decimal_places })),
            );
        } else if digits - places > max_digits - decimal_places {
            self.fail(
                key,
                ErrorKind::DecimalWholeDigits,
                format!(
                    "Decimal input should have no more than {} digits before the decimal point",
                    max_digits - decimal_places
                ),
                Some(json!({ "whole_digits": max_digits - decimal_places })),
            );
        }
    }

    /// `email`: an email address, as the `validator` crate defines one.
    pub fn check_email(&mut self, key: &str, value: &str) {
        if !value.validate_email() {
            self.fail(
                key,
                ErrorKind::ValueError,
                "value is not a valid email address".into(),
                None,
            );
        }
    }

    /// `url`: an absolute URL.
    pub fn check_url(&mut self, key: &str, value: &str) {
        if !value.validate_url() {
            self.fail(
                key,
                ErrorKind::UrlParsing,
                "Input should be a valid URL".into(),
                None,
            );
        }
    }

    /// `regex`: the string must contain a match.
    pub fn check_pattern(&mut self, key: &str, value: &str, pattern: &regex::Regex) {
        if !value.validate_regex(pattern) {
            self.fail(
                key,
                ErrorKind::StringPatternMismatch,
                format!("String should match pattern '{}'", pattern.as_str()),
                Some(json!({ "pattern": pattern.as_str() })),
            );
        }
    }
}
