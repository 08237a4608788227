//! Reading request bodies into the generated schema types, collecting every
//! problem as a FastAPI-shaped [`ErrorDetail`] instead of stopping at the first.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use validator::{Validate, ValidationErrorsKind};

use crate::error::{ApiError, ErrorDetail, ValidationError};
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
        if !is_json(&req) {
            return Err(ApiError::UnsupportedMediaType(ValidationError::single(
                ErrorDetail::new(
                    vec!["header".into(), "content-type".into()],
                    "content_type",
                    "Expected a JSON body with `Content-Type: application/json`",
                ),
            )));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::Validation(ValidationError::single(ErrorDetail::new(
                    vec!["body".into()],
                    "body_read",
                    "The request body could not be read",
                )))
            }
        })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|error| {
            ValidationError::single(
                ErrorDetail::new(vec!["body".into()], "json_invalid", "JSON decode error")
                    .with_ctx(json!({ "error": error.to_string() })),
            )
        })?;
        Ok(JsonBody(T::from_json_body(value)?))
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

/// Takes a JSON object apart field by field for generated `FromJsonBody` impls.
pub struct ObjectReader {
    object: Map<String, Value>,
    known: &'static [&'static str],
    errors: Vec<ErrorDetail>,
}

impl ObjectReader {
    /// Starts reading `body`, which must be an object whose keys are all in `known`.
    pub fn new(body: Value, known: &'static [&'static str]) -> Result<Self, ValidationError> {
        let Value::Object(object) = body else {
            return Err(ValidationError::single(ErrorDetail::new(
                vec!["body".into()],
                "model_attributes_type",
                "Input should be a valid dictionary or object to extract fields from",
            )));
        };
        let errors = object
            .keys()
            .filter(|key| !known.contains(&key.as_str()))
            .map(|key| {
                ErrorDetail::new(
                    vec!["body".into(), key.clone().into()],
                    "extra_forbidden",
                    "Extra inputs are not permitted",
                )
            })
            .collect();
        Ok(ObjectReader {
            object,
            known,
            errors,
        })
    }

    fn take<T: DeserializeOwned>(&mut self, key: &str, kind: FieldKind, value: Value) -> Option<T> {
        match serde_json::from_value(value) {
            Ok(v) => Some(v),
            Err(_) => {
                let (kind, msg) = kind.type_error();
                self.errors
                    .push(ErrorDetail::new(vec!["body".into(), key.into()], kind, msg));
                None
            }
        }
    }

    /// A field that must be present.
    pub fn required<T: DeserializeOwned>(&mut self, key: &str, kind: FieldKind) -> Option<T> {
        match self.object.remove(key) {
            Some(value) => self.take(key, kind, value),
            None => {
                self.errors.push(ErrorDetail::new(
                    vec!["body".into(), key.into()],
                    "missing",
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
        kind: FieldKind,
        default: fn() -> T,
    ) -> Option<T> {
        match self.object.remove(key) {
            Some(value) => self.take(key, kind, value),
            None => Some(default()),
        }
    }

    /// A PATCH field: `Some(None)` when absent (unchanged), `None` on error.
    pub fn patch<T: DeserializeOwned>(&mut self, key: &str, kind: FieldKind) -> Option<Option<T>> {
        match self.object.remove(key) {
            Some(value) => self.take(key, kind, value).map(Some),
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

    /// Runs the declared constraints on the assembled value.
    pub fn validated<T: Validate>(self, value: T) -> Result<T, ValidationError> {
        match value.validate() {
            Ok(()) => Ok(value),
            Err(errors) => {
                let mut details: Vec<(usize, ErrorDetail)> = Vec::new();
                for (field, kind) in errors.errors() {
                    let ValidationErrorsKind::Field(list) = kind else {
                        continue;
                    };
                    let order = self
                        .known
                        .iter()
                        .position(|k| *k == field.as_ref())
                        .unwrap_or(usize::MAX);
                    for error in list {
                        details.push((order, constraint_detail(field, error)));
                    }
                }
                details.sort_by_key(|(order, _)| *order);
                Err(ValidationError {
                    detail: details.into_iter().map(|(_, d)| d).collect(),
                })
            }
        }
    }
}

/// Translates a `validator` error into Pydantic's type, message and context.
fn constraint_detail(field: &str, error: &validator::ValidationError) -> ErrorDetail {
    let loc = vec![Value::from("body"), Value::from(field)];
    let param = |name: &str| error.params.get(name).cloned();
    match error.code.as_ref() {
        "length" => {
            let length = param("value")
                .and_then(|v| v.as_str().map(|s| s.chars().count() as u64))
                .unwrap_or(0);
            let min = param("min").and_then(|v| v.as_u64());
            let max = param("max").and_then(|v| v.as_u64());
            let plural = |n: u64| if n == 1 { "character" } else { "characters" };
            match (min, max) {
                (Some(min), _) if length < min => ErrorDetail::new(
                    loc,
                    "string_too_short",
                    format!("String should have at least {min} {}", plural(min)),
                )
                .with_ctx(json!({ "min_length": min })),
                (_, Some(max)) => ErrorDetail::new(
                    loc,
                    "string_too_long",
                    format!("String should have at most {max} {}", plural(max)),
                )
                .with_ctx(json!({ "max_length": max })),
                _ => ErrorDetail::new(loc, "string_length", "String has the wrong length"),
            }
        }
        "range" => {
            let value = param("value").and_then(|v| v.as_f64());
            let min = param("min");
            let max = param("max");
            match (min, max) {
                (Some(min), _) if value.zip(min.as_f64()).is_some_and(|(v, m)| v < m) => {
                    ErrorDetail::new(
                        loc,
                        "greater_than_equal",
                        format!("Input should be greater than or equal to {min}"),
                    )
                    .with_ctx(json!({ "ge": min }))
                }
                (_, Some(max)) => ErrorDetail::new(
                    loc,
                    "less_than_equal",
                    format!("Input should be less than or equal to {max}"),
                )
                .with_ctx(json!({ "le": max })),
                _ => ErrorDetail::new(loc, "range", "Input is out of range"),
            }
        }
        code => ErrorDetail::new(
            loc,
            code.to_string(),
            error
                .message
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_else(|| format!("Input failed the `{code}` check")),
        ),
    }
}
