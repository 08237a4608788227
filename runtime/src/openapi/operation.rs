//! [`Operation`], the builder every operation of a document is made with
//! (a model's CRUD operations, the auth routes, hand-written routes), and
//! [`RouteDocs`], the operations of one hand-written route.

use schemars::generate::SchemaGenerator;
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use super::builder::OpenApiBuilder;
use super::errors::{add_optional_security, add_security, error_response};
use super::path_params;
use super::schemas::json_content;

/// Produces a schema with a generator; what [`Operation`] keeps of a body type.
type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_fn<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// Where a body's schema comes from: a Rust type, generated when the
/// operation is added to a document, or a schema the document's builder
/// already handed out (a model's own components, named for the model).
#[derive(Clone, Debug)]
enum BodySchema {
    Type(SchemaFn),
    Built(Value),
}

impl BodySchema {
    fn resolve(&self, builder: &mut OpenApiBuilder) -> Value {
        match self {
            BodySchema::Type(make) => builder.schema_with(make),
            BodySchema::Built(schema) => schema.clone(),
        }
    }
}

/// One documented response of an [`Operation`].
#[derive(Clone, Debug)]
struct ResponseDocs {
    status: u16,
    description: String,
    body: Option<BodySchema>,
    /// The body's media type; `None`: `application/json`.
    media_type: Option<&'static str>,
    /// Response headers: name, description (each a string).
    headers: Vec<(String, String)>,
}

/// The documentation of one operation: a model's CRUD operation or one
/// method of a hand-written route.
///
/// Without responses, it documents a bare `200`.
#[derive(Clone, Debug)]
pub struct Operation {
    summary: String,
    description: Option<String>,
    operation_id: Option<String>,
    tags: Vec<String>,
    request_body: Option<BodySchema>,
    form: bool,
    secured: bool,
    optional_auth: bool,
    responses: Vec<ResponseDocs>,
    /// Error statuses answered with ferrobridge's error bodies.
    errors: Vec<u16>,
    /// The type of the route's `Path<T>`, documenting its parameters.
    path_params: Option<SchemaFn>,
    /// Parameters given whole: a path parameter replaces the one the path
    /// names, the others follow the path's in the order given.
    parameters: Vec<Value>,
}

impl Operation {
    /// An operation with a one-line summary.
    pub fn new(summary: impl Into<String>) -> Self {
        Operation {
            summary: summary.into(),
            description: None,
            operation_id: None,
            tags: Vec::new(),
            request_body: None,
            form: false,
            secured: false,
            optional_auth: false,
            responses: Vec::new(),
            errors: Vec::new(),
            path_params: None,
            parameters: Vec::new(),
        }
    }

    /// The description set so far, if any.
    pub(super) fn description_text(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The operation is open to anyone, with an optional token: a token that
    /// is sent must be valid, else 401.
    pub(super) fn optional_auth(mut self) -> Self {
        self.optional_auth = true;
        self
    }

    /// Adds a parameter object as OpenAPI writes it (`name`, `in`, `schema`...).
    pub(super) fn parameter(mut self, parameter: Value) -> Self {
        self.parameters.push(parameter);
        self
    }

    /// A required JSON request body of a schema `builder` handed out (with
    /// the 413, 415 and 422 answers of a bad body).
    pub(super) fn request_schema(mut self, schema: Value) -> Self {
        self.request_body = Some(BodySchema::Built(schema));
        self.error_response(413)
            .error_response(415)
            .error_response(422)
    }

    /// A response with status `status` and a JSON body of a schema `builder`
    /// handed out.
    pub(super) fn response_schema(
        mut self,
        status: u16,
        description: impl Into<String>,
        schema: Value,
    ) -> Self {
        self.responses.push(ResponseDocs {
            status,
            description: description.into(),
            body: Some(BodySchema::Built(schema)),
            media_type: None,
            headers: Vec::new(),
        });
        self
    }

    /// A response with status `status` and a body of `media_type` (such as
    /// `text/event-stream`) described by `schema`.
    pub(super) fn response_media(
        mut self,
        status: u16,
        description: impl Into<String>,
        media_type: &'static str,
        schema: Value,
    ) -> Self {
        self.responses.push(ResponseDocs {
            status,
            description: description.into(),
            body: Some(BodySchema::Built(schema)),
            media_type: Some(media_type),
            headers: Vec::new(),
        });
        self
    }

    /// A string header `name` of the response documented last.
    pub(super) fn response_header(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        if let Some(response) = self.responses.last_mut() {
            response.headers.push((name.into(), description.into()));
        }
        self
    }

    /// An error response with ferrobridge's error body for `status`: the
    /// FastAPI validation list for 400, 415 and 422, `{"detail": "..."}` else.
    pub fn error_response(mut self, status: u16) -> Self {
        if !self.errors.contains(&status) {
            self.errors.push(status);
        }
        self
    }

    /// The path parameters are the fields (or, for a tuple, the items in
    /// order; for a single value, the only parameter) of `T`, as `Path<T>`
    /// reads them; a value that does not parse answers 422.
    pub fn path_params<T: JsonSchema>(mut self) -> Self {
        self.path_params = Some(schema_fn::<T>);
        self.error_response(422)
    }

    /// A longer description (Markdown).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// The `operationId`; by default the method and the path in snake case
    /// (`get_api_stats`).
    pub fn operation_id(mut self, id: impl Into<String>) -> Self {
        self.operation_id = Some(id.into());
        self
    }

    /// Groups the operation under `tag` in the docs.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// A required JSON request body of type `T` (with the 413, 415 and 422
    /// answers of a body that is too large, not JSON or not a `T`).
    pub fn request_body<T: JsonSchema>(mut self) -> Self {
        self.request_body = Some(BodySchema::Type(schema_fn::<T>));
        self.error_response(413)
            .error_response(415)
            .error_response(422)
    }

    /// An `application/x-www-form-urlencoded` request body shaped like `T`
    /// (with the 413, 415 and 422 answers of a bad body).
    pub fn form_body<T: JsonSchema>(mut self) -> Self {
        self.request_body = Some(BodySchema::Type(schema_fn::<T>));
        self.form = true;
        self.error_response(413)
            .error_response(415)
            .error_response(422)
    }

    /// The operation needs a logged-in user: adds the bearer security
    /// requirement and 401/403 responses. Handlers taking [`CurrentUser`],
    /// [`Perm`] or [`OptionalUser`] get this without asking when routed with
    /// [`App::handle`](crate::App::handle).
    ///
    /// [`CurrentUser`]: crate::auth::CurrentUser
    /// [`Perm`]: crate::auth::Perm
    /// [`OptionalUser`]: crate::auth::OptionalUser
    pub fn requires_auth(mut self) -> Self {
        self.secured = true;
        self
    }

    /// A response with status `status` and a JSON body of type `T`.
    pub fn response<T: JsonSchema>(mut self, status: u16, description: impl Into<String>) -> Self {
        self.responses.push(ResponseDocs {
            status,
            description: description.into(),
            body: Some(BodySchema::Type(schema_fn::<T>)),
            media_type: None,
            headers: Vec::new(),
        });
        self
    }

    /// A response with status `status` and no body (such as `204`).
    pub fn response_without_body(mut self, status: u16, description: impl Into<String>) -> Self {
        self.responses.push(ResponseDocs {
            status,
            description: description.into(),
            body: None,
            media_type: None,
            headers: Vec::new(),
        });
        self
    }

    /// Adds this operation as `method` of `path` to `builder`.
    pub(super) fn add_to(&self, builder: &mut OpenApiBuilder, path: &str, method: &str) {
        let json = self.to_json(builder, path, method);
        builder.add_operation(path, method, json);
    }

    fn to_json(&self, builder: &mut OpenApiBuilder, path: &str, method: &str) -> Value {
        let mut operation = Map::new();
        for tag in &self.tags {
            builder.add_tag(tag, "");
        }
        if !self.tags.is_empty() {
            operation.insert("tags".into(), json!(self.tags));
        }
        operation.insert("summary".into(), json!(self.summary));
        if let Some(description) = &self.description {
            operation.insert("description".into(), json!(description));
        }
        let id = self
            .operation_id
            .clone()
            .unwrap_or_else(|| default_operation_id(method, path));
        operation.insert("operationId".into(), json!(id));
        let params = self.parameters_json(builder, path);
        if !params.is_empty() {
            operation.insert("parameters".into(), Value::Array(params));
        }
        if let Some(body) = &self.request_body {
            let schema = body.resolve(builder);
            let content = if self.form {
                json!({ "application/x-www-form-urlencoded": { "schema": schema } })
            } else {
                json_content(schema)
            };
            operation.insert(
                "requestBody".into(),
                json!({ "required": true, "content": content }),
            );
        }
        let responses = self.responses_json(builder);
        operation.insert("responses".into(), responses);
        let mut operation = Value::Object(operation);
        if self.secured {
            add_security(&mut operation);
        } else if self.optional_auth {
            add_optional_security(&mut operation);
        }
        operation
    }

    /// The path's parameters, typed by [`path_params`](Self::path_params)
    /// or given whole with [`parameter`](Self::parameter), then the other
    /// parameters given whole.
    fn parameters_json(&self, builder: &mut OpenApiBuilder, path: &str) -> Vec<Value> {
        let names = path_params(path);
        let schemas = match self.path_params {
            Some(schema) => {
                let schema = builder.schema_with(schema);
                path_param_schemas(builder, &schema, &names)
            }
            None => Vec::new(),
        };
        let given = |name: &str| {
            self.parameters
                .iter()
                .find(|p| p["in"] == "path" && p["name"] == name)
        };
        let mut params: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                if let Some(parameter) = given(name) {
                    return parameter.clone();
                }
                let schema = schemas
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| json!({ "type": "string" }));
                json!({ "name": name, "in": "path", "required": true, "schema": schema })
            })
            .collect();
        params.extend(
            self.parameters
                .iter()
                .filter(|p| p["in"] != "path")
                .cloned(),
        );
        params
    }

    /// The documented responses (a bare `200` without any), then the error ones.
    fn responses_json(&self, builder: &mut OpenApiBuilder) -> Value {
        let mut responses = Map::new();
        for response in &self.responses {
            let mut entry = json!({ "description": response.description });
            if !response.headers.is_empty() {
                let headers: Map<String, Value> = response
                    .headers
                    .iter()
                    .map(|(name, description)| {
                        let header = json!({
                            "description": description,
                            "schema": { "type": "string" },
                        });
                        (name.clone(), header)
                    })
                    .collect();
                entry["headers"] = Value::Object(headers);
            }
            if let Some(body) = &response.body {
                let schema = body.resolve(builder);
                entry["content"] = match response.media_type {
                    Some(media_type) => json!({ media_type: { "schema": schema } }),
                    None => json_content(schema),
                };
            }
            responses.insert(response.status.to_string(), entry);
        }
        if responses.is_empty() {
            responses.insert(
                "200".into(),
                json!({ "description": "Successful response" }),
            );
        }
        for status in &self.errors {
            responses
                .entry(status.to_string())
                .or_insert_with(|| error_response(*status));
        }
        Value::Object(responses)
    }
}

/// The schema of each of `names` (the path's parameters, in order) read
/// from the schema of a `Path<T>`'s `T`: an object's properties by name, a
/// tuple's items in order, or a single value for a single parameter.
fn path_param_schemas(builder: &OpenApiBuilder, schema: &Value, names: &[String]) -> Vec<Value> {
    let resolved = match schema.get("$ref") {
        Some(_) => builder.component(schema).cloned().unwrap_or(Value::Null),
        None => schema.clone(),
    };
    if let Some(properties) = resolved.get("properties").and_then(Value::as_object) {
        return names
            .iter()
            .map(|name| {
                properties
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| json!({ "type": "string" }))
            })
            .collect();
    }
    if let Some(items) = resolved.get("prefixItems").and_then(Value::as_array) {
        return items.clone();
    }
    if names.len() == 1 && resolved.is_object() {
        return vec![resolved];
    }
    Vec::new()
}

/// The `operationId` of an operation that names none: `get_api_stats`.
pub(super) fn default_operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for part in path.split(|c: char| !c.is_ascii_alphanumeric()) {
        if !part.is_empty() {
            id.push('_');
            id.push_str(&part.to_ascii_lowercase());
        }
    }
    id
}

/// The documentation of a hand-written route: one [`Operation`] per method.
///
/// ```
/// # use ferrobridge::openapi::{Operation, RouteDocs};
/// let docs = RouteDocs::new()
///     .get(Operation::new("Read the settings"))
///     .put(Operation::new("Change the settings"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct RouteDocs {
    operations: Vec<(&'static str, Operation)>,
}

impl RouteDocs {
    /// No operations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Documents the route's `method` (`"get"`, `"post"`, ...; case-insensitive).
    pub fn operation(mut self, method: &str, operation: Operation) -> Self {
        let method = match method.to_ascii_lowercase().as_str() {
            "get" => "get",
            "post" => "post",
            "put" => "put",
            "patch" => "patch",
            "delete" => "delete",
            "head" => "head",
            "options" => "options",
            "trace" => "trace",
            _ => return self,
        };
        self.operations.retain(|(m, _)| *m != method);
        self.operations.push((method, operation));
        self
    }

    /// Documents `GET`.
    pub fn get(self, operation: Operation) -> Self {
        self.operation("get", operation)
    }

    /// Documents `POST`.
    pub fn post(self, operation: Operation) -> Self {
        self.operation("post", operation)
    }

    /// Documents `PUT`.
    pub fn put(self, operation: Operation) -> Self {
        self.operation("put", operation)
    }

    /// Documents `PATCH`.
    pub fn patch(self, operation: Operation) -> Self {
        self.operation("patch", operation)
    }

    /// Documents `DELETE`.
    pub fn delete(self, operation: Operation) -> Self {
        self.operation("delete", operation)
    }

    /// A minimal description of a route known only by its methods: each gets
    /// an operation whose summary is the method and path, with a bare `200`.
    pub(crate) fn minimal(path: &str, methods: &[&'static str]) -> Self {
        let mut docs = RouteDocs::new();
        for method in methods {
            docs = docs.operation(
                method,
                Operation::new(format!("{} {path}", method.to_ascii_uppercase())),
            );
        }
        docs
    }

    /// Adds the route at `path` to `builder`.
    pub fn describe(&self, builder: &mut OpenApiBuilder, path: &str) {
        for (method, operation) in &self.operations {
            operation.add_to(builder, path, method);
        }
    }
}
