//! A registered model's CRUD operations ([`describe`]): list and create on
//! its collection, retrieve, replace, partially update and delete on an
//! item, each made with the [`Operation`] builder; bodies are the model's
//! `Create`, `Update` and `Read` schemas and the page types the API answers.

use serde_json::{Value, json};

use super::Operation;
use super::builder::OpenApiBuilder;
use super::params::{expand_param, feed_params, list_params};
use super::schemas::field_schema;
use crate::api::{CursorPage, Items, Page};
use crate::changes::ChangeEvent;
use crate::feed::CursorExpired;
use crate::model::{Model, ModelMeta, PaginationMode, Policy};
use crate::names::ModelNames;

/// Adds `M`'s operations, tag and schemas under `names` (see
/// [`crate::names`]): list and create on `names.path`; retrieve, update
/// (PUT), partial update (PATCH) and delete on `{path}/{pk}`.
/// [`App::model`](crate::App::model) registers it.
pub fn describe<M: Model>(builder: &mut OpenApiBuilder, names: &ModelNames) {
    let meta = M::meta();
    builder.add_tag(&names.tag, meta.doc);
    let schemas = ModelSchemas::of::<M>(builder, names);
    let ops = ModelOperations { meta, names };
    ops.add_collection(builder, &schemas);
    ops.add_item(builder, &schemas);
    ops.add_feed(builder, &schemas);
}

/// The component schemas of one model's bodies.
struct ModelSchemas {
    create: Value,
    update: Value,
    read: Value,
    /// The list's answer: its description and schema.
    list: (String, Value),
}

impl ModelSchemas {
    /// `{Name}Create`, `{Name}Update`, `{Name}Read` and the list's page
    /// types (`{Name}Page` and `{Name}CursorPage`, or `{Name}List` with
    /// `pagination = "none"`), added to `builder`.
    fn of<M: Model>(builder: &mut OpenApiBuilder, names: &ModelNames) -> Self {
        let meta = M::meta();
        let name = names.schema.as_str();
        let plural = meta.plural;
        builder.set_owner(Some(meta.app_label));
        let create = builder.model_schema::<M::Create>(&format!("{name}Create"));
        let update = builder.model_schema::<M::Update>(&format!("{name}Update"));
        builder.nul_free(&create);
        builder.nul_free(&update);
        let read = builder.model_schema::<M::Read>(&format!("{name}Read"));
        builder.set_owner(None);
        let list = if meta.api.pagination == PaginationMode::Off {
            let items = builder.model_schema_described::<Items<M::Read>>(
                &format!("{name}List"),
                &format!(
                    "Every matching {} (`pagination = \"none\"`), or the slice `page`/`page_size` ask for.",
                    meta.model_name
                ),
            );
            (format!("The {plural}: `{name}List`."), items)
        } else {
            let page = builder.model_schema_described::<Page<M::Read>>(
                &format!("{name}Page"),
                &format!("One page of {plural} (`?page=`)."),
            );
            let cursor_page = builder.model_schema_described::<CursorPage<M::Read>>(
                &format!("{name}CursorPage"),
                &format!("One page of {plural} (`?cursor=`)."),
            );
            (
                format!("A page of {plural}: `{name}Page`, or `{name}CursorPage` with `?cursor=`."),
                json!({ "anyOf": [page, cursor_page] }),
            )
        };
        ModelSchemas {
            create,
            update,
            read,
            list,
        }
    }
}

/// What every operation of one model shares: its tag, `operationId`s,
/// summaries, `pk` parameter and security.
struct ModelOperations<'a> {
    meta: &'static ModelMeta,
    names: &'a ModelNames,
}

impl ModelOperations<'_> {
    /// The operation `action` (`list`, `create`...) answered on `method`,
    /// secured as the model's policy says.
    fn operation(&self, action: &str, summary: String, method: &str) -> Operation {
        let operation = Operation::new(summary)
            .tag(self.names.tag.as_str())
            .operation_id(self.names.operation_id(self.meta, action));
        let secured = match self.meta.api.policy {
            Policy::AllowAny => false,
            Policy::PublicRead => method != "get",
            _ => true,
        };
        if secured {
            operation.requires_auth()
        } else {
            operation.optional_auth()
        }
    }

    /// List (GET) and create (POST) on the collection path.
    fn add_collection(&self, builder: &mut OpenApiBuilder, schemas: &ModelSchemas) {
        let meta = self.meta;
        let collection = self.names.path.as_str();
        let mut operation = self
            .operation("list", format!("List {}", meta.plural), "get")
            .description(
                "Filter with `field=value` and Django lookups (`field__gte=`), \
                 search, order, and page by number or by cursor.",
            );
        for parameter in list_params(meta, builder.list_settings()) {
            operation = operation.parameter(parameter);
        }
        // 404: a `cursor` that is not one this list handed out.
        let (description, body) = schemas.list.clone();
        operation
            .response_schema(200, description, body)
            .error_response(400)
            .error_response(404)
            .error_response(422)
            .add_to(builder, collection, "get");

        self.operation("create", self.summary("Create"), "post")
            .response_schema(201, "Created", schemas.read.clone())
            .response_header(
                "Location",
                format!("The new {}'s URL.", meta.verbose_name()),
            )
            .error_response(409)
            .request_schema(schemas.create.clone())
            .add_to(builder, collection, "post");
    }

    /// Retrieve (GET), replace (PUT), partial update (PATCH) and delete on
    /// `{path}/{pk}`.
    fn add_item(&self, builder: &mut OpenApiBuilder, schemas: &ModelSchemas) {
        let item = format!("{}/{{pk}}", self.names.path);
        let mut operation = self
            .operation("retrieve", self.summary("Retrieve"), "get")
            .parameter(self.pk_param());
        if let Some(expand) = expand_param(self.meta, builder.list_settings()) {
            operation = operation.parameter(expand);
        }
        operation
            .response_schema(200, "The object", schemas.read.clone())
            .error_response(400)
            .error_response(404)
            .error_response(422)
            .add_to(builder, &item, "get");

        for (action, verb, method, body, description) in [
            (
                "update",
                "Replace",
                "put",
                &schemas.create,
                "Every writable field is set from the body.",
            ),
            (
                "partial_update",
                "Partially update",
                "patch",
                &schemas.update,
                "Only the fields present in the body are changed.",
            ),
        ] {
            self.operation(action, self.summary(verb), method)
                .description(description)
                .parameter(self.pk_param())
                .response_schema(200, "The updated object", schemas.read.clone())
                .error_response(404)
                .error_response(409)
                .request_schema(body.clone())
                .add_to(builder, &item, method);
        }

        self.operation("delete", self.summary("Delete"), "delete")
            .parameter(self.pk_param())
            .response_without_body(204, "Deleted")
            .error_response(404)
            .error_response(409)
            .error_response(422)
            .add_to(builder, &item, "delete");
    }

    /// The change feed: `{path}/changes` (long-poll) and `{path}/events`
    /// (Server-Sent Events), with `{Name}ChangeEvent` (a [`ChangeEvent`]
    /// whose `data` is the model's `Read` object) and `{Name}ChangePage`.
    fn add_feed(&self, builder: &mut OpenApiBuilder, schemas: &ModelSchemas) {
        let meta = self.meta;
        let name = self.names.schema.as_str();
        let [changes, events] = crate::feed::paths(&self.names.path);
        let generic = builder.schema::<ChangeEvent>();
        let event = builder.add_schema(
            &format!("{name}ChangeEvent"),
            json!({
                "title": format!("{name}ChangeEvent"),
                "description": format!(
                    "A change to a {}: `data` is the row as read after the change (for a delete, as it was last).",
                    meta.verbose_name()
                ),
                "allOf": [generic, {
                    "type": "object",
                    "properties": { "data": schemas.read.clone() },
                }],
            }),
        );
        let page = builder.add_schema(
            &format!("{name}ChangePage"),
            json!({
                "title": format!("{name}ChangePage"),
                "description": format!("Changes to {} after a cursor.", meta.plural),
                "type": "object",
                "properties": {
                    "items": {
                        "description": "The events, oldest first (none when the wait ran out).",
                        "type": "array",
                        "items": event,
                    },
                    "cursor": {
                        "description": "Send it as `since` to get the events after these.",
                        "type": "string",
                    },
                },
                "required": ["items", "cursor"],
            }),
        );
        let expired = builder.schema::<CursorExpired>();
        let gone =
            "The cursor is older than the retained events: reload, then follow from `oldest`";
        let filters = "Only changes to rows the caller may view now, and that pass the list's \
                       filters (`field=value`, Django lookups), are delivered.";

        let mut operation = self
            .operation("changes", format!("Wait for changes to {}", meta.plural), "get")
            .description(format!(
                "Long-poll: answers at once with the changes after `since`, or waits up to \
                 `timeout` seconds for one and answers an empty list with the same cursor. {filters}"
            ));
        for parameter in feed_params(meta, builder.list_settings(), true) {
            operation = operation.parameter(parameter);
        }
        operation
            .response_schema(200, "The changes after the cursor", page)
            .response_schema(410, gone, expired)
            .error_response(400)
            .error_response(422)
            .add_to(builder, &changes, "get");

        let mut operation = self
            .operation("events", format!("Stream changes to {}", meta.plural), "get")
            .description(format!(
                "Server-Sent Events: one unnamed event per change (`id:` its cursor, `data:` \
                 a `{name}ChangeEvent`), from `Last-Event-ID`, else `since`, else now; \
                 `: ping` comments while idle; `event: reset` with `{{\"oldest\": \"...\"}}` \
                 when the cursor is older than the retained events (the stream goes on from \
                 `oldest`); `event: error` with `{{\"detail\": \"...\"}}` when the caller's \
                 access ends, after which the stream closes. {filters}"
            ))
            .parameter(json!({
                "name": "Last-Event-ID",
                "in": "header",
                "required": false,
                "description": "The `id` of the last event received: resume after it (overrides `since`).",
                "schema": { "type": "string", "pattern": "^[0-9]{1,18}$" },
            }));
        for parameter in feed_params(meta, builder.list_settings(), false) {
            operation = operation.parameter(parameter);
        }
        operation
            .response_media(
                200,
                "An event stream",
                "text/event-stream",
                json!({ "type": "string" }),
            )
            .error_response(400)
            .error_response(422)
            .add_to(builder, &events, "get");
    }

    /// `{verb} a {words}`: summaries read as words ("group permission");
    /// `u` mostly sounds like "you", so it takes "a".
    fn summary(&self, verb: &str) -> String {
        let words = self.meta.verbose_name();
        let a = if words.starts_with(['a', 'e', 'i', 'o']) {
            "an"
        } else {
            "a"
        };
        format!("{verb} {a} {words}")
    }

    /// The `{pk}` path parameter, typed as the primary key's field.
    fn pk_param(&self) -> Value {
        let meta = self.meta;
        json!({
            "name": "pk",
            "in": "path",
            "required": true,
            "description": format!("The {}'s `{}`.", meta.verbose_name(), meta.primary_key),
            "schema": meta
                .field(meta.primary_key)
                .map(field_schema)
                .unwrap_or_else(|| json!({ "type": "string" })),
        })
    }
}
