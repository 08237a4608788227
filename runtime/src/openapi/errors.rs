//! What every document says the same way: the error responses and their
//! component schemas (FastAPI's `HTTPValidationError`, `{"detail": "..."}`),
//! the bearer-token security scheme, and marking an operation as secured.

use serde_json::{Map, Value, json};

use super::schemas::{json_content, schema_ref};

/// Name of the component schema of 422 (and 400, 415) bodies, as FastAPI names it.
pub const VALIDATION_ERROR_SCHEMA: &str = "HTTPValidationError";

/// Name of the component schema of `{"detail": "..."}` error bodies (404, 409, 413).
pub const MESSAGE_ERROR_SCHEMA: &str = "HTTPError";

/// The response of error `status`, with the body ferrobridge answers it with.
pub(super) fn error_response(status: u16) -> Value {
    let (description, schema) = match status {
        400 => (
            "Unknown query parameter, lookup or relation; the detail names the allowed ones",
            VALIDATION_ERROR_SCHEMA,
        ),
        401 => (
            "Not authenticated: send `Authorization: Bearer <token>` (see `POST /api/auth/token`)",
            MESSAGE_ERROR_SCHEMA,
        ),
        403 => (
            "Authenticated, but without the permission this needs",
            MESSAGE_ERROR_SCHEMA,
        ),
        429 => (
            "Too many requests; retry after the `Retry-After` seconds",
            MESSAGE_ERROR_SCHEMA,
        ),
        404 => ("Not found", MESSAGE_ERROR_SCHEMA),
        409 => {
            return json!({
                "description": "Conflict: a row with this unique value already exists, rows \
                                that reference this one block its deletion (`{\"detail\": \"...\"}`), \
                                or a foreign key names a row that does not exist (a `foreign_key` \
                                detail list)",
                "content": json_content(json!({
                    "anyOf": [schema_ref(MESSAGE_ERROR_SCHEMA), schema_ref(VALIDATION_ERROR_SCHEMA)]
                })),
            });
        }
        413 => ("Request body too large", MESSAGE_ERROR_SCHEMA),
        415 => (
            "Unsupported media type: the body must be JSON (`Content-Type: application/json`)",
            VALIDATION_ERROR_SCHEMA,
        ),
        _ => ("Validation Error", VALIDATION_ERROR_SCHEMA),
    };
    json!({ "description": description, "content": json_content(schema_ref(schema)) })
}

/// The name of the bearer-token security scheme in `components.securitySchemes`.
pub const SECURITY_SCHEME: &str = "OAuth2PasswordBearer";

/// Marks `operation` as needing a logged-in user: the security requirement
/// and its 401 and 403 responses.
pub fn add_security(operation: &mut Value) {
    operation["security"] = json!([{ SECURITY_SCHEME: [] }]);
    if let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    {
        for status in [401u16, 403] {
            responses
                .entry(status.to_string())
                .or_insert_with(|| error_response(status));
        }
    }
}

/// Marks `operation` as open to anyone, with an optional token: a token
/// that is sent must be valid, else 401.
pub fn add_optional_security(operation: &mut Value) {
    operation["security"] = json!([{}, { SECURITY_SCHEME: [] }]);
    if let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    {
        responses
            .entry("401")
            .or_insert_with(|| error_response(401));
    }
}

/// The `431` every operation may answer. The server's bound on the request
/// head (`App::max_header_size`) is one no parameter schema can state: a
/// request within every documented bound can still be too long as a whole.
pub(super) fn header_limit_response() -> Value {
    json!({ "description": "The request line and headers together are longer than the server accepts (16 KiB unless `App::max_header_size` says otherwise); nothing was done." })
}

/// `components.securitySchemes`: the OAuth2 password flow of `POST /api/auth/token`.
pub(super) fn security_schemes() -> Value {
    json!({
        SECURITY_SCHEME: {
            "type": "oauth2",
            "description": "Log in with `POST /api/auth/token`, then send `Authorization: Bearer <token>`.",
            "flows": { "password": { "tokenUrl": "/api/auth/token", "scopes": {} } }
        }
    })
}

/// The component schemas of error bodies, in every document.
pub(super) fn builtin_schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    schemas.insert(
        "ValidationError".into(),
        json!({
            "title": "ValidationError",
            "description": "One problem with the input.",
            "type": "object",
            "properties": {
                "loc": {
                    "title": "Location",
                    "description": "Where the problem is: `body`, `query`, `path` or `header`, then the field (and index) names.",
                    "type": "array",
                    "items": { "anyOf": [{ "type": "string" }, { "type": "integer" }] }
                },
                "msg": { "title": "Message", "type": "string" },
                "type": { "title": "Error Type", "type": "string" },
                "ctx": {
                    "title": "Context",
                    "description": "The constraint's parameters, e.g. `{\"max_length\": 200}`.",
                    "type": "object"
                }
            },
            "required": ["loc", "msg", "type"]
        }),
    );
    schemas.insert(
        VALIDATION_ERROR_SCHEMA.into(),
        json!({
            "title": VALIDATION_ERROR_SCHEMA,
            "type": "object",
            "properties": {
                "detail": {
                    "title": "Detail",
                    "type": "array",
                    "items": schema_ref("ValidationError")
                }
            },
            "required": ["detail"]
        }),
    );
    schemas.insert(
        MESSAGE_ERROR_SCHEMA.into(),
        json!({
            "title": MESSAGE_ERROR_SCHEMA,
            "type": "object",
            "properties": { "detail": { "title": "Detail", "type": "string" } },
            "required": ["detail"]
        }),
    );
    schemas
}
