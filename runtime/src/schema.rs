//! Reading request bodies into the generated schema types, collecting every
//! problem as a FastAPI-shaped [`ErrorDetail`] instead of stopping at the first.
//!
//! Each field's constraints live once, in the model's [`FieldMeta`]: the
//! body reader ([`read_body`]) checks a request against them and the JSON
//! Schema of the request bodies gets its keywords from them
//! ([`constrain_schema`]), so the document says what the server enforces.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use crate::error::{ApiError, ErrorDetail, ErrorKind, ValidationError};
pub use crate::model::FromJsonBody;

mod constraints;
mod reader;

pub use constraints::{SchemaKind, constrain_schema};
pub use reader::{BodyKind, read_body};

/// A request body type `#[derive(Model)]` generates (`PostCreate`,
/// `PostUpdate`): the model whose metadata reads it, and as which body.
/// Every such type is [`FromJsonBody`] through [`read_body`].
pub trait ModelBody: serde::de::DeserializeOwned {
    /// The model the body creates or changes rows of.
    type Model: crate::model::Model;
    /// Which body it is.
    const KIND: BodyKind;
}

impl<T: ModelBody> FromJsonBody for T {
    fn from_json_body(body: Value) -> Result<Self, ValidationError> {
        read_body(body, <T::Model as crate::model::Model>::meta(), T::KIND)
    }
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
