//! The add and change forms of every admin model, with their inlines.
//!
//! A form never validates on its own: the typed text is turned into the
//! JSON object the API would receive and goes through the model's
//! generated `Create`/`Update` validation ([`AdminOps::validate`],
//! [`AdminOps::create`], [`AdminOps::update`]), so the admin and the API
//! accept exactly the same data. The only checks made here are those that
//! happen before there is JSON at all (a JSON textarea that does not parse,
//! a required field left empty on a change).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::db::Connection;
use axum::Form;
use axum::extract::Path;
use minijinja::context;
use sea_orm::Value;
use serde::Serialize;
use serde_json::{Map, Value as JsonValue};

use super::context::{AdminCtx, PageResult, Reject, server_error};
use super::ops::{AdminOps, AdminRow, input_text, value_text};
use super::views::{FormFields, app_title, capitalize};
use super::{LogAction, change_message, inline_key, log_action, quote_pk, verbose_name_plural};
use crate::error::{ApiError, ErrorKind, ValidationError};
use crate::model::{Action, FieldDefault, FieldKind, FieldMeta, ModelMeta};
use crate::query::{Filter, ListQuery};

/// A foreign key whose table has more rows than this gets an autocomplete
/// box instead of a `<select>`: a page should not carry thousands of options.
pub const SELECT_LIMIT: u64 = 200;
/// Blank rows offered under each inline, as Django's `extra = 3`.
pub const INLINE_EXTRA: usize = 3;
/// Existing rows shown (and accepted) per inline.
const INLINE_MAX: u64 = 1000;
const REQUIRED: &str = "This field is required.";
const CORRECT: &str = "Please correct the error below.";
const CORRECT_MANY: &str = "Please correct the errors below.";

/// A field's label, as Django derives `verbose_name` from the field name
/// (`author_id` -> "Author", `created_at` -> "Created at").
pub fn field_label(field: &FieldMeta) -> String {
    let name = if field.references.is_some() {
        field.relation_name()
    } else {
        field.name
    };
    capitalize(&name.replace('_', " "))
}

/// How a foreign key is edited.
#[derive(Clone)]
enum Related {
    /// A `<select>` of every row of the (small) referenced table.
    Select(Vec<(String, String)>),
    /// A search box backed by the referenced model's autocomplete endpoint.
    Autocomplete(String),
    /// The referenced model is not in the admin: its key, typed.
    Raw,
}

/// What a form needs to know about one model, loaded once per request.
#[derive(Clone)]
struct Spec {
    ops: Arc<dyn AdminOps>,
    meta: &'static ModelMeta,
    /// Fields the API requires in a create body (no default, not nullable).
    required: Vec<String>,
    related: HashMap<&'static str, Related>,
    /// `#[field(write_perm = ...)]` fields this user may not write: shown read-only.
    locked: Vec<&'static str>,
    /// Foreign keys to models this user may not view: their raw key is
    /// shown, never the target's display string, link or rows.
    unviewable: Vec<&'static str>,
}

impl Spec {
    async fn load(ctx: &AdminCtx, ops: Arc<dyn AdminOps>) -> Result<Spec, Reject> {
        let meta = ops.meta();
        // The API's own answer to an empty body names exactly the fields
        // that have no default: those are the ones marked required.
        let required = match ops.validate(&JsonValue::Object(Map::new()), false) {
            Ok(()) => Vec::new(),
            Err(error) => error
                .detail
                .iter()
                .filter(|d| d.kind == ErrorKind::Missing)
                .filter_map(|d| d.loc.get(1).and_then(|l| l.as_str()).map(str::to_string))
                .collect(),
        };
        let mut locked = Vec::new();
        for field in meta.fields {
            if let Some(action) = field.write_perm
                && !ctx.has_perm(meta, action).await
            {
                locked.push(field.name);
            }
        }
        let mut unviewable = Vec::new();
        for field in meta.fields {
            if let Some(target) = field.references.map(|r| r())
                && !(ctx.has_perm(target, Action::View).await
                    || ctx.has_perm(target, Action::Change).await)
            {
                unviewable.push(field.name);
            }
        }
        let mut related = HashMap::new();
        // Read-only keys are shown as text: no need to count their tables.
        let keys = meta
            .fields
            .iter()
            .filter(|f| f.references.is_some() && !f.read_only && !locked.contains(&f.name));
        for field in keys {
            let Some(target) = field.references.map(|r| r()) else {
                continue;
            };
            let widget = match ctx.admin().by_table(target.table) {
                // As Django's autocomplete and selects: no rows of a model
                // the user may not view, only its raw key.
                _ if unviewable.contains(&field.name) => Related::Raw,
                None => Related::Raw,
                Some(_) if meta.admin.autocomplete.contains(&field.name) => {
                    Related::Autocomplete(autocomplete_url(target))
                }
                Some(target_ops) => {
                    let query = ListQuery::page(target, 1, SELECT_LIMIT);
                    let (rows, total) = target_ops
                        .query(&ctx.state.db, &query)
                        .await
                        .map_err(|e| Reject(server_error(e)))?;
                    if total > SELECT_LIMIT {
                        Related::Autocomplete(autocomplete_url(target))
                    } else {
                        Related::Select(rows.into_iter().map(|r| (r.pk, r.display)).collect())
                    }
                }
            };
            related.insert(field.name, widget);
        }
        Ok(Spec {
            ops,
            meta,
            required,
            related,
            locked,
            unviewable,
        })
    }

    /// Whether `field` appears on the form at all.
    fn shown(&self, field: &FieldMeta, adding: bool) -> bool {
        if adds_user(self.meta, adding) {
            // Django's add-user form: the name and the password, nothing
            // else; flags, groups and permissions follow on the change
            // form, which needs `auth.change_user`.
            return field.name == "username" || is_user_password(self.meta, field);
        }
        if field.primary_key {
            // The key is in the URL of a change page; on an add page it is
            // asked for only when the user chooses it.
            return adding && !field.read_only;
        }
        // Server-set fields have nothing to show before the row exists.
        !(adding && field.read_only)
    }

    /// Whether `field` is shown but not editable.
    fn readonly(&self, field: &FieldMeta, adding: bool) -> bool {
        field.read_only
            || self.locked.contains(&field.name)
            || (field.primary_key && !adding)
            || (is_user_password(self.meta, field) && !adding)
    }

    /// The fields a form of this model edits (`skip`: an inline's key to its parent).
    fn editable(&self, adding: bool, skip: Option<&str>) -> Vec<&'static FieldMeta> {
        self.meta
            .fields
            .iter()
            .filter(|f| self.shown(f, adding) && !self.readonly(f, adding))
            .filter(|f| Some(f.name) != skip)
            .collect()
    }

    fn is_required(&self, field: &FieldMeta) -> bool {
        self.required.iter().any(|r| r == field.name)
    }

    /// Whether a `<select>` of this field starts with an empty choice.
    fn has_blank_choice(&self, field: &FieldMeta) -> bool {
        field.nullable || field.references.is_some() || self.is_required(field)
    }

    /// The text of each field on a blank form.
    fn blank(&self) -> Values {
        self.meta
            .fields
            .iter()
            .map(|f| {
                // As Django's forms, a blank form starts from the model's defaults:
                // a user added here is active unless unticked.
                let text = match (f.default, f.kind) {
                    (Some(FieldDefault::Bool(true)), _) => "on".to_string(),
                    (Some(FieldDefault::Bool(false)), _) => String::new(),
                    (Some(FieldDefault::Int(n)), _) => n.to_string(),
                    (Some(FieldDefault::Float(x)), _) => x.to_string(),
                    (Some(FieldDefault::Str(s)), _) => s.to_string(),
                    (Some(FieldDefault::Choice(choice)), _) => choice().to_string(),
                    (None, FieldKind::Choice) if !self.has_blank_choice(f) => {
                        f.choices.first().map(|c| c.to_string()).unwrap_or_default()
                    }
                    (None, _) => String::new(),
                };
                (f.name, text)
            })
            .collect()
    }
}

fn autocomplete_url(target: &ModelMeta) -> String {
    format!(
        "/admin/{}/{}/autocomplete/",
        target.app_label, target.model_name
    )
}

/// The typed text of each field, by field name: what a form shows and
/// what it sends back. Checkboxes hold `"on"` or `""`.
type Values = BTreeMap<&'static str, String>;

/// Errors by field name.
type FieldErrors = BTreeMap<String, Vec<String>>;

/// The text of each field of a saved row.
fn row_values(meta: &ModelMeta, row: &AdminRow) -> Values {
    meta.fields
        .iter()
        .map(|f| {
            let text = match (f.kind, row.value(f.name)) {
                (_, None) => String::new(),
                (FieldKind::Boolean, Some(v)) if !f.nullable => {
                    if value_text(v) == "true" {
                        "on".into()
                    } else {
                        String::new()
                    }
                }
                (kind, Some(v)) => input_text(kind, v),
            };
            (f.name, text)
        })
        .collect()
}

/// The values posted for `fields` under `prefix` (`post-0-`).
fn posted_values(form: &FormFields, prefix: &str, fields: &[&'static FieldMeta]) -> Values {
    fields
        .iter()
        .map(|f| {
            let raw = get(form, &format!("{prefix}{}", f.name)).unwrap_or("");
            // Browsers send textarea lines as CRLF; the API stores what was meant.
            (f.name, raw.replace("\r\n", "\n"))
        })
        .collect()
}

fn get<'a>(form: &'a FormFields, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
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

/// One field as templates draw it.
#[derive(Serialize, Default)]
struct Widget {
    /// The form field name (`title`, `post-0-title`).
    name: String,
    id: String,
    label: String,
    /// `text`, `textarea`, `number`, `checkbox`, `nullbool`, `date`,
    /// `datetime`, `select`, `autocomplete`, `json`, `password`, `readonly`.
    widget: &'static str,
    value: String,
    checked: bool,
    required: bool,
    help: Option<&'static str>,
    errors: Vec<String>,
    max_length: Option<u64>,
    min: Option<String>,
    max: Option<String>,
    step: Option<&'static str>,
    options: Vec<(String, String)>,
    /// The shown text of a read-only field, or an autocomplete's current choice.
    display: String,
    /// An autocomplete's endpoint, or a read-only foreign key's link.
    url: Option<String>,
}

/// Display strings of foreign keys, loaded in one query per referenced table.
#[derive(Default)]
struct Labels(HashMap<(&'static str, String), String>);

impl Labels {
    async fn load(
        db: &Connection,
        wanted: Vec<(&'static FieldMeta, String)>,
    ) -> Result<Labels, Reject> {
        let mut by_table: HashMap<&'static str, (&'static ModelMeta, Vec<Value>)> = HashMap::new();
        for (field, key) in wanted {
            let Some(target) = field.references.map(|r| r()) else {
                continue;
            };
            let Some(pk) = target.field(target.primary_key) else {
                continue;
            };
            if let Ok(value) = crate::query::parse_value(pk, &key) {
                by_table
                    .entry(target.table)
                    .or_insert_with(|| (target, Vec::new()))
                    .1
                    .push(value);
            }
        }
        let mut labels = HashMap::new();
        for (table, (target, keys)) in by_table {
            let found = (target.admin.labels)(db, keys)
                .await
                .map_err(|e| Reject(server_error(e)))?;
            for (pk, label) in found {
                labels.insert((table, pk), label);
            }
        }
        Ok(Labels(labels))
    }

    fn get(&self, field: &FieldMeta, key: &str) -> Option<&str> {
        let table = field.references?().table;
        self.0.get(&(table, key.to_string())).map(String::as_str)
    }
}

/// The foreign key values a form shows, whose display strings it needs.
fn wanted_labels(spec: &Spec, values: &Values, out: &mut Vec<(&'static FieldMeta, String)>) {
    for field in spec.meta.fields.iter().filter(|f| f.references.is_some()) {
        if spec.unviewable.contains(&field.name) {
            continue;
        }
        let select = matches!(spec.related.get(field.name), Some(Related::Select(_)));
        if let Some(text) = values.get(field.name).filter(|t| !t.is_empty())
            && !select
        {
            out.push((field, text.trim().to_string()));
        }
    }
}

/// What drawing a model's widgets needs besides the field.
struct Draw<'a> {
    admin: &'a super::AdminState,
    spec: &'a Spec,
    labels: &'a Labels,
}

impl Draw<'_> {
    /// Draws `field` with `text`, named `{prefix}{field}`.
    fn widget(
        &self,
        field: &'static FieldMeta,
        prefix: &str,
        text: &str,
        readonly: bool,
        errors: Vec<String>,
    ) -> Widget {
        let (spec, labels) = (self.spec, self.labels);
        let name = format!("{prefix}{}", field.name);
        let mut w = Widget {
            id: format!("id_{name}"),
            name,
            label: field_label(field),
            required: spec.is_required(field),
            help: field.help_text,
            errors,
            value: text.to_string(),
            ..Widget::default()
        };
        if readonly {
            w.widget = "readonly";
            w.display = match field.kind {
                _ if is_user_password(spec.meta, field) => {
                    // Django's ReadOnlyPasswordHashField: the hash is never
                    // shown; the password has a form of its own.
                    w.url = Some("../password/".into());
                    "Raw passwords are not stored, so there is no way to see this user’s password; change it using this form.".into()
                }
                _ if field.write_only => String::new(),
                FieldKind::Boolean if !field.nullable => {
                    if text == "on" { "Yes" } else { "No" }.into()
                }
                FieldKind::DateTime if !text.is_empty() => {
                    format!("{} UTC", text.replacen('T', " ", 1))
                }
                FieldKind::Choice if !text.is_empty() => field.choice_label(text).to_string(),
                FieldKind::Boolean => match text {
                    "true" => "Yes",
                    "false" => "No",
                    _ => "Unknown",
                }
                .into(),
                _ => match labels.get(field, text) {
                    Some(label) => {
                        let target = field.references.map(|r| r());
                        w.url = target
                            .filter(|t| self.admin.by_table(t.table).is_some())
                            .map(|t| {
                                format!(
                                    "/admin/{}/{}/{}/change/",
                                    t.app_label,
                                    t.model_name,
                                    quote_pk(text)
                                )
                            });
                        label.to_string()
                    }
                    None => text.to_string(),
                },
            };
            return w;
        }
        if field.references.is_some() {
            match spec.related.get(field.name) {
                Some(Related::Select(rows)) => {
                    w.widget = "select";
                    w.options.push((String::new(), "---------".into()));
                    w.options.extend(rows.iter().cloned());
                }
                Some(Related::Autocomplete(url)) => {
                    w.widget = "autocomplete";
                    w.url = Some(url.clone());
                    w.display = labels.get(field, text.trim()).unwrap_or("").to_string();
                }
                _ => {
                    w.widget = "text";
                    w.display = labels.get(field, text.trim()).unwrap_or("").to_string();
                }
            }
            return w;
        }
        let number = |w: &mut Widget, step: &'static str| {
            w.widget = "number";
            w.step = Some(step);
            w.min = field.min_value.map(|n| n.to_string());
            w.max = field.max_value.map(|n| n.to_string());
        };
        match field.kind {
            _ if field.write_only => w.widget = "password",
            FieldKind::String if field.text => w.widget = "textarea",
            FieldKind::String | FieldKind::Uuid => {
                w.widget = "text";
                w.max_length = field.max_length;
            }
            FieldKind::Integer => number(&mut w, "1"),
            FieldKind::Float | FieldKind::Decimal => number(&mut w, "any"),
            FieldKind::Boolean if field.nullable => w.widget = "nullbool",
            FieldKind::Boolean => {
                w.widget = "checkbox";
                w.checked = !text.is_empty();
                w.required = false;
            }
            FieldKind::Date => w.widget = "date",
            FieldKind::DateTime => w.widget = "datetime",
            FieldKind::Json => w.widget = "json",
            FieldKind::Choice => {
                w.widget = "select";
                if spec.has_blank_choice(field) {
                    w.options.push((String::new(), "---------".into()));
                }
                w.options.extend(
                    field
                        .choices
                        .iter()
                        .map(|c| (c.to_string(), field.choice_label(c).to_string())),
                );
            }
        }
        w
    }
}

/// One inline row: an existing row of the inline model, or a blank one.
struct InlineRow {
    /// The existing row (`None`: an extra row to add).
    row: Option<AdminRow>,
    values: Values,
    delete: bool,
    errors: FieldErrors,
    general: Vec<String>,
}

/// The rows of one inline model on a parent's page.
struct Inline {
    spec: Spec,
    /// The inline's foreign key to the parent, hidden and fixed.
    key: &'static FieldMeta,
    can_add: bool,
    can_change: bool,
    can_delete: bool,
    rows: Vec<InlineRow>,
}

impl Inline {
    fn prefix(&self) -> &'static str {
        self.spec.meta.model_name
    }

    /// The columns of a row: not the key to the parent, not its own key.
    fn fields(&self) -> Vec<&'static FieldMeta> {
        self.spec
            .meta
            .fields
            .iter()
            .filter(|f| !f.primary_key && f.name != self.key.name)
            // Server-set fields (owner, timestamps) would only widen the
            // table; they are on each row's own change page.
            .filter(|f| !f.read_only)
            .collect()
    }
}

/// The inlines of `meta` the user may see, with the rows of `parent`.
async fn load_inlines(
    ctx: &AdminCtx,
    meta: &'static ModelMeta,
    parent: Option<&str>,
) -> Result<Vec<Inline>, Reject> {
    let mut inlines = Vec::new();
    for inline in meta.admin.inlines {
        let inline = inline();
        let (Some(ops), Some(key)) = (ctx.admin().by_table(inline.table), inline_key(meta, inline))
        else {
            continue;
        };
        let view = ctx.has_perm(inline, Action::View).await;
        let can_add = ctx.has_perm(inline, Action::Add).await;
        let can_change = ctx.has_perm(inline, Action::Change).await;
        let can_delete = ctx.has_perm(inline, Action::Delete).await;
        if !(view || can_add || can_change) {
            continue;
        }
        let spec = Spec::load(ctx, ops.clone()).await?;
        let mut rows = Vec::new();
        if let Some(parent) = parent
            && (view || can_change)
            && let Ok(value) = crate::query::parse_value(key, parent)
        {
            let query = ListQuery::page(inline, 1, INLINE_MAX).filter(Filter::exact(key, value));
            let (found, _) = ops
                .query(&ctx.state.db, &query)
                .await
                .map_err(|e| Reject(server_error(e)))?;
            for row in found {
                rows.push(InlineRow {
                    values: row_values(inline, &row),
                    row: Some(row),
                    delete: false,
                    errors: FieldErrors::new(),
                    general: Vec::new(),
                });
            }
        }
        inlines.push(Inline {
            spec,
            key,
            can_add,
            can_change,
            can_delete,
            rows,
        });
    }
    Ok(inlines)
}

/// Everything one add or change page shows.
struct Page {
    spec: Spec,
    /// The row being changed (`None` on the add page).
    row: Option<AdminRow>,
    /// The user may save (add or change permission).
    editable: bool,
    can_delete: bool,
    values: Values,
    errors: FieldErrors,
    general: Vec<String>,
    inlines: Vec<Inline>,
}

impl Page {
    fn adding(&self) -> bool {
        self.row.is_none()
    }

    /// Reads a POST over the loaded page: parent fields and inline rows.
    fn read(&mut self, form: &FormFields) {
        let adding = self.adding();
        let fields = self.spec.editable(adding, None);
        let posted = posted_values(form, "", &fields);
        self.values.extend(posted);
        for inline in &mut self.inlines {
            let prefix = inline.prefix();
            let fields: Vec<_> = inline
                .fields()
                .into_iter()
                .filter(|f| !inline.spec.readonly(f, false))
                .collect();
            let pk_name = inline.spec.meta.primary_key;
            let total = get(form, &format!("{prefix}-TOTAL_FORMS"))
                .and_then(|t| t.trim().parse::<usize>().ok())
                .unwrap_or(0)
                .min(inline.rows.len() + INLINE_MAX as usize);
            let existing = std::mem::take(&mut inline.rows);
            let mut rows = Vec::new();
            for i in 0..total {
                let row_prefix = format!("{prefix}-{i}-");
                let pk = get(form, &format!("{row_prefix}{pk_name}"))
                    .unwrap_or("")
                    .trim();
                let old = if pk.is_empty() {
                    None
                } else {
                    // Only rows of this parent, as loaded: a forged key edits nothing.
                    let seen = rows
                        .iter()
                        .any(|r: &InlineRow| r.row.as_ref().is_some_and(|r| r.pk == pk));
                    match existing
                        .iter()
                        .find(|r| r.row.as_ref().is_some_and(|r| r.pk == pk))
                    {
                        Some(found) if !seen => found.row.clone(),
                        _ => continue,
                    }
                };
                let mut values = match &old {
                    Some(row) => row_values(inline.spec.meta, row),
                    None => inline.spec.blank(),
                };
                let editable = match old {
                    Some(_) => inline.can_change,
                    None => inline.can_add,
                };
                if editable {
                    values.extend(posted_values(form, &row_prefix, &fields));
                }
                let delete = old.is_some()
                    && inline.can_delete
                    && get(form, &format!("{row_prefix}DELETE")).is_some_and(|v| !v.is_empty());
                rows.push(InlineRow {
                    row: old,
                    values,
                    delete,
                    errors: FieldErrors::new(),
                    general: Vec::new(),
                });
            }
            // Rows the form did not mention stay as they are, and are shown.
            for row in existing {
                let pk = row.row.as_ref().map(|r| r.pk.clone());
                if !rows
                    .iter()
                    .any(|r| r.row.as_ref().map(|r| r.pk.clone()) == pk)
                {
                    rows.push(row);
                }
            }
            rows.sort_by_key(|r| r.row.is_none());
            inline.rows = rows;
        }
    }
}

/// `GET /admin/{app}/{model}/add/`.
pub async fn add_form(mut ctx: AdminCtx, Path((app, model)): Path<(String, String)>) -> PageResult {
    ctx.staff()?;
    let ops = ctx.model(&app, &model)?;
    ctx.require_perm(ops.meta(), Action::Add).await?;
    let page = new_page(&ctx, ops).await?;
    render(&mut ctx, page).await
}

async fn new_page(ctx: &AdminCtx, ops: Arc<dyn AdminOps>) -> Result<Page, Reject> {
    let spec = Spec::load(ctx, ops).await?;
    let inlines = if adds_user(spec.meta, true) {
        Vec::new()
    } else {
        load_inlines(ctx, spec.meta, None).await?
    };
    Ok(Page {
        values: spec.blank(),
        spec,
        row: None,
        editable: true,
        can_delete: false,
        errors: FieldErrors::new(),
        general: Vec::new(),
        inlines,
    })
}

/// `POST /admin/{app}/{model}/add/`.
pub async fn add(
    mut ctx: AdminCtx,
    Path((app, model)): Path<(String, String)>,
    Form(form): Form<FormFields>,
) -> PageResult {
    ctx.staff()?;
    let ops = ctx.model(&app, &model)?;
    ctx.require_perm(ops.meta(), Action::Add).await?;
    ctx.check_csrf(&form)?;
    let mut page = new_page(&ctx, ops).await?;
    page.read(&form);
    save(&mut ctx, page, &form).await
}

/// The change page of `pk`, or the 404 page.
async fn change_page(ctx: &mut AdminCtx, app: &str, model: &str, pk: &str) -> Result<Page, Reject> {
    let ops = ctx.model(app, model)?;
    let meta = ops.meta();
    let editable = ctx.has_perm(meta, Action::Change).await;
    if !editable && !ctx.has_perm(meta, Action::View).await {
        return Err(Reject(
            ctx.forbidden("You don't have permission to view this."),
        ));
    }
    if pk.contains('\0') {
        return Err(Reject(ctx.not_found()));
    }
    let row = ops
        .get(&ctx.state.db, pk)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    let Some(row) = row else {
        return Err(Reject(ctx.not_found()));
    };
    let spec = Spec::load(ctx, ops).await?;
    let inlines = load_inlines(ctx, meta, Some(&row.pk)).await?;
    Ok(Page {
        values: row_values(meta, &row),
        can_delete: ctx.has_perm(meta, Action::Delete).await,
        spec,
        row: Some(row),
        editable,
        errors: FieldErrors::new(),
        general: Vec::new(),
        inlines,
    })
}

/// `GET /admin/{app}/{model}/{pk}/change/`: editable with the change
/// permission, read-only with only the view permission.
pub async fn change_form(
    mut ctx: AdminCtx,
    Path((app, model, pk)): Path<(String, String, String)>,
) -> PageResult {
    ctx.staff()?;
    let page = change_page(&mut ctx, &app, &model, &pk).await?;
    render(&mut ctx, page).await
}

/// `POST /admin/{app}/{model}/{pk}/change/`.
pub async fn change(
    mut ctx: AdminCtx,
    Path((app, model, pk)): Path<(String, String, String)>,
    Form(form): Form<FormFields>,
) -> PageResult {
    ctx.staff()?;
    let ops = ctx.model(&app, &model)?;
    ctx.require_perm(ops.meta(), Action::Change).await?;
    ctx.check_csrf(&form)?;
    let mut page = change_page(&mut ctx, &app, &model, &pk).await?;
    page.read(&form);
    save(&mut ctx, page, &form).await
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
/// valid) writes the parent, then the inline rows, and logs it all.
async fn save(ctx: &mut AdminCtx, mut page: Page, form: &FormFields) -> PageResult {
    let me = ctx.staff()?;
    let adding = page.adding();
    let meta = page.spec.meta;
    let fields = page.spec.editable(adding, None);
    let (body, mut errors) = form_body(&fields, &page.values, adding);
    let body = JsonValue::Object(body);
    let mut general = Vec::new();
    if let Err(e) = page.spec.ops.validate(&body, !adding) {
        split_errors(e, &mut errors, &mut general);
    }
    let typed = page.values.get("password").map_or("", String::as_str);
    // An empty password is the API's "required" error alone, as in Django.
    if adds_user(meta, adding) && !typed.is_empty() {
        // The app's password policy, as on every path that sets a password.
        let account = page
            .values
            .iter()
            .fold(crate::auth::PasswordContext::new(), |c, (k, v)| {
                c.with(*k, v)
            });
        super::views::check_new_password(
            &ctx.state.auth.password_policy,
            &mut errors,
            ("password", PASSWORD_CONFIRMATION),
            (typed, get(form, PASSWORD_CONFIRMATION).unwrap_or("")),
            &account,
        );
    }
    let mut writes: Vec<Vec<(usize, InlineWrite)>> = Vec::new();
    let mut invalid = !errors.is_empty() || !general.is_empty();
    for inline in &mut page.inlines {
        let fields: Vec<_> = inline
            .fields()
            .into_iter()
            .filter(|f| !inline.spec.readonly(f, false))
            .collect();
        let blank = inline.spec.blank();
        let mut planned = Vec::new();
        for (i, row) in inline.rows.iter_mut().enumerate() {
            let write = match &row.row {
                Some(old) if row.delete => InlineWrite::Delete(old.pk.clone()),
                Some(_) if !inline.can_change => continue,
                Some(old) => {
                    // Only what the user changed is written, so an untouched
                    // row is not saved again (nor its auto_now bumped).
                    let before = row_values(inline.spec.meta, old);
                    let changed: Vec<_> = fields
                        .iter()
                        .copied()
                        .filter(|f| row.values.get(f.name) != before.get(f.name))
                        .collect();
                    if changed.is_empty() {
                        continue;
                    }
                    let (body, errs) = form_body(&changed, &row.values, false);
                    row.errors = errs;
                    InlineWrite::Update(old.pk.clone(), body)
                }
                None if !inline.can_add => continue,
                None => {
                    // An untouched blank row adds nothing; a field left out
                    // of the POST counts as untouched.
                    let untouched = fields.iter().all(|f| {
                        row.values
                            .get(f.name)
                            .is_none_or(|v| v.is_empty() || Some(v) == blank.get(f.name))
                    });
                    if untouched {
                        continue;
                    }
                    let (body, errs) = form_body(&fields, &row.values, true);
                    row.errors = errs;
                    InlineWrite::Create(body)
                }
            };
            let check = match &write {
                InlineWrite::Delete(_) => None,
                InlineWrite::Update(_, body) => Some((JsonValue::Object(body.clone()), true)),
                InlineWrite::Create(body) => {
                    let mut body = body.clone();
                    let key = match &page.row {
                        Some(parent) => to_json(inline.key, &parent.pk, true)
                            .ok()
                            .flatten()
                            .unwrap_or(JsonValue::Null),
                        None => placeholder_key(inline.key),
                    };
                    body.insert(inline.key.name.to_string(), key);
                    Some((JsonValue::Object(body), false))
                }
            };
            if let Some((body, partial)) = check
                && let Err(e) = inline.spec.ops.validate(&body, partial)
            {
                split_errors(e, &mut row.errors, &mut row.general);
                row.errors.remove(inline.key.name);
            }
            // Errors on fields the row does not show still block the save.
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
            invalid |= !row.errors.is_empty() || !row.general.is_empty();
            planned.push((i, write));
        }
        writes.push(planned);
    }
    if invalid {
        page.errors = errors;
        page.general = general;
        return render(ctx, page).await;
    }
    let db = ctx.state.db.clone();
    let owner = Some(i64::from(me.id));
    let result = match &page.row {
        None => page.spec.ops.create(&db, body, owner).await,
        Some(old) => page.spec.ops.update(&db, &old.pk, body).await,
    };
    let saved = match result {
        Ok(saved) => saved,
        Err(ApiError::NotFound) => return Err(Reject(ctx.not_found())),
        Err(error) => {
            if let Some(other) = write_failure(error, &mut errors, &mut general) {
                return Err(Reject(server_error(format!(
                    "admin save failed: {other:?}"
                ))));
            }
            page.errors = errors;
            page.general = general;
            return render(ctx, page).await;
        }
    };
    let mut message = match &page.row {
        None => change_message(LogAction::Addition, &[]),
        Some(old) => change_message(LogAction::Change, &changed_labels(&fields, old, &saved)),
    };
    let mut failures = Vec::new();
    for (inline, planned) in page.inlines.iter().zip(writes) {
        let name = inline.spec.meta.verbose_name();
        let fields: Vec<_> = inline
            .fields()
            .into_iter()
            .filter(|f| !inline.spec.readonly(f, false))
            .collect();
        for (i, write) in planned {
            let entry = match write {
                InlineWrite::Delete(pk) => {
                    let display = inline.rows[i].row.as_ref().map(|r| r.display.clone());
                    match inline.spec.ops.delete(&db, std::slice::from_ref(&pk)).await {
                        Ok(_) => Some(
                            serde_json::json!({ "deleted": { "name": name, "object": display } }),
                        ),
                        Err(e) => {
                            failures.push(api_message(e));
                            None
                        }
                    }
                }
                InlineWrite::Update(pk, body) => {
                    match inline
                        .spec
                        .ops
                        .update(&db, &pk, JsonValue::Object(body))
                        .await
                    {
                        Ok(after) => {
                            let before = inline.rows[i].row.as_ref();
                            let changed = before
                                .map(|b| changed_labels(&fields, b, &after))
                                .unwrap_or_default();
                            (!changed.is_empty()).then(|| {
                                serde_json::json!({ "changed": { "name": name, "object": after.display, "fields": changed } })
                            })
                        }
                        Err(e) => {
                            failures.push(api_message(e));
                            None
                        }
                    }
                }
                InlineWrite::Create(mut body) => {
                    let key = to_json(inline.key, &saved.pk, true).ok().flatten();
                    body.insert(inline.key.name.to_string(), key.unwrap_or(JsonValue::Null));
                    match inline
                        .spec
                        .ops
                        .create(&db, JsonValue::Object(body), owner)
                        .await
                    {
                        Ok(added) => Some(
                            serde_json::json!({ "added": { "name": name, "object": added.display } }),
                        ),
                        Err(e) => {
                            failures.push(api_message(e));
                            None
                        }
                    }
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
        log_action(&db, me.id, meta, &saved.pk, &saved.display, action, message)
            .await
            .map_err(|e| Reject(server_error(e)))?;
    }
    for failure in failures {
        ctx.message("error", failure).await;
    }
    let name = meta.verbose_name();
    let done = if adding { "added" } else { "changed" };
    let base = format!("/admin/{}/{}/", meta.app_label, meta.model_name);
    let change_url = format!("{base}{}/change/", quote_pk(&saved.pk));
    // Someone who may only add cannot open the object or the list afterwards.
    let can_see =
        ctx.has_perm(meta, Action::View).await || ctx.has_perm(meta, Action::Change).await;
    // As Django's UserAdmin, a new user goes on to the change form (flags,
    // groups, permissions) unless another is being added.
    let then_edit = adds_user(meta, adding) && get(form, "_addanother").is_none();
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

/// An inline write's failure as one sentence.
fn api_message(error: ApiError) -> String {
    match error {
        ApiError::Conflict(m) | ApiError::Forbidden(m) => m,
        ApiError::Validation(v) | ApiError::BadRequest(v) | ApiError::MissingReference(v) => v
            .detail
            .into_iter()
            .map(|d| d.msg)
            .collect::<Vec<_>>()
            .join(" "),
        other => format!("{other:?}"),
    }
}

/// Draws the page: the parent's fieldset, each inline's table, buttons.
async fn render(ctx: &mut AdminCtx, mut page: Page) -> PageResult {
    let adding = page.adding();
    let meta = page.spec.meta;
    let mut wanted = Vec::new();
    wanted_labels(&page.spec, &page.values, &mut wanted);
    for inline in &page.inlines {
        for row in &inline.rows {
            wanted_labels(&inline.spec, &row.values, &mut wanted);
        }
    }
    let labels = Labels::load(&ctx.state.db, wanted).await?;
    let mut widgets = Vec::new();
    let mut shown = Vec::new();
    let adding_user = adds_user(meta, adding);
    let mut fields: Vec<_> = meta
        .fields
        .iter()
        .filter(|f| page.spec.shown(f, adding))
        .collect();
    if adding_user {
        // Django's add-user form: who, then the password twice, then the rest.
        fields.sort_by_key(|f| f.name != "username");
    }
    for field in fields {
        let readonly = !page.editable || page.spec.readonly(field, adding);
        let text = page.values.get(field.name).cloned().unwrap_or_default();
        let errors = page.errors.remove(field.name).unwrap_or_default();
        let draw = Draw {
            admin: ctx.admin(),
            spec: &page.spec,
            labels: &labels,
        };
        widgets.push(draw.widget(field, "", &text, readonly, errors));
        shown.push(field.name);
        if adding_user && is_user_password(meta, field) && page.editable {
            widgets.push(Widget {
                name: PASSWORD_CONFIRMATION.into(),
                id: format!("id_{PASSWORD_CONFIRMATION}"),
                label: "Password confirmation".into(),
                widget: "password",
                required: true,
                help: Some("Enter the same password as before, for verification."),
                errors: page
                    .errors
                    .remove(PASSWORD_CONFIRMATION)
                    .unwrap_or_default(),
                ..Widget::default()
            });
        }
    }
    // Errors on fields the form does not show still need to be seen.
    for (name, messages) in std::mem::take(&mut page.errors) {
        let label = meta.field(&name).map(field_label).unwrap_or(name);
        page.general
            .extend(messages.into_iter().map(|m| format!("{label}: {m}")));
    }
    let mut error_count =
        widgets.iter().filter(|w| !w.errors.is_empty()).count() + page.general.len();
    let mut inlines = Vec::new();
    for inline in &mut page.inlines {
        let prefix = inline.prefix();
        let fields = inline.fields();
        let headers: Vec<_> = fields
            .iter()
            .map(|f| {
                context! {
                    label => field_label(f),
                    required => inline.spec.is_required(f) && !inline.spec.readonly(f, false),
                    help => f.help_text,
                }
            })
            .collect();
        let mut rows = Vec::new();
        let extra = if page.editable && inline.can_add {
            INLINE_EXTRA
        } else {
            0
        };
        let blank = inline.spec.blank();
        let pending = inline.rows.iter().filter(|r| r.row.is_none()).count();
        let blanks = extra.saturating_sub(pending);
        let all = inline
            .rows
            .iter_mut()
            .map(|r| {
                (
                    r.row.clone(),
                    std::mem::take(&mut r.values),
                    r.delete,
                    std::mem::take(&mut r.errors),
                    std::mem::take(&mut r.general),
                )
            })
            .chain(
                (0..blanks).map(|_| (None, blank.clone(), false, FieldErrors::new(), Vec::new())),
            );
        let mut initial = 0;
        for (i, (row, values, delete, mut errors, general)) in all.enumerate() {
            initial += usize::from(row.is_some());
            let row_prefix = format!("{prefix}-{i}-");
            let editable = page.editable
                && match row {
                    Some(_) => inline.can_change,
                    None => inline.can_add,
                };
            let cells: Vec<Widget> = fields
                .iter()
                .map(|f| {
                    let readonly = !editable || inline.spec.readonly(f, false);
                    let text = if row.is_none() && inline.spec.readonly(f, false) {
                        String::new()
                    } else {
                        values.get(f.name).cloned().unwrap_or_default()
                    };
                    let errs = errors.remove(f.name).unwrap_or_default();
                    let draw = Draw {
                        admin: ctx.admin(),
                        spec: &inline.spec,
                        labels: &labels,
                    };
                    draw.widget(f, &row_prefix, &text, readonly, errs)
                })
                .collect();
            error_count += cells.iter().filter(|w| !w.errors.is_empty()).count() + general.len();
            rows.push(context! {
                prefix => row_prefix.clone(),
                pk_name => format!("{row_prefix}{}", inline.spec.meta.primary_key),
                pk => row.as_ref().map(|r| r.pk.clone()),
                display => row.as_ref().map(|r| r.display.clone()),
                url => row.as_ref().map(|r| format!(
                    "/admin/{}/{}/{}/change/",
                    inline.spec.meta.app_label,
                    inline.spec.meta.model_name,
                    quote_pk(&r.pk)
                )),
                can_delete => page.editable && inline.can_delete && row.is_some(),
                delete => delete,
                cells => cells,
                errors => general,
            });
        }
        inlines.push(context! {
            prefix => prefix,
            name => capitalize(&verbose_name_plural(inline.spec.meta)),
            total => rows.len(),
            initial => initial,
            headers => headers,
            rows => rows,
            has_delete => page.editable && inline.can_delete,
        });
    }
    let name = meta.verbose_name();
    let title = match (&page.row, page.editable) {
        (None, _) => format!("Add {name}"),
        (Some(_), true) => format!("Change {name}"),
        (Some(_), false) => format!("View {name}"),
    };
    let base = format!("/admin/{}/{}/", meta.app_label, meta.model_name);
    let object_url = page
        .row
        .as_ref()
        .map(|r| format!("{base}{}/", quote_pk(&r.pk)));
    let errornote = match error_count {
        0 => None,
        1 => Some(CORRECT),
        _ => Some(CORRECT_MANY),
    };
    let can_view_list =
        ctx.has_perm(meta, Action::View).await || ctx.has_perm(meta, Action::Change).await;
    Ok(ctx.render(
        "admin/change_form.html",
        context! {
            title => title,
            adding => adding,
            editable => page.editable,
            can_delete => page.can_delete,
            app_label => meta.app_label,
            app_name => app_title(meta.app_label),
            model_name => meta.model_name,
            verbose_name => name,
            verbose_name_plural => capitalize(&verbose_name_plural(meta)),
            changelist_url => can_view_list.then(|| base.clone()),
            action_url => match &object_url {
                Some(url) => format!("{url}change/"),
                None => format!("{base}add/"),
            },
            object => page.row.as_ref().map(|r| context! { pk => r.pk.clone(), display => r.display.clone() }),
            history_url => object_url.as_ref().map(|u| format!("{u}history/")),
            delete_url => object_url.as_ref().map(|u| format!("{u}delete/")),
            errornote => errornote,
            non_field_errors => page.general,
            fields => widgets,
            inlines => inlines,
        },
    ))
}

/// The add-user form's second password field, checked against the first.
const PASSWORD_CONFIRMATION: &str = "password2";

/// Whether this is the add form of a model with a `#[field(password)]`
/// (the user), which asks for the password twice.
fn adds_user(meta: &ModelMeta, adding: bool) -> bool {
    adding && meta.fields.iter().any(|f| f.password)
}

/// `auth_user.password`: set on the add form, then only through
/// `/admin/auth/user/{pk}/password/`.
fn is_user_password(meta: &ModelMeta, field: &FieldMeta) -> bool {
    meta.table == "auth_user" && field.name == "password"
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
