//! Saving a form: the typed text of each field read back into the JSON
//! the API would receive, checked by the model's own validation, then
//! written through the one write path ([`UnitOfWork`]) with the inline
//! rows and the log entry, all or nothing.

use serde_json::{Map, Value as JsonValue, json};

use super::inline::{Inline, InlineRow};
use super::spec::row_values;
use super::{FieldErrors, Page, REQUIRED, Values, field_label, get, render};
use crate::admin::context::{AdminCtx, PageResult, Reject, server_error};
use crate::admin::login::check_new_password;
use crate::admin::ops::{AdminRow, input_text};
use crate::admin::site::FormFields;
use crate::admin::{LogAction, change_message, log_action, quote_pk};
use crate::auth::PasswordContext;
use crate::error::{ApiError, ErrorKind, ValidationError};
use crate::model::{FieldKind, FieldMeta};
use crate::query::Models;
use crate::write::UnitOfWork;

/// The values posted for `fields` under `prefix` (`post-0-`).
pub(super) fn posted_values(
    form: &FormFields,
    prefix: &str,
    fields: &[&'static FieldMeta],
) -> Values {
    fields
        .iter()
        .map(|f| {
            let raw = get(form, &format!("{prefix}{}", f.name)).unwrap_or("");
            // Browsers send textarea lines as CRLF; the API stores what was meant.
            (f.name, raw.replace("\r\n", "\n"))
        })
        .collect()
}

/// Typed text as the JSON the API expects for `field`: `Ok(None)` leaves
/// the field out (the API's default on a create, unchanged on a change).
/// Text that is not a number or a date is passed on as a string so the
/// API reports it in its own words.
fn to_json(field: &FieldMeta, raw: &str, adding: bool) -> Result<Option<JsonValue>, String> {
    if raw.contains('\0') {
        // PostgreSQL cannot store NUL in text; Django's forms refuse it too.
        return Err("Null characters are not allowed.".into());
    }
    let trimmed = raw.trim();
    if field.kind == FieldKind::Boolean && !field.nullable {
        let on = !trimmed.is_empty() && !matches!(trimmed, "false" | "0" | "off");
        return Ok(Some(JsonValue::Bool(on)));
    }
    if field.write_only && raw.is_empty() && !adding {
        // Never prefilled, so empty means "keep it".
        return Ok(None);
    }
    let empty = if field.kind == FieldKind::String {
        raw.is_empty()
    } else {
        trimmed.is_empty()
    };
    if empty {
        return match (field.nullable, field.kind) {
            (true, _) => Ok(Some(JsonValue::Null)),
            (false, FieldKind::String) => Ok(Some(JsonValue::String(String::new()))),
            (false, _) if adding => Ok(None),
            (false, _) => Err(REQUIRED.into()),
        };
    }
    let text = || JsonValue::String(trimmed.to_string());
    Ok(Some(match field.kind {
        FieldKind::String => JsonValue::String(raw.to_string()),
        FieldKind::Integer => trimmed
            .parse::<i64>()
            .map(JsonValue::from)
            .unwrap_or_else(|_| text()),
        FieldKind::Float => match trimmed.parse::<f64>() {
            Ok(n) if n.is_finite() => JsonValue::from(n),
            _ => text(),
        },
        FieldKind::Boolean => match trimmed {
            "true" | "on" | "1" => JsonValue::Bool(true),
            "false" | "off" | "0" => JsonValue::Bool(false),
            _ => text(),
        },
        FieldKind::DateTime => parse_datetime(trimmed).map_or_else(text, JsonValue::String),
        FieldKind::Json => {
            serde_json::from_str(raw).map_err(|_| "Enter a valid JSON.".to_string())?
        }
        FieldKind::Date | FieldKind::Decimal | FieldKind::Uuid | FieldKind::Choice => text(),
    }))
}

/// A `datetime-local` value (UTC; with or without seconds) as RFC 3339.
fn parse_datetime(text: &str) -> Option<String> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(
            dt.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        );
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
    .map(|dt| {
        dt.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    })
}

/// The JSON body of a form, and the errors found before the API sees it.
fn form_body(
    fields: &[&'static FieldMeta],
    values: &Values,
    adding: bool,
) -> (Map<String, JsonValue>, FieldErrors) {
    let mut body = Map::new();
    let mut errors = FieldErrors::new();
    for field in fields {
        let raw = values.get(field.name).map(String::as_str).unwrap_or("");
        match to_json(field, raw, adding) {
            Ok(Some(value)) => {
                body.insert(field.name.to_string(), value);
            }
            Ok(None) => {}
            Err(message) => errors
                .entry(field.name.to_string())
                .or_default()
                .push(message),
        }
    }
    (body, errors)
}

/// The API's validation errors, by field (`loc[1]`) and for the whole form.
fn split_errors(error: ValidationError, errors: &mut FieldErrors, general: &mut Vec<String>) {
    for detail in error.detail {
        let message = if detail.kind == ErrorKind::Missing {
            REQUIRED.to_string()
        } else {
            detail.msg
        };
        match detail.loc.get(1).and_then(|l| l.as_str()) {
            Some(field) => errors.entry(field.to_string()).or_default().push(message),
            None => general.push(message),
        }
    }
}

/// What a failed write says on the form: field errors or a message for
/// the top of the form; any other failure is handed back.
fn write_failure(
    error: ApiError,
    errors: &mut FieldErrors,
    general: &mut Vec<String>,
) -> Option<ApiError> {
    match error {
        ApiError::Validation(v) | ApiError::BadRequest(v) | ApiError::MissingReference(v) => {
            split_errors(v, errors, general)
        }
        ApiError::Conflict(message) | ApiError::Forbidden(message) => general.push(message),
        other => return Some(other),
    }
    None
}

/// The changed fields' labels between two versions of a row.
fn changed_labels(
    fields: &[&'static FieldMeta],
    before: &AdminRow,
    after: &AdminRow,
) -> Vec<String> {
    fields
        .iter()
        .filter(|f| {
            let text = |row: &AdminRow| row.value(f.name).map(|v| input_text(f.kind, v));
            text(before) != text(after)
        })
        .map(|f| field_label(f))
        .collect()
}

/// A blank inline row's key to a parent not saved yet: only its type
/// matters while validating, and its errors are ignored.
fn placeholder_key(key: &FieldMeta) -> JsonValue {
    match key.kind {
        FieldKind::Integer => JsonValue::from(1),
        FieldKind::Uuid => JsonValue::String("00000000-0000-0000-0000-000000000000".into()),
        _ => JsonValue::String("placeholder".into()),
    }
}

/// One write an inline row asks for, once everything validated.
enum InlineWrite {
    Create(Map<String, JsonValue>),
    Update(String, Map<String, JsonValue>),
    Delete(String),
}

/// Validates the parent and every inline row, then (only if all are
/// valid) writes the parent, the inline rows and the log entry in one
/// transaction, as Django's `changeform_view` under `transaction.atomic`:
/// a write the database refuses (a unique or foreign key constraint no
/// form check could see) leaves nothing changed and shows the form again
/// with the error at its row.
pub(super) async fn save(ctx: &mut AdminCtx, mut page: Page, form: &FormFields) -> PageResult {
    let me = ctx.staff()?;
    let adding = page.adding();
    let fields = page.spec.editable(adding, None);
    let (body, mut errors) = form_body(&fields, &page.values, adding);
    let body = JsonValue::Object(body);
    let mut general = Vec::new();
    if let Err(e) = page.spec.ops.validate(&body, !adding) {
        split_errors(e, &mut errors, &mut general);
    }
    if adding {
        check_confirmation(ctx, &page, form, &mut errors);
    }
    page.errors = errors;
    page.general = general;
    let writes = plan_inlines(&mut page);
    if page.has_errors() {
        return render(ctx, page).await;
    }
    let work = UnitOfWork::begin_as(&ctx.state.db, ctx.user.as_ref().map(|u| u.id))
        .await
        .map_err(|e| Reject(server_error(format!("admin save failed: {e:?}"))))?;
    let saved = match write_all(&work, ctx.state.models(), &mut page, body, writes, me.id).await {
        Ok(saved) => saved,
        Err(failed) => {
            // Nothing of this save is kept.
            drop(work);
            return match failed {
                Failed::Shown => render(ctx, page).await,
                Failed::NotFound => Err(Reject(ctx.not_found())),
                Failed::Other(error) => Err(Reject(server_error(format!(
                    "admin save failed: {error:?}"
                )))),
            };
        }
    };
    work.commit()
        .await
        .map_err(|e| Reject(server_error(format!("admin save failed: {e:?}"))))?;
    finish(ctx, &page, &saved, form).await
}

/// The add form's second input of a field asked for twice (a user's
/// password): equal to the first, and the first passes the app's password
/// policy, as on every path that sets a password.
fn check_confirmation(ctx: &AdminCtx, page: &Page, form: &FormFields, errors: &mut FieldErrors) {
    let Some(confirm) = page.spec.hooks.add_confirmation() else {
        return;
    };
    let typed = page.values.get(confirm.field).map_or("", String::as_str);
    // An empty password is the API's "required" error alone, as in Django.
    if typed.is_empty() {
        return;
    }
    let account = page
        .values
        .iter()
        .fold(PasswordContext::new(), |c, (k, v)| c.with(*k, v));
    check_new_password(
        &ctx.state.auth().password_policy,
        errors,
        (confirm.field, confirm.input),
        (typed, get(form, confirm.input).unwrap_or("")),
        &account,
    );
}

/// The writes each inline asks for, by row, with each row's own errors
/// (from the form and from the model's validation) set on the row.
fn plan_inlines(page: &mut Page) -> Vec<Vec<(usize, InlineWrite)>> {
    let parent = page.row.as_ref().map(|r| r.pk.clone());
    let mut writes = Vec::new();
    for inline in &mut page.inlines {
        let fields = inline.edited_fields();
        let blank = inline.spec.blank();
        let mut planned = Vec::new();
        for i in 0..inline.rows.len() {
            let Some(write) = plan_row(inline, i, &fields, &blank) else {
                continue;
            };
            let check = match &write {
                InlineWrite::Delete(_) => None,
                InlineWrite::Update(_, body) => Some((JsonValue::Object(body.clone()), true)),
                InlineWrite::Create(body) => {
                    let mut body = body.clone();
                    let key = match &parent {
                        Some(pk) => to_json(inline.key, pk, true)
                            .ok()
                            .flatten()
                            .unwrap_or(JsonValue::Null),
                        None => placeholder_key(inline.key),
                    };
                    body.insert(inline.key.name.to_string(), key);
                    Some((JsonValue::Object(body), false))
                }
            };
            let row = &mut inline.rows[i];
            if let Some((body, partial)) = check
                && let Err(e) = inline.spec.ops.validate(&body, partial)
            {
                split_errors(e, &mut row.errors, &mut row.general);
                row.errors.remove(inline.key.name);
            }
            show_hidden_errors(row, &fields);
            planned.push((i, write));
        }
        writes.push(planned);
    }
    writes
}

/// What row `i` of `inline` asks for: nothing for an untouched row.
fn plan_row(
    inline: &mut Inline,
    i: usize,
    fields: &[&'static FieldMeta],
    blank: &Values,
) -> Option<InlineWrite> {
    let meta = inline.spec.meta;
    let (can_add, can_change) = (inline.can_add, inline.can_change);
    let row = &mut inline.rows[i];
    match &row.row {
        Some(old) if row.delete => Some(InlineWrite::Delete(old.pk.clone())),
        Some(_) if !can_change => None,
        Some(old) => {
            // Only what the user changed is written, so an untouched
            // row is not saved again (nor its auto_now bumped).
            let before = row_values(meta, old);
            let changed: Vec<_> = fields
                .iter()
                .copied()
                .filter(|f| row.values.get(f.name) != before.get(f.name))
                .collect();
            if changed.is_empty() {
                return None;
            }
            let pk = old.pk.clone();
            let (body, errs) = form_body(&changed, &row.values, false);
            row.errors = errs;
            Some(InlineWrite::Update(pk, body))
        }
        None if !can_add => None,
        None => {
            // An untouched blank row adds nothing; a field left out
            // of the POST counts as untouched.
            let untouched = fields.iter().all(|f| {
                row.values
                    .get(f.name)
                    .is_none_or(|v| v.is_empty() || Some(v) == blank.get(f.name))
            });
            if untouched {
                return None;
            }
            let (body, errs) = form_body(fields, &row.values, true);
            row.errors = errs;
            Some(InlineWrite::Create(body))
        }
    }
}

/// Errors on fields a row does not show still block the save: they move
/// to the row's own messages, named.
fn show_hidden_errors(row: &mut InlineRow, fields: &[&'static FieldMeta]) {
    let shown: Vec<&str> = fields.iter().map(|f| f.name).collect();
    let hidden: Vec<String> = row
        .errors
        .keys()
        .filter(|k| !shown.contains(&k.as_str()))
        .cloned()
        .collect();
    for key in hidden {
        if let Some(messages) = row.errors.remove(&key) {
            row.general
                .extend(messages.into_iter().map(|m| format!("{key}: {m}")));
        }
    }
}

/// Why a save wrote nothing.
enum Failed {
    /// The database refused a write; the page now carries the error.
    Shown,
    /// The row being changed is gone.
    NotFound,
    /// Anything else: a 500.
    Other(ApiError),
}

/// The parent, then every planned inline write, then the log entry, in
/// `work`; answers the saved parent.
async fn write_all(
    work: &UnitOfWork,
    models: &Models,
    page: &mut Page,
    body: JsonValue,
    writes: Vec<Vec<(usize, InlineWrite)>>,
    user_id: i32,
) -> Result<AdminRow, Failed> {
    let owner = Some(i64::from(user_id));
    let adding = page.adding();
    let result = match &page.row {
        None => page.spec.ops.create(work, body, owner).await,
        Some(old) => page.spec.ops.update(work, &old.pk, body).await,
    };
    let saved = match result {
        Ok(saved) => saved,
        Err(ApiError::NotFound) => return Err(Failed::NotFound),
        Err(error) => {
            return Err(
                match write_failure(error, &mut page.errors, &mut page.general) {
                    Some(other) => Failed::Other(other),
                    None => Failed::Shown,
                },
            );
        }
    };
    let fields = page.spec.editable(adding, None);
    let mut message = match &page.row {
        None => change_message(LogAction::Addition, &[]),
        Some(old) => change_message(LogAction::Change, &changed_labels(&fields, old, &saved)),
    };
    for (inline, planned) in page.inlines.iter_mut().zip(writes) {
        for (i, write) in planned {
            let entry = match write_inline(work, models, inline, i, write, &saved.pk, owner).await {
                Ok(entry) => entry,
                Err(error) => {
                    let fields = inline.edited_fields();
                    let row = &mut inline.rows[i];
                    if let Some(other) = write_failure(error, &mut row.errors, &mut row.general) {
                        return Err(Failed::Other(other));
                    }
                    show_hidden_errors(row, &fields);
                    return Err(Failed::Shown);
                }
            };
            if let (Some(entry), Some(parts)) = (entry, message.as_array_mut()) {
                parts.push(entry);
            }
        }
    }
    let changed_anything = message.as_array().is_some_and(|m| !m.is_empty());
    if adding || changed_anything {
        let action = if adding {
            LogAction::Addition
        } else {
            LogAction::Change
        };
        let meta = page.spec.meta;
        log_action(
            work.tx(),
            user_id,
            meta,
            &saved.pk,
            &saved.display,
            action,
            message,
        )
        .await
        .map_err(|e| Failed::Other(ApiError::internal(e)))?;
    }
    Ok(saved)
}

/// Writes row `i` of `inline` (of the parent `parent_pk`); answers the
/// log entry's part for it, if it changed anything.
async fn write_inline(
    work: &UnitOfWork,
    models: &Models,
    inline: &Inline,
    i: usize,
    write: InlineWrite,
    parent_pk: &str,
    owner: Option<i64>,
) -> Result<Option<JsonValue>, ApiError> {
    let name = inline.spec.meta.verbose_name();
    let ops = &inline.spec.ops;
    Ok(match write {
        InlineWrite::Delete(pk) => {
            ops.delete(work, models, std::slice::from_ref(&pk)).await?;
            let display = inline.rows[i].row.as_ref().map(|r| r.display.clone());
            Some(json!({ "deleted": { "name": name, "object": display } }))
        }
        InlineWrite::Update(pk, body) => {
            let after = ops.update(work, &pk, JsonValue::Object(body)).await?;
            let changed = inline.rows[i]
                .row
                .as_ref()
                .map(|before| changed_labels(&inline.edited_fields(), before, &after))
                .unwrap_or_default();
            (!changed.is_empty()).then(|| {
                json!({ "changed": { "name": name, "object": after.display, "fields": changed } })
            })
        }
        InlineWrite::Create(mut body) => {
            let key = to_json(inline.key, parent_pk, true).ok().flatten();
            body.insert(inline.key.name.to_string(), key.unwrap_or(JsonValue::Null));
            let added = ops.create(work, JsonValue::Object(body), owner).await?;
            Some(json!({ "added": { "name": name, "object": added.display } }))
        }
    })
}

/// After a save: the success message, and where the chosen button leads.
async fn finish(
    ctx: &mut AdminCtx,
    page: &Page,
    saved: &AdminRow,
    form: &FormFields,
) -> PageResult {
    let meta = page.spec.meta;
    let adding = page.adding();
    let name = meta.verbose_name();
    let done = if adding { "added" } else { "changed" };
    let base = format!("/admin/{}/{}/", meta.app_label, meta.model_name);
    let change_url = format!("{base}{}/change/", quote_pk(&saved.pk));
    // Someone who may only add cannot open the object or the list afterwards.
    let can_see = ctx.can_view(meta).await;
    // As Django's UserAdmin, a new user goes on to the change form (flags,
    // groups, permissions) unless another is being added.
    let then_edit =
        adding && page.spec.hooks.edit_after_add() && get(form, "_addanother").is_none();
    let (text, to) = if (get(form, "_continue").is_some() || then_edit) && can_see {
        (
            format!(
                "The {name} “{}” was {done} successfully. You may edit it again below.",
                saved.display
            ),
            change_url,
        )
    } else if get(form, "_addanother").is_some() {
        (
            format!(
                "The {name} “{}” was {done} successfully. You may add another {name} below.",
                saved.display
            ),
            format!("{base}add/"),
        )
    } else {
        (
            format!("The {name} “{}” was {done} successfully.", saved.display),
            if can_see { base } else { "/admin/".into() },
        )
    };
    ctx.message("success", text).await;
    Ok(ctx.redirect(&to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_inputs_with_or_without_seconds_are_utc() {
        assert_eq!(
            parse_datetime("2024-01-31T12:30").as_deref(),
            Some("2024-01-31T12:30:00Z")
        );
        assert_eq!(
            parse_datetime("2024-01-31T12:30:15").as_deref(),
            Some("2024-01-31T12:30:15Z")
        );
        assert_eq!(
            parse_datetime("2024-01-31 12:30:15.5").as_deref(),
            Some("2024-01-31T12:30:15.500Z")
        );
        assert_eq!(
            parse_datetime("2024-01-31T12:30:00+02:00").as_deref(),
            Some("2024-01-31T10:30:00Z")
        );
        assert_eq!(parse_datetime("2024-13-45T99:00"), None);
        assert_eq!(parse_datetime("yesterday"), None);
    }
}
