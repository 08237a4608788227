//! The constraint keywords of request body schemas (`minLength`,
//! `maxLength`, `minimum`, `maximum`, `pattern`, `format`, a nullable
//! field's `default`), written into the schemars schema of `PostCreate` /
//! `PostUpdate` from the model's [`FieldMeta`], the same values the body
//! reader enforces; and `readOnly` on `PostRead`'s server-set fields.

use schemars::Schema;
use serde_json::Value;

use crate::model::{FieldKind, FieldMeta, ModelMeta};

/// Which generated type a schema describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaKind {
    /// `PostCreate`: constraints; a nullable field without a default defaults to `null`.
    Create,
    /// `PostUpdate`: constraints; nothing required.
    Patch,
    /// `PostRead`: `readOnly` on server-set fields, keyed as responses key them.
    Read,
}

/// Adds each property's keywords from the field of `meta` it names.
/// Generated types call it as their schemars `transform`.
///
/// A constraint goes only where it applies, as schemars places validation
/// keywords: lengths and `pattern` on a schema admitting strings, bounds
/// on one admitting numbers; `format` always.
pub fn constrain_schema(schema: &mut Schema, meta: &ModelMeta, kind: SchemaKind) {
    if kind == SchemaKind::Patch {
        // Every field of a PATCH may be left out.
        schema.remove("required");
    }
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (key, property) in properties.iter_mut() {
        match kind {
            SchemaKind::Read => {
                let field = meta.fields.iter().find(|f| f.read_as == Some(key.as_str()));
                if let Some(map) = property.as_object_mut()
                    && field.is_some_and(|f| f.read_only)
                {
                    map.insert("readOnly".into(), true.into());
                }
            }
            SchemaKind::Create | SchemaKind::Patch => {
                let Some(field) = meta.field(key) else {
                    continue;
                };
                if kind == SchemaKind::Create
                    && field.nullable
                    && field.default.is_none()
                    && let Some(map) = property.as_object_mut()
                {
                    map.insert("default".into(), Value::Null);
                }
                constrain(property, field);
            }
        }
    }
}

fn constrain(property: &mut Value, field: &FieldMeta) {
    let strings = has_type(property, "string");
    let numbers = has_type(property, "number") || has_type(property, "integer");
    let Some(map) = property.as_object_mut() else {
        return;
    };
    if strings {
        if let Some(min) = field.min_length {
            map.insert("minLength".into(), min.into());
        }
        if let Some(max) = field.max_length {
            map.insert("maxLength".into(), max.into());
        }
    }
    if numbers {
        if let Some(min) = field.min_value {
            map.insert("minimum".into(), bound(field, min));
        }
        if let Some(max) = field.max_value {
            map.insert("maximum".into(), bound(field, max));
        }
    }
    if strings && let Some(pattern) = field.pattern {
        map.insert("pattern".into(), pattern.into());
    }
    if let Some(format) = field.format {
        map.insert("format".into(), format.into());
    }
}

/// A bound as written: a whole number for an integer field.
fn bound(field: &FieldMeta, value: f64) -> Value {
    if field.kind == FieldKind::Integer {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

/// Whether `schema`'s `type` is `ty` or a list holding it.
fn has_type(schema: &Value, ty: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == ty,
        Some(Value::Array(types)) => types.iter().any(|t| t == ty),
        _ => false,
    }
}
