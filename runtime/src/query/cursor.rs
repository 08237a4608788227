//! Cursor (keyset) pagination: the opaque cursor a page hands out, and the
//! condition selecting the rows after it.

use base64::Engine;
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, DbErr, Value};
use serde_json::{Value as Json, json};

use super::OrderTerm;
use super::execute::column;
use super::lookup::value_from_json;
use crate::model::Model;

/// The `?ordering=` signature a cursor was made for, so a cursor is never
/// applied to another ordering.
fn ordering_signature(ordering: &[OrderTerm]) -> String {
    ordering
        .iter()
        .map(|t| format!("{}{}", if t.descending { "-" } else { "" }, t.field.name))
        .collect::<Vec<_>>()
        .join(",")
}

/// The opaque cursor that continues after a row whose ordering values are `values`.
pub fn encode_cursor(ordering: &[OrderTerm], values: Vec<Json>) -> String {
    let payload = json!({ "o": ordering_signature(ordering), "v": values });
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string())
}

/// The ordering values of a cursor made for `ordering`, or why it is not one.
pub(super) fn decode_cursor(ordering: &[OrderTerm], raw: &str) -> Result<Vec<Json>, String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw.trim())
        .map_err(|_| "Invalid cursor: pass back the `next` value of a previous page".to_string())?;
    let payload: Json = serde_json::from_slice(&bytes)
        .map_err(|_| "Invalid cursor: pass back the `next` value of a previous page".to_string())?;
    if payload["o"].as_str() != Some(ordering_signature(ordering).as_str()) {
        return Err(
            "This cursor was made for another ordering; start again without `cursor`".into(),
        );
    }
    match payload["v"].as_array() {
        Some(values) if values.len() == ordering.len() => {
            for (term, value) in ordering.iter().zip(values) {
                if value_from_json(term.field, value).is_none() {
                    return Err(
                        "Invalid cursor: pass back the `next` value of a previous page".into(),
                    );
                }
            }
            Ok(values.clone())
        }
        _ => Err("Invalid cursor: pass back the `next` value of a previous page".into()),
    }
}

/// Rows strictly after the cursor row in `ordering`: for terms t1..tn,
/// `(t1 after v1) OR (t1 = v1 AND t2 after v2) OR ...`, NULL-aware.
///
/// When t1 is a column of the model that holds no NULL, the condition also
/// says `t1 >= v1` (`<=` descending), which every branch implies: the
/// database reads an index on the ordering from the cursor on, where the
/// bare OR would walk it from the first row (a page near the end of a
/// million rows would read them all).
pub(super) fn keyset_after<M: Model>(
    ordering: &[OrderTerm],
    after: &[Json],
) -> Result<Condition, DbErr> {
    let any = keyset_branches::<M>(ordering, after)?;
    match (ordering.first(), after.first()) {
        (Some(first), Some(value))
            if first.related.is_none() && !first.field.nullable && !value.is_null() =>
        {
            let column = column::<M>(first.field.name)?;
            let value = cursor_value(first, value)?;
            let bound = if first.descending {
                column.lte(value)
            } else {
                column.gte(value)
            };
            Ok(Condition::all().add(bound).add(any))
        }
        _ => Ok(any),
    }
}

/// The OR of [`keyset_after`].
fn keyset_branches<M: Model>(ordering: &[OrderTerm], after: &[Json]) -> Result<Condition, DbErr> {
    let mut any = Condition::any();
    for i in 0..ordering.len() {
        let mut branch = Condition::all();
        for (term, value) in ordering[..i].iter().zip(after) {
            let column = column::<M>(term.field.name)?;
            branch = branch.add(if value.is_null() {
                column.is_null()
            } else {
                column.eq(cursor_value(term, value)?)
            });
        }
        let term = &ordering[i];
        let column = column::<M>(term.field.name)?;
        let value = &after[i];
        let step: Option<Condition> = match (term.descending, value.is_null()) {
            // NULLs sort first ascending: every non-NULL comes after a NULL.
            (false, true) => Some(Condition::all().add(column.is_not_null())),
            (false, false) => Some(Condition::all().add(column.gt(cursor_value(term, value)?))),
            // NULLs sort last descending: nothing comes after a NULL.
            (true, true) => None,
            (true, false) => {
                let mut step = Condition::any().add(column.lt(cursor_value(term, value)?));
                if term.field.nullable {
                    step = step.add(column.is_null());
                }
                Some(step)
            }
        };
        if let Some(step) = step {
            any = any.add(branch.add(step));
        }
    }
    Ok(any)
}

/// The typed value of one cursor term. [`decode_cursor`] already refused a
/// cursor with a value that does not read back (a 404), so a miss here is
/// a bug, not bad input.
fn cursor_value(term: &OrderTerm, value: &Json) -> Result<Value, DbErr> {
    value_from_json(term.field, value)
        .ok_or_else(|| DbErr::Custom(format!("cursor value for `{}` unchecked", term.field.name)))
}
