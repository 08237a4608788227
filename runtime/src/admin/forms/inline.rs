//! Inline formsets: the rows of a related model edited on its parent's
//! page (an author's posts), as Django's `InlineModelAdmin`: which inlines
//! a user sees, reading their posted rows, and drawing their tables.

use minijinja::context;

use super::save::posted_values;
use super::spec::{Spec, row_values};
use super::widget::{Draw, DrawnField, Labels};
use super::{FieldErrors, INLINE_EXTRA, INLINE_MAX, Values, field_label, get};
use crate::admin::context::{AdminCtx, Reject, server_error};
use crate::admin::ops::AdminRow;
use crate::admin::site::{FormFields, capitalize};
use crate::admin::{inline_key, quote_pk, verbose_name_plural};
use crate::model::{Action, FieldMeta, ModelMeta};
use crate::query::{Filter, ListQuery};

/// One inline row: an existing row of the inline model, or a blank one.
pub(super) struct InlineRow {
    /// The existing row (`None`: an extra row to add).
    pub(super) row: Option<AdminRow>,
    pub(super) values: Values,
    pub(super) delete: bool,
    pub(super) errors: FieldErrors,
    pub(super) general: Vec<String>,
}

/// The rows of one inline model on a parent's page.
pub(super) struct Inline {
    pub(super) spec: Spec,
    /// The inline's foreign key to the parent, hidden and fixed.
    pub(super) key: &'static FieldMeta,
    pub(super) can_add: bool,
    pub(super) can_change: bool,
    pub(super) can_delete: bool,
    pub(super) rows: Vec<InlineRow>,
}

impl Inline {
    pub(super) fn prefix(&self) -> &'static str {
        self.spec.meta.model_name
    }

    /// The columns of a row: not the key to the parent, not its own key.
    pub(super) fn fields(&self) -> Vec<&'static FieldMeta> {
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

    /// The columns a row's user may type in.
    pub(super) fn edited_fields(&self) -> Vec<&'static FieldMeta> {
        self.fields()
            .into_iter()
            .filter(|f| !self.spec.readonly(f, false))
            .collect()
    }

    /// Reads the rows of a POST over the loaded ones: each posted row is
    /// an existing row of this parent (by its key) or a new one.
    pub(super) fn read(&mut self, form: &FormFields) {
        let prefix = self.prefix();
        let fields = self.edited_fields();
        let pk_name = self.spec.meta.primary_key;
        let total = get(form, &format!("{prefix}-TOTAL_FORMS"))
            .and_then(|t| t.trim().parse::<usize>().ok())
            .unwrap_or(0)
            .min(self.rows.len() + INLINE_MAX as usize);
        let existing = std::mem::take(&mut self.rows);
        let mut rows: Vec<InlineRow> = Vec::new();
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
                    .any(|r| r.row.as_ref().is_some_and(|r| r.pk == pk));
                match existing
                    .iter()
                    .find(|r| r.row.as_ref().is_some_and(|r| r.pk == pk))
                {
                    Some(found) if !seen => found.row.clone(),
                    _ => continue,
                }
            };
            let mut values = match &old {
                Some(row) => row_values(self.spec.meta, row),
                None => self.spec.blank(),
            };
            let editable = match old {
                Some(_) => self.can_change,
                None => self.can_add,
            };
            if editable {
                values.extend(posted_values(form, &row_prefix, &fields));
            }
            let delete = old.is_some()
                && self.can_delete
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
        self.rows = rows;
    }
}

/// The inlines of `meta` the user may see, with the rows of `parent`.
pub(super) async fn load_inlines(
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

impl Inline {
    /// The inline's table as the template draws it, and how many errors
    /// it shows; `page_editable`: the user may save the page at all.
    pub(super) fn context(
        &mut self,
        page_editable: bool,
        admin: &crate::admin::AdminState,
        labels: &Labels,
    ) -> (minijinja::Value, usize) {
        let prefix = self.prefix();
        let fields = self.fields();
        let headers: Vec<_> = fields
            .iter()
            .map(|f| {
                context! {
                    label => field_label(f),
                    required => self.spec.is_required(f) && !self.spec.readonly(f, false),
                    help => f.help_text,
                }
            })
            .collect();
        let extra = if page_editable && self.can_add {
            INLINE_EXTRA
        } else {
            0
        };
        let blank = self.spec.blank();
        let pending = self.rows.iter().filter(|r| r.row.is_none()).count();
        let blanks = extra.saturating_sub(pending);
        let all: Vec<InlineRow> = std::mem::take(&mut self.rows)
            .into_iter()
            .chain((0..blanks).map(|_| InlineRow {
                row: None,
                values: blank.clone(),
                delete: false,
                errors: FieldErrors::new(),
                general: Vec::new(),
            }))
            .collect();
        let draw = Draw {
            admin,
            spec: &self.spec,
            labels,
        };
        let mut rows = Vec::new();
        let mut initial = 0;
        let mut error_count = 0;
        for (i, row) in all.into_iter().enumerate() {
            initial += usize::from(row.row.is_some());
            let (context, errors) = self.row_context(&draw, &fields, i, row, page_editable);
            error_count += errors;
            rows.push(context);
        }
        let context = context! {
            prefix => prefix,
            name => capitalize(&verbose_name_plural(self.spec.meta)),
            total => rows.len(),
            initial => initial,
            headers => headers,
            rows => rows,
            has_delete => page_editable && self.can_delete,
        };
        (context, error_count)
    }

    /// Row `i` of the table, and how many errors it shows.
    fn row_context(
        &self,
        draw: &Draw<'_>,
        fields: &[&'static FieldMeta],
        i: usize,
        mut row: InlineRow,
        page_editable: bool,
    ) -> (minijinja::Value, usize) {
        let row_prefix = format!("{}-{i}-", self.prefix());
        let editable = page_editable
            && match row.row {
                Some(_) => self.can_change,
                None => self.can_add,
            };
        let cells: Vec<DrawnField> = fields
            .iter()
            .map(|f| {
                let readonly = !editable || self.spec.readonly(f, false);
                let text = if row.row.is_none() && self.spec.readonly(f, false) {
                    String::new()
                } else {
                    row.values.get(f.name).cloned().unwrap_or_default()
                };
                let errs = row.errors.remove(f.name).unwrap_or_default();
                draw.widget(f, &row_prefix, &text, readonly, errs)
            })
            .collect();
        let errors = cells.iter().filter(|w| !w.errors.is_empty()).count() + row.general.len();
        let meta = self.spec.meta;
        let context = context! {
            prefix => row_prefix.clone(),
            pk_name => format!("{row_prefix}{}", meta.primary_key),
            pk => row.row.as_ref().map(|r| r.pk.clone()),
            display => row.row.as_ref().map(|r| r.display.clone()),
            url => row.row.as_ref().map(|r| format!(
                "/admin/{}/{}/{}/change/",
                meta.app_label,
                meta.model_name,
                quote_pk(&r.pk)
            )),
            can_delete => page_editable && self.can_delete && row.row.is_some(),
            delete => row.delete,
            cells => cells,
            errors => row.general,
        };
        (context, errors)
    }
}
