//! What a form knows about one model before drawing it: which fields it
//! shows and which it may edit (read-only, `write_perm` fields the user
//! may not write, the model's [`ModelAdmin`] hooks), which are required,
//! how each foreign key is chosen, and a blank form's starting text.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value as JsonValue};

use super::{SELECT_LIMIT, Values};
use crate::admin::context::{AdminCtx, Reject, server_error};
use crate::admin::model_admin::ModelAdmin;
use crate::admin::ops::{AdminOps, AdminRow, input_text, value_text};
use crate::error::ErrorKind;
use crate::model::{FieldDefault, FieldKind, FieldMeta, ModelMeta};
use crate::query::ListQuery;

/// How a foreign key is edited.
#[derive(Clone)]
pub(super) enum Related {
    /// A `<select>` of every row of the (small) referenced table.
    Select(Vec<(String, String)>),
    /// A search box backed by the referenced model's autocomplete endpoint.
    Autocomplete(String),
    /// The referenced model is not in the admin: its key, typed.
    Raw,
}

/// What a form needs to know about one model, loaded once per request.
#[derive(Clone)]
pub(super) struct Spec {
    pub(super) ops: Arc<dyn AdminOps>,
    pub(super) meta: &'static ModelMeta,
    /// The model's form hooks (the user's add form, its password page).
    pub(super) hooks: Arc<dyn ModelAdmin>,
    /// Fields the API requires in a create body (no default, not nullable).
    required: Vec<String>,
    pub(super) related: HashMap<&'static str, Related>,
    /// `#[field(write_perm = ...)]` fields this user may not write: shown read-only.
    locked: Vec<&'static str>,
    /// Foreign keys to models this user may not view: their raw key is
    /// shown, never the target's display string, link or rows.
    pub(super) unviewable: Vec<&'static str>,
}

impl Spec {
    pub(super) async fn load(ctx: &AdminCtx, ops: Arc<dyn AdminOps>) -> Result<Spec, Reject> {
        let meta = ops.meta();
        let hooks = ctx.admin().model_admin(meta);
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
                && !ctx.can_view(target).await
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
            hooks,
            required,
            related,
            locked,
            unviewable,
        })
    }

    /// Whether `field` appears on the form at all.
    pub(super) fn shown(&self, field: &FieldMeta, adding: bool) -> bool {
        if adding && let Some(fields) = self.hooks.add_fields() {
            return fields.contains(&field.name);
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
    pub(super) fn readonly(&self, field: &FieldMeta, adding: bool) -> bool {
        field.read_only
            || self.locked.contains(&field.name)
            || (field.primary_key && !adding)
            || (!adding && self.hooks.own_page(field).is_some())
    }

    /// The fields a form of this model edits (`skip`: an inline's key to its parent).
    pub(super) fn editable(&self, adding: bool, skip: Option<&str>) -> Vec<&'static FieldMeta> {
        self.meta
            .fields
            .iter()
            .filter(|f| self.shown(f, adding) && !self.readonly(f, adding))
            .filter(|f| Some(f.name) != skip)
            .collect()
    }

    pub(super) fn is_required(&self, field: &FieldMeta) -> bool {
        self.required.iter().any(|r| r == field.name)
    }

    /// Whether a `<select>` of this field starts with an empty choice.
    pub(super) fn has_blank_choice(&self, field: &FieldMeta) -> bool {
        field.nullable || field.references.is_some() || self.is_required(field)
    }

    /// The text of each field on a blank form.
    pub(super) fn blank(&self) -> Values {
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

/// The text of each field of a saved row.
pub(super) fn row_values(meta: &ModelMeta, row: &AdminRow) -> Values {
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
