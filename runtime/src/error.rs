//! Error responses, shaped like FastAPI's so Pydantic users feel at home:
//! `{"detail": [{"loc": [...], "msg": "...", "type": "...", "ctx": {...}}]}`
//! for input errors, `{"detail": "..."}` for the rest. Never SQL, never a trace.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;
use serde::Serialize;
use serde_json::Value;

/// What handlers return: a response, or an [`ApiError`] rendered as one.
pub type ApiResult<T> = Result<T, ApiError>;

/// The machine-readable type of an [`ErrorDetail`], spelled as Pydantic
/// (and so FastAPI) spells it on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A required field is absent. (`missing`)
    Missing,
    /// A key the body does not accept. (`extra_forbidden`)
    ExtraForbidden,
    /// The body is not JSON. (`json_invalid`)
    JsonInvalid,
    /// The value is not valid JSON. (`json_type`)
    JsonType,
    /// The body is not a JSON object. (`model_attributes_type`)
    ModelAttributesType,
    /// The body could not be read. (`body_read`)
    BodyRead,
    /// Not a string. (`string_type`)
    StringType,
    /// Shorter than `min_length`. (`string_too_short`)
    StringTooShort,
    /// Longer than `max_length`. (`string_too_long`)
    StringTooLong,
    /// Does not match the field's `regex`. (`string_pattern_mismatch`)
    StringPatternMismatch,
    /// Contains a NUL character, which databases refuse. (`string_nul`)
    StringNul,
    /// Not an integer. (`int_type`)
    IntType,
    /// Text that is not an integer (or out of the column's range). (`int_parsing`)
    IntParsing,
    /// Not a number. (`float_type`)
    FloatType,
    /// Text that is not a number. (`float_parsing`)
    FloatParsing,
    /// Not a boolean. (`bool_type`)
    BoolType,
    /// Text that is not a boolean. (`bool_parsing`)
    BoolParsing,
    /// Not a decimal. (`decimal_type`)
    DecimalType,
    /// Text that is not a decimal. (`decimal_parsing`)
    DecimalParsing,
    /// More decimal places than allowed. (`decimal_max_places`)
    DecimalMaxPlaces,
    /// More whole digits than allowed. (`decimal_whole_digits`)
    DecimalWholeDigits,
    /// Not a datetime. (`datetime_type`)
    DatetimeType,
    /// Text that is not an RFC 3339 datetime. (`datetime_parsing`)
    DatetimeParsing,
    /// Not a date. (`date_type`)
    DateType,
    /// Text that is not a `YYYY-MM-DD` date. (`date_parsing`)
    DateParsing,
    /// Not a UUID. (`uuid_type`)
    UuidType,
    /// Text that is not a UUID. (`uuid_parsing`)
    UuidParsing,
    /// Not a URL. (`url_parsing`)
    UrlParsing,
    /// Not one of the allowed values. (`enum`)
    Enum,
    /// Below `min_value`. (`greater_than_equal`)
    GreaterThanEqual,
    /// Above `max_value`. (`less_than_equal`)
    LessThanEqual,
    /// A value the field's rules refuse (e.g. not an email address). (`value_error`)
    ValueError,
    /// A form body that cannot be parsed. (`form_invalid`)
    FormInvalid,
    /// A foreign key naming no row. (`foreign_key`)
    ForeignKey,
    /// A query parameter over one of the list limits. (`too_long`)
    TooLong,
    /// A query parameter the endpoint does not take. (`unknown_parameter`)
    UnknownParameter,
    /// A filter lookup the field does not support. (`unknown_lookup`)
    UnknownLookup,
    /// An ordering the endpoint does not allow. (`unknown_ordering`)
    UnknownOrdering,
    /// An `expand` naming no foreign key. (`unknown_relation`)
    UnknownRelation,
    /// A query string that cannot be parsed. (`query_invalid`)
    QueryInvalid,
    /// A filter on a JSON field, which cannot be filtered. (`json_filter`)
    JsonFilter,
    /// `cursor` where pages are not cut by cursor. (`cursor_unavailable`)
    CursorUnavailable,
    /// Django's MinimumLengthValidator. (`password_too_short`)
    PasswordTooShort,
    /// Django's UserAttributeSimilarityValidator. (`password_too_similar`)
    PasswordTooSimilar,
    /// Django's CommonPasswordValidator. (`password_too_common`)
    PasswordTooCommon,
    /// Django's NumericPasswordValidator. (`password_entirely_numeric`)
    PasswordEntirelyNumeric,
    /// A body sent with a `Content-Type` other than JSON. (`content_type`)
    ContentType,
    /// A type of the application's own, e.g. a custom password validator's code.
    Custom(std::borrow::Cow<'static, str>),
}

impl ErrorKind {
    /// The wire spelling (`string_too_long`).
    pub fn as_str(&self) -> &str {
        match self {
            ErrorKind::Missing => "missing",
            ErrorKind::ExtraForbidden => "extra_forbidden",
            ErrorKind::JsonInvalid => "json_invalid",
            ErrorKind::JsonType => "json_type",
            ErrorKind::ModelAttributesType => "model_attributes_type",
            ErrorKind::BodyRead => "body_read",
            ErrorKind::StringType => "string_type",
            ErrorKind::StringTooShort => "string_too_short",
            ErrorKind::StringTooLong => "string_too_long",
            ErrorKind::StringPatternMismatch => "string_pattern_mismatch",
            ErrorKind::StringNul => "string_nul",
            ErrorKind::IntType => "int_type",
            ErrorKind::IntParsing => "int_parsing",
            ErrorKind::FloatType => "float_type",
            ErrorKind::FloatParsing => "float_parsing",
            ErrorKind::BoolType => "bool_type",
            ErrorKind::BoolParsing => "bool_parsing",
            ErrorKind::DecimalType => "decimal_type",
            ErrorKind::DecimalParsing => "decimal_parsing",
            ErrorKind::DecimalMaxPlaces => "decimal_max_places",
            ErrorKind::DecimalWholeDigits => "decimal_whole_digits",
            ErrorKind::DatetimeType => "datetime_type",
            ErrorKind::DatetimeParsing => "datetime_parsing",
            ErrorKind::DateType => "date_type",
            ErrorKind::DateParsing => "date_parsing",
            ErrorKind::UuidType => "uuid_type",
            ErrorKind::UuidParsing => "uuid_parsing",
            ErrorKind::UrlParsing => "url_parsing",
            ErrorKind::Enum => "enum",
            ErrorKind::GreaterThanEqual => "greater_than_equal",
            ErrorKind::LessThanEqual => "less_than_equal",
            ErrorKind::ValueError => "value_error",
            ErrorKind::FormInvalid => "form_invalid",
            ErrorKind::ForeignKey => "foreign_key",
            ErrorKind::TooLong => "too_long",
            ErrorKind::UnknownParameter => "unknown_parameter",
            ErrorKind::UnknownLookup => "unknown_lookup",
            ErrorKind::UnknownOrdering => "unknown_ordering",
            ErrorKind::UnknownRelation => "unknown_relation",
            ErrorKind::QueryInvalid => "query_invalid",
            ErrorKind::JsonFilter => "json_filter",
            ErrorKind::CursorUnavailable => "cursor_unavailable",
            ErrorKind::PasswordTooShort => "password_too_short",
            ErrorKind::PasswordTooSimilar => "password_too_similar",
            ErrorKind::PasswordTooCommon => "password_too_common",
            ErrorKind::PasswordEntirelyNumeric => "password_entirely_numeric",
            ErrorKind::ContentType => "content_type",
            ErrorKind::Custom(code) => code,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One entry of a validation error list; `loc` is the path to the bad input,
/// starting with where it came from (`body`, `query`, `path`, `header`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorDetail {
    /// Where the error is, e.g. `["body", "title"]`.
    pub loc: Vec<Value>,
    /// A sentence for a person.
    pub msg: String,
    /// A stable machine-readable type, as Pydantic names it (`string_too_long`).
    #[serde(rename = "type")]
    pub kind: ErrorKind,
    /// The constraint's parameters (`{"max_length": 200}`), when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Box<Value>>,
}

impl ErrorDetail {
    /// A detail without context.
    pub fn new(loc: Vec<Value>, kind: ErrorKind, msg: impl Into<String>) -> Self {
        ErrorDetail {
            loc,
            msg: msg.into(),
            kind,
            ctx: None,
        }
    }

    /// Adds the constraint's parameters.
    pub fn with_ctx(mut self, ctx: Value) -> Self {
        self.ctx = Some(Box::new(ctx));
        self
    }
}

/// Every problem found in one request's input; answers 422.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ValidationError {
    /// The problems, in field order.
    pub detail: Vec<ErrorDetail>,
}

impl ValidationError {
    /// A validation error with a single detail.
    pub fn single(detail: ErrorDetail) -> Self {
        ValidationError {
            detail: vec![detail],
        }
    }
}

/// An error a handler can return; each variant maps to one status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422: the input failed parsing or validation.
    #[error("validation failed")]
    Validation(ValidationError),
    /// 400 with a detail list: a query parameter that is not allowed here.
    #[error("bad request")]
    BadRequest(ValidationError),
    /// 401 with `WWW-Authenticate: Bearer`: no or bad credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: authenticated, but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404 `{"detail": "Not found"}`.
    #[error("not found")]
    NotFound,
    /// 404 with a message saying what was not found (such as a cursor
    /// that no list handed out).
    #[error("not found: {0}")]
    NotFoundBecause(String),
    /// 429 with `Retry-After` (seconds).
    #[error("too many requests")]
    TooManyRequests(u64),
    /// 409: a unique constraint; the message names the field.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 409 with a detail list: a well-formed value that refers to a row
    /// that does not exist (a foreign key), which the document cannot rule out.
    #[error("missing reference")]
    MissingReference(ValidationError),
    /// 413: the body is larger than the configured limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415: the body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType(ValidationError),
    /// 503 with `Retry-After`: the database cannot be reached right now
    /// (down, restarting, every pooled connection busy). The cause is
    /// logged; the client is told to try again.
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// 500: logged in full, answered with a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The `Retry-After` of a 503 answered while the database is unreachable, in seconds.
pub const RETRY_AFTER_SECONDS: u64 = 2;

/// Whether `error` says the database cannot be reached for now, rather
/// than that the request or the code is wrong: no connection free within
/// the pool's acquire timeout, a connection refused, reset or closed
/// (sqlx's I/O, TLS and pool errors), PostgreSQL's connection exceptions
/// (SQLSTATE class 08), `admin_shutdown`, `crash_shutdown` and
/// `cannot_connect_now` (57P01-57P03, a restart), `too_many_connections`
/// (53300), SQLite's `SQLITE_BUSY` after its busy timeout, and MySQL's
/// deadlock victim and lock wait timeout (1213, 1205). These answer
/// 503 with `Retry-After`; any other database error is a 500.
pub fn is_unavailable(error: &DbErr) -> bool {
    use sea_orm::sqlx::Error;
    let (DbErr::Conn(cause) | DbErr::Exec(cause) | DbErr::Query(cause)) = error else {
        return matches!(error, DbErr::ConnectionAcquire(_));
    };
    let sea_orm::RuntimeErr::SqlxError(cause) = cause else {
        return false;
    };
    match &**cause {
        Error::Io(_) | Error::Tls(_) | Error::PoolTimedOut | Error::PoolClosed => true,
        Error::WorkerCrashed => true,
        Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db
                .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .is_some()
                || db.try_downcast_ref::<SqliteFailure>().is_some()
            {
                // Extended result codes keep the primary code in the low byte.
                code.parse::<i32>().is_ok_and(|c| c & 0xff == 5)
            } else if let Some(mysql) =
                db.try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>()
            {
                // InnoDB's deadlock victim (1213) and lock wait timeout
                // (1205): the transaction was rolled back and may simply be
                // tried again, as after SQLite's busy timeout.
                matches!(mysql.number(), 1205 | 1213) || code.starts_with("08")
            } else {
                (code.len() == 5 && code.starts_with("08"))
                    || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
            }
        }
        _ => false,
    }
}

/// Whether a handler's error value is, or carries, an unreachable database
/// ([`is_unavailable`]): a [`DbErr`] or an [`ApiError::ServiceUnavailable`].
pub(crate) fn is_unavailable_cause(error: &dyn std::any::Any) -> bool {
    error.downcast_ref::<DbErr>().is_some_and(is_unavailable)
        || matches!(
            error.downcast_ref::<ApiError>(),
            Some(ApiError::ServiceUnavailable(_))
        )
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::Validation(error)
    }
}

impl ApiError {
    /// A 500 whose cause goes to the log, not to the client; a [`DbErr`]
    /// saying the database is unreachable ([`is_unavailable`]) is a 503
    /// with `Retry-After` instead, so the many `.map_err(ApiError::internal)`
    /// on queries answer an outage as one.
    pub fn internal(error: impl std::fmt::Display + 'static) -> Self {
        if is_unavailable_cause(&error) {
            return ApiError::ServiceUnavailable(error.to_string());
        }
        ApiError::Internal(error.to_string())
    }
}

#[derive(Serialize)]
struct Message<'a> {
    detail: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Validation(e) => (StatusCode::UNPROCESSABLE_ENTITY, Json(e)).into_response(),
            ApiError::BadRequest(e) => (StatusCode::BAD_REQUEST, Json(e)).into_response(),
            ApiError::MissingReference(e) => (StatusCode::CONFLICT, Json(e)).into_response(),
            ApiError::UnsupportedMediaType(e) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, Json(e)).into_response()
            }
            ApiError::Unauthorized(message) => {
                let mut response =
                    (StatusCode::UNAUTHORIZED, Json(Message { detail: &message })).into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            ApiError::Forbidden(message) => {
                (StatusCode::FORBIDDEN, Json(Message { detail: &message })).into_response()
            }
            ApiError::TooManyRequests(seconds) => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(Message {
                        detail: "Too many failed attempts; try again later",
                    }),
                )
                    .into_response();
                if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                Json(Message {
                    detail: "Not found",
                }),
            )
                .into_response(),
            ApiError::NotFoundBecause(message) => {
                (StatusCode::NOT_FOUND, Json(Message { detail: &message })).into_response()
            }
            ApiError::Conflict(message) => {
                (StatusCode::CONFLICT, Json(Message { detail: &message })).into_response()
            }
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(Message {
                    detail: "Request body is too large",
                }),
            )
                .into_response(),
            ApiError::ServiceUnavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                let mut response = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(Message {
                        detail: "The service is temporarily unavailable; try again shortly",
                    }),
                )
                    .into_response();
                unavailable_headers(response.headers_mut());
                response
            }
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                let mut response = (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(Message {
                        detail: "Internal server error",
                    }),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
        }
    }
}

/// `Retry-After` and `Cache-Control: no-store` on a 503 answered because
/// the database is unreachable.
pub(crate) fn unavailable_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A SQLite error of the in-thread pool (`db::sqlite`), as a sqlx
/// database error: the code that reads constraint violations and busy
/// errors from sqlx's SQLite errors reads these the same way.
#[derive(Debug)]
pub struct SqliteFailure {
    /// The extended result code (`2067`: a unique constraint failed).
    pub code: i32,
    /// SQLite's message.
    pub message: String,
}

impl std::fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteFailure {}

impl sea_orm::sqlx::error::DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sea_orm::sqlx::error::ErrorKind {
        use sea_orm::sqlx::error::ErrorKind;
        match self.code {
            2067 | 1555 => ErrorKind::UniqueViolation,
            787 => ErrorKind::ForeignKeyViolation,
            1299 => ErrorKind::NotNullViolation,
            275 => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}
