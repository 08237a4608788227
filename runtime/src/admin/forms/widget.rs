//! Drawing fields: the typed [`Widget`] each field is edited with, the
//! data a template needs to draw it ([`DrawnField`]), and the display
//! strings of the foreign keys a form shows ([`Labels`]).

use std::collections::HashMap;

use sea_orm::Value;
use serde::Serialize;

use super::spec::{Related, Spec};
use super::{Values, field_label};
use crate::admin::context::{Reject, server_error};
use crate::admin::quote_pk;
use crate::db::Connection;
use crate::model::{FieldKind, FieldMeta, ModelMeta};

/// How a field is edited: which input `admin/widgets.html` draws. Chosen
/// from the field's kind and options ([`Draw::widget`]); written to the
/// template in lower case (`nullbool`, `readonly`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Widget {
    /// A one-line text input (also a foreign key typed by its raw key).
    #[default]
    Text,
    /// A multi-line text area (`#[field(text)]`).
    Textarea,
    /// A number input, with its bounds and step.
    Number,
    /// A checkbox (a boolean that is not nullable).
    Checkbox,
    /// Yes / No / Unknown (a nullable boolean).
    NullBool,
    /// A date picker.
    Date,
    /// A `datetime-local` input, in UTC.
    DateTime,
    /// A `<select>` of choices or of a small table's rows.
    Select,
    /// A search box over the referenced model's autocomplete endpoint.
    Autocomplete,
    /// A text area holding JSON.
    Json,
    /// A password input, never prefilled.
    Password,
    /// Text, not an input: the field is shown but not editable.
    ReadOnly,
}

/// One field as templates draw it.
#[derive(Serialize, Default)]
pub(super) struct DrawnField {
    /// The form field name (`title`, `post-0-title`).
    pub(super) name: String,
    pub(super) id: String,
    pub(super) label: String,
    /// The input drawn.
    pub(super) widget: Widget,
    pub(super) value: String,
    pub(super) checked: bool,
    pub(super) required: bool,
    pub(super) help: Option<&'static str>,
    pub(super) errors: Vec<String>,
    pub(super) max_length: Option<u64>,
    pub(super) min: Option<String>,
    pub(super) max: Option<String>,
    pub(super) step: Option<&'static str>,
    pub(super) options: Vec<(String, String)>,
    /// The shown text of a read-only field, or an autocomplete's current choice.
    pub(super) display: String,
    /// An autocomplete's endpoint, or a read-only foreign key's link.
    pub(super) url: Option<String>,
}

/// Display strings of foreign keys, loaded in one query per referenced table.
#[derive(Default)]
pub(super) struct Labels(HashMap<(&'static str, String), String>);

impl Labels {
    pub(super) async fn load(
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
pub(super) fn wanted_labels(
    spec: &Spec,
    values: &Values,
    out: &mut Vec<(&'static FieldMeta, String)>,
) {
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
pub(super) struct Draw<'a> {
    pub(super) admin: &'a crate::admin::AdminState,
    pub(super) spec: &'a Spec,
    pub(super) labels: &'a Labels,
}

impl Draw<'_> {
    /// Draws `field` with `text`, named `{prefix}{field}`.
    pub(super) fn widget(
        &self,
        field: &'static FieldMeta,
        prefix: &str,
        text: &str,
        readonly: bool,
        errors: Vec<String>,
    ) -> DrawnField {
        let name = format!("{prefix}{}", field.name);
        let mut w = DrawnField {
            id: format!("id_{name}"),
            name,
            label: field_label(field),
            required: self.spec.is_required(field),
            help: field.help_text,
            errors,
            value: text.to_string(),
            ..DrawnField::default()
        };
        if readonly {
            self.read_only(&mut w, field, text);
        } else if field.references.is_some() {
            self.foreign_key(&mut w, field, text);
        } else {
            self.input(&mut w, field, text);
        }
        w
    }

    /// A field shown as text: its value in words, a foreign key's display
    /// string and link, or the link to the field's own page.
    fn read_only(&self, w: &mut DrawnField, field: &'static FieldMeta, text: &str) {
        w.widget = Widget::ReadOnly;
        if let Some(page) = self.spec.hooks.own_page(field) {
            // Never the stored value: a link to the field's own page.
            w.url = Some(page.url.into());
            w.display = page.text.into();
            return;
        }
        w.display = match field.kind {
            _ if field.write_only => String::new(),
            FieldKind::Boolean if !field.nullable => if text == "on" { "Yes" } else { "No" }.into(),
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
            _ => match self.labels.get(field, text) {
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
    }

    /// An editable foreign key: a select, an autocomplete box or its raw key.
    fn foreign_key(&self, w: &mut DrawnField, field: &'static FieldMeta, text: &str) {
        match self.spec.related.get(field.name) {
            Some(Related::Select(rows)) => {
                w.widget = Widget::Select;
                w.options.push((String::new(), "---------".into()));
                w.options.extend(rows.iter().cloned());
            }
            Some(Related::Autocomplete(url)) => {
                w.widget = Widget::Autocomplete;
                w.url = Some(url.clone());
                w.display = self
                    .labels
                    .get(field, text.trim())
                    .unwrap_or("")
                    .to_string();
            }
            _ => {
                w.widget = Widget::Text;
                w.display = self
                    .labels
                    .get(field, text.trim())
                    .unwrap_or("")
                    .to_string();
            }
        }
    }

    /// Any other editable field: the input its kind calls for.
    fn input(&self, w: &mut DrawnField, field: &'static FieldMeta, text: &str) {
        let number = |w: &mut DrawnField, step: &'static str| {
            w.widget = Widget::Number;
            w.step = Some(step);
            w.min = field.min_value.map(|n| n.to_string());
            w.max = field.max_value.map(|n| n.to_string());
        };
        match field.kind {
            _ if field.write_only => w.widget = Widget::Password,
            FieldKind::String if field.text => w.widget = Widget::Textarea,
            FieldKind::String | FieldKind::Uuid => {
                w.widget = Widget::Text;
                w.max_length = field.max_length;
            }
            FieldKind::Integer => number(w, "1"),
            FieldKind::Float | FieldKind::Decimal => number(w, "any"),
            FieldKind::Boolean if field.nullable => w.widget = Widget::NullBool,
            FieldKind::Boolean => {
                w.widget = Widget::Checkbox;
                w.checked = !text.is_empty();
                w.required = false;
            }
            FieldKind::Date => w.widget = Widget::Date,
            FieldKind::DateTime => w.widget = Widget::DateTime,
            FieldKind::Json => w.widget = Widget::Json,
            FieldKind::Choice => {
                w.widget = Widget::Select;
                if self.spec.has_blank_choice(field) {
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
    }
}
