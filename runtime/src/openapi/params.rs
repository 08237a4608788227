//! The query parameters of a model's list endpoint: pages, cursor,
//! ordering, search, `expand` and every filter lookup, each with a schema
//! as strict as the list parser (bounds from [`ListSettings`]).

use serde_json::{Value, json};

use super::builder::walk_schema;
use super::clean_doc;
use super::schemas::{field_schema, forbid_nul, stored_integer_schema};
use crate::model::{FieldKind, FieldMeta, ModelMeta, PaginationMode};
use crate::query::{ListSettings, Lookup};

/// An optional query parameter.
pub(super) fn query_param(name: &str, description: String, schema: Value) -> Value {
    json!({
        "name": name,
        "in": "query",
        "required": false,
        "description": description,
        "schema": schema,
    })
}

/// What the filter `field__lookup` keeps, in words.
fn lookup_description(field: &FieldMeta, lookup: Lookup) -> String {
    let name = field.name;
    match lookup {
        Lookup::Exact => {
            let mut text = format!("`{name}` equals the value.");
            if let Some(help) = field.help_text {
                text = format!("{} {text}", clean_doc(help));
            }
            text
        }
        Lookup::IExact => format!("`{name}` equals the value, ignoring case."),
        Lookup::Ne if field.nullable => {
            format!("`{name}` differs from the value (rows where it is null included).")
        }
        Lookup::Ne => format!("`{name}` differs from the value."),
        Lookup::Gt => format!("`{name}` is greater than the value."),
        Lookup::Gte => format!("`{name}` is greater than or equal to the value."),
        Lookup::Lt => format!("`{name}` is less than the value."),
        Lookup::Lte => format!("`{name}` is less than or equal to the value."),
        Lookup::In => format!("`{name}` is one of the comma-separated values."),
        Lookup::Contains => format!("`{name}` contains the value (case-sensitive)."),
        Lookup::IContains => format!("`{name}` contains the value (case-insensitive)."),
        Lookup::StartsWith => format!("`{name}` starts with the value (case-sensitive)."),
        Lookup::IStartsWith => format!("`{name}` starts with the value (case-insensitive)."),
        Lookup::IsNull => format!("`{name}` is null (`true`) or not (`false`)."),
    }
}

/// The query parameters of `meta`'s filters: `field` and `field__lookup`
/// for every declared filter field and every lookup its kind accepts.
pub fn filter_params(meta: &ModelMeta, list: ListSettings) -> Vec<Value> {
    let mut params = Vec::new();
    for name in meta.api.filter {
        let Some(field) = meta.field(name) else {
            continue;
        };
        for lookup in Lookup::for_kind(field.kind) {
            let param = match lookup {
                Lookup::Exact => field.name.to_string(),
                other => format!("{}__{}", field.name, other.name()),
            };
            let schema = match lookup {
                Lookup::In => {
                    let item = match field.kind {
                        FieldKind::Integer => stored_integer_schema(field),
                        _ => field_schema(field),
                    };
                    params.push(json!({
                        "name": param,
                        "in": "query",
                        "required": false,
                        "description": lookup_description(field, lookup),
                        "style": "form",
                        "explode": false,
                        "schema": {
                            "type": "array",
                            "items": bounded_text(item, list),
                            "minItems": 1,
                            "maxItems": list.max_in_values,
                        },
                    }));
                    continue;
                }
                Lookup::IsNull => json!({ "type": "boolean" }),
                // Filter values are checked against the column's own type.
                _ if field.kind == FieldKind::Integer => stored_integer_schema(field),
                _ => field_schema(field),
            };
            params.push(query_param(
                &param,
                lookup_description(field, lookup),
                bounded_text(schema, list),
            ));
        }
    }
    params
}

/// The relation names of `meta`'s expandable foreign keys.
fn foreign_keys(meta: &ModelMeta) -> Vec<String> {
    meta.fields
        .iter()
        .filter(|f| f.references.is_some() && f.read_as.is_some())
        .map(|f| f.relation_name().to_string())
        .collect()
}

/// `expand`, naming the relations a row can embed; `None` without any.
pub(super) fn expand_param(meta: &ModelMeta, list: ListSettings) -> Option<Value> {
    let relations = foreign_keys(meta);
    if relations.is_empty() {
        return None;
    }
    Some(query_param(
        "expand",
        format!(
            "Related objects to embed in place of their keys' names, comma-separated: {}.",
            relations.join(", ")
        ),
        comma_list_schema(&relations, "", list.max_expand),
    ))
}

/// What `?ordering=` accepts: a comma-separated list of the orderable
/// fields, each optionally prefixed with `-`; spaces around a term and
/// empty terms are ignored (so an empty value keeps the default order).
/// `None` when the model declares no orderable fields.
fn ordering_schema(meta: &ModelMeta, list: ListSettings) -> Option<Value> {
    if meta.api.ordering.is_empty() {
        return None;
    }
    Some(comma_list_schema(
        meta.api.ordering,
        "-?",
        list.max_ordering_terms,
    ))
}

/// A string of at most `max` comma-separated `names` (each after `prefix`,
/// a regex), as the list parser reads it: spaces around a name and empty
/// items ignored (the parser's bound counts only names, so this is stricter).
fn comma_list_schema<S: AsRef<str>>(names: &[S], prefix: &str, max: usize) -> Value {
    let names = names
        .iter()
        .map(|name| regex::escape(name.as_ref()))
        .collect::<Vec<_>>()
        .join("|");
    let item = format!(" *({prefix}({names}))? *");
    let more = max.saturating_sub(1);
    json!({ "type": "string", "pattern": format!("^{item}(,{item}){{0,{more}}}$") })
}

/// A text filter value's schema with the list's length bound (the tighter
/// of the field's own `maxLength` and [`ListSettings::max_filter_value_length`]).
fn bounded_text(mut schema: Value, list: ListSettings) -> Value {
    // Enums and formats (dates, UUIDs) are shorter than any bound already.
    let plain_text = schema.get("type") == Some(&json!("string"))
        && schema.get("enum").is_none()
        && schema.get("format").is_none();
    if plain_text {
        let bound = list.max_filter_value_length as u64;
        let max = schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .map_or(bound, |own| own.min(bound));
        schema["maxLength"] = json!(max);
    }
    schema
}

/// `?search=`: at most [`ListSettings::max_search_length`] characters and
/// [`ListSettings::max_search_words`] whitespace-separated words, as the
/// parser counts them (`\s` is a superset of Rust's whitespace, so the
/// pattern never admits more words than the server does).
fn search_schema(list: ListSettings) -> Value {
    let more = list.max_search_words.saturating_sub(1);
    json!({
        "type": "string",
        "maxLength": list.max_search_length,
        "pattern": format!("^\\s*([^\\s\\u0000]+\\s+){{0,{more}}}[^\\s\\u0000]*\\s*$"),
    })
}

/// The query parameters of `meta`'s list endpoint.
pub fn list_params(meta: &ModelMeta, list: ListSettings) -> Vec<Value> {
    let mut params = page_params(meta, list);
    params.extend(ordering_param(meta, list));
    if !meta.api.search.is_empty() {
        params.push(query_param(
            "search",
            format!(
                "Space-separated terms; each must appear, case-insensitively, in one of: {}.",
                meta.api.search.join(", ")
            ),
            search_schema(list),
        ));
    }
    params.extend(expand_param(meta, list));
    params.extend(filter_params(meta, list));
    // The list parser refuses NUL in every value it reads as text.
    for param in &mut params {
        walk_schema(&mut param["schema"], &mut forbid_nul);
    }
    params
}

/// `page`, `page_size` and (unless `pagination = "none"`) `cursor`.
fn page_params(meta: &ModelMeta, list: ListSettings) -> Vec<Value> {
    let mut params = vec![
        json!({
            "name": "page",
            "in": "query",
            "required": false,
            "description": "Page number, from 1 (ignored with `cursor`).",
            "schema": { "type": "integer", "minimum": 1, "maximum": list.max_page(), "default": 1 },
        }),
        json!({
            "name": "page_size",
            "in": "query",
            "required": false,
            "description": "Rows per page.",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": list.max_page_size,
                "default": list.default_page_size.min(list.max_page_size),
            },
        }),
    ];
    if meta.api.pagination == PaginationMode::Off {
        // `pagination = "none"`: every row unless a slice is asked for; no cursor.
        params[0]["description"] = json!(
            "Page number, from 1, of a slice; without `page` and `page_size` every row is listed."
        );
        params[1]["schema"]
            .as_object_mut()
            .map(|schema| schema.remove("default"));
    } else {
        params.push(query_param(
            "cursor",
            "Keyset pagination: send an empty `cursor=` for the first page, then the `next` \
             of the previous answer. The answer is then `{items, next, page_size}`, without a total; \
             `page` is ignored."
                .into(),
            json!({ "type": "string", "maxLength": list.max_cursor_length }),
        ));
    }
    params
}

/// `ordering`, naming the model's default order; `None` without orderable
/// fields, where any value but an empty one is refused.
fn ordering_param(meta: &ModelMeta, list: ListSettings) -> Option<Value> {
    let schema = ordering_schema(meta, list)?;
    let default: Vec<String> = meta
        .ordering
        .iter()
        .map(|t| {
            let sign = if t.descending { "-" } else { "" };
            match (t.related, meta.field(t.field)) {
                (Some(related), Some(field)) => {
                    format!("{sign}{}__{related}", field.relation_name())
                }
                _ => format!("{sign}{}", t.field),
            }
        })
        .collect();
    let default = if default.is_empty() {
        meta.primary_key.to_string()
    } else {
        default.join(",")
    };
    Some(query_param(
        "ordering",
        format!(
            "Fields to sort by, comma-separated, `-` for descending: {}. Default `{default}`.",
            meta.api.ordering.join(", ")
        ),
        schema,
    ))
}

/// The query parameters of `meta`'s change feed: `since`, `timeout` (the
/// long-poll only) and the list's filters, as [`crate::feed`] reads them.
pub(super) fn feed_params(meta: &ModelMeta, list: ListSettings, long_poll: bool) -> Vec<Value> {
    let mut params = vec![query_param(
        "since",
        "The cursor to follow from: the `cursor` of the previous answer (long-poll) or an \
         event's `id` (SSE). Without it, the feed starts from now."
            .into(),
        json!({ "type": "string", "pattern": "^[0-9]{1,18}$" }),
    )];
    if long_poll {
        params.push(query_param(
            "timeout",
            format!(
                "Seconds to wait for an event when there is none yet (default {}).",
                crate::feed::DEFAULT_TIMEOUT
            ),
            json!({
                "type": "integer",
                "minimum": 0,
                "maximum": crate::feed::MAX_TIMEOUT,
                "default": crate::feed::DEFAULT_TIMEOUT,
            }),
        ));
    }
    // A filter on a field called `since` or `timeout` is shadowed by the
    // feed's own parameter (the feed reads those names first).
    params.extend(
        filter_params(meta, list)
            .into_iter()
            .filter(|p| !matches!(p["name"].as_str(), Some("since" | "timeout"))),
    );
    for param in &mut params {
        walk_schema(&mut param["schema"], &mut forbid_nul);
    }
    params
}
