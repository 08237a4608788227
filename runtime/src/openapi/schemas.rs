//! Value schemas: one field's value as a query string or path carries it,
//! integers bounded by their Rust type, strings that refuse NUL.

use serde_json::{Value, json};

use super::SCHEMAS_PATH;
use crate::model::{DbType, FieldKind, FieldMeta};

/// Says that a free string schema refuses NUL (see [`NO_NUL_PATTERN`]).
/// Formats and enums already rule it out.
pub(super) fn forbid_nul(schema: &mut Value) {
    let is_string = match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
        _ => false,
    };
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    if !is_string
        || ["format", "enum", "const"]
            .iter()
            .any(|k| map.contains_key(*k))
    {
        return;
    }
    match map.get("pattern") {
        None => {
            map.insert("pattern".into(), Value::from(NO_NUL_PATTERN));
        }
        Some(existing) if existing == NO_NUL_PATTERN => {}
        Some(_) => {
            let all_of = map.entry("allOf").or_insert_with(|| json!([]));
            if let Some(all_of) = all_of.as_array_mut() {
                all_of.push(json!({ "pattern": NO_NUL_PATTERN }));
            }
        }
    }
}

/// `{"$ref": "#/components/schemas/{name}"}`.
pub fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{SCHEMAS_PATH}{name}") })
}

/// The JSON Schema of an integer of JSON Schema format `format` (`int16`,
/// `int32`, `int64`, `uint8`, ...), bounded by the Rust type's range:
/// a value outside it is refused with 422, so the document says so.
pub fn integer_schema(format: &str) -> Value {
    let mut schema = json!({ "type": "integer", "format": format });
    bound_integer(&mut schema);
    schema
}

/// The range of the Rust integer type schemars names by `format`.
fn integer_range(format: &str) -> Option<(Value, Value)> {
    Some(match format {
        "int8" => (i8::MIN.into(), i8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "int32" => (i32::MIN.into(), i32::MAX.into()),
        "int64" => (i64::MIN.into(), i64::MAX.into()),
        "uint8" => (0.into(), u8::MAX.into()),
        "uint16" => (0.into(), u16::MAX.into()),
        "uint32" => (0.into(), u32::MAX.into()),
        "uint64" => (0.into(), u64::MAX.into()),
        _ => return None,
    })
}

/// Adds `minimum`/`maximum` to an integer schema with a known `format`,
/// keeping a declared bound (`min_value`) when it is tighter.
pub(super) fn bound_integer(schema: &mut Value) {
    let Some((min, max)) = schema
        .get("format")
        .and_then(Value::as_str)
        .and_then(integer_range)
    else {
        return;
    };
    let is_integer = match schema.get("type") {
        Some(Value::String(t)) => t == "integer",
        Some(Value::Array(types)) => types.iter().any(|t| t == "integer"),
        _ => false,
    };
    if !is_integer {
        return;
    }
    let as_f64 = |v: &Value| v.as_f64().unwrap_or(0.0);
    let tighter = |existing: Option<&Value>, bound: &Value, lower: bool| match existing {
        Some(e) if e.is_number() && (as_f64(e) > as_f64(bound)) == lower => e.clone(),
        _ => bound.clone(),
    };
    let minimum = tighter(schema.get("minimum"), &min, true);
    let maximum = tighter(schema.get("maximum"), &max, false);
    schema["minimum"] = minimum;
    schema["maximum"] = maximum;
}

/// The integer schema of a stored integer field's Rust type.
pub(super) fn stored_integer_schema(field: &FieldMeta) -> Value {
    integer_schema(match field.db_type {
        DbType::SmallInteger => "int16",
        DbType::Integer => "int32",
        _ => "int64",
    })
}

/// A pattern every string the server reads must match: strings holding
/// NUL are refused (422 `string_nul`; PostgreSQL cannot store them).
pub const NO_NUL_PATTERN: &str = "^[^\\u0000]*$";

/// The JSON Schema of one value of `field`, as it appears in a query string or path.
pub fn field_schema(field: &FieldMeta) -> Value {
    match field.kind {
        FieldKind::Integer => stored_integer_schema(field),
        FieldKind::Float => json!({ "type": "number" }),
        FieldKind::Boolean => json!({ "type": "boolean" }),
        FieldKind::String => json!({ "type": "string" }),
        FieldKind::DateTime => json!({ "type": "string", "format": "date-time" }),
        FieldKind::Date => json!({ "type": "string", "format": "date" }),
        FieldKind::Decimal => json!({ "type": "string", "format": "decimal" }),
        FieldKind::Uuid => json!({ "type": "string", "format": "uuid" }),
        FieldKind::Json => json!({}),
        FieldKind::Choice => json!({ "type": "string", "enum": field.choices }),
    }
}

/// `{"application/json": {"schema": schema}}`: a JSON body of `schema`.
pub(super) fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}
