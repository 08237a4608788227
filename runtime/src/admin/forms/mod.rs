//! The add and change forms of every admin model, with their inlines.
//!
//! A form never validates on its own: the typed text is turned into the
//! JSON object the API would receive and goes through the model's
//! generated `Create`/`Update` validation ([`AdminOps::validate`],
//! [`AdminOps::create`], [`AdminOps::update`]), so the admin and the API
//! accept exactly the same data. The only checks made here are those that
//! happen before there is JSON at all (a JSON textarea that does not parse,
//! a required field left empty on a change).
//!
//! [`spec`] knows which fields a model's form shows and edits, [`widget`]
//! draws them, [`inline`] handles the related rows edited on the page, and
//! [`save`] reads a POST back and writes it, all in one transaction. This
//! module holds the pages themselves.

mod inline;
mod save;
mod spec;
mod widget;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::Path;
use minijinja::context;

use self::inline::{Inline, load_inlines};
use self::save::{posted_values, save};
use self::spec::{Spec, row_values};
use self::widget::{Draw, DrawnField, Labels, wanted_labels};
use super::context::{AdminCtx, PageResult, Reject, server_error};
use super::ops::{AdminOps, AdminRow};
use super::site::{FormFields, app_title, capitalize};
use super::{quote_pk, verbose_name_plural};
use crate::model::{Action, FieldMeta};

pub use self::widget::Widget;

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

/// The typed text of each field, by field name: what a form shows and
/// what it sends back. Checkboxes hold `"on"` or `""`.
type Values = BTreeMap<&'static str, String>;

/// Errors by field name.
type FieldErrors = BTreeMap<String, Vec<String>>;

fn get<'a>(form: &'a FormFields, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
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
        let fields = self.spec.editable(self.adding(), None);
        let posted = posted_values(form, "", &fields);
        self.values.extend(posted);
        for inline in &mut self.inlines {
            inline.read(form);
        }
    }

    /// Whether the parent or any inline row has an error to show.
    fn has_errors(&self) -> bool {
        !self.errors.is_empty()
            || !self.general.is_empty()
            || self.inlines.iter().any(|inline| {
                inline
                    .rows
                    .iter()
                    .any(|row| !row.errors.is_empty() || !row.general.is_empty())
            })
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
    let inlines = if spec.hooks.inlines_on_add() {
        load_inlines(ctx, spec.meta, None).await?
    } else {
        Vec::new()
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

/// Draws the page: the parent's fieldset, each inline's table, buttons.
async fn render(ctx: &mut AdminCtx, mut page: Page) -> PageResult {
    let mut wanted = Vec::new();
    wanted_labels(&page.spec, &page.values, &mut wanted);
    for inline in &page.inlines {
        for row in &inline.rows {
            wanted_labels(&inline.spec, &row.values, &mut wanted);
        }
    }
    let labels = Labels::load(&ctx.state.db, wanted).await?;
    let widgets = parent_fields(ctx, &mut page, &labels);
    let mut error_count =
        widgets.iter().filter(|w| !w.errors.is_empty()).count() + page.general.len();
    let mut inlines = Vec::new();
    for inline in &mut page.inlines {
        let (table, errors) = inline.context(page.editable, ctx.admin(), &labels);
        error_count += errors;
        inlines.push(table);
    }
    let errornote = match error_count {
        0 => None,
        1 => Some(CORRECT),
        _ => Some(CORRECT_MANY),
    };
    let can_view_list = ctx.can_view(page.spec.meta).await;
    let context = page_context(&page, can_view_list, errornote);
    Ok(ctx.render(
        "admin/change_form.html",
        context! {
            non_field_errors => page.general,
            fields => widgets,
            inlines => inlines,
            ..context
        },
    ))
}

/// The parent's fields as drawn, in order, with the add form's second
/// input of a confirmed field after the first; errors of fields the form
/// does not show move to the page's own messages.
fn parent_fields(ctx: &AdminCtx, page: &mut Page, labels: &Labels) -> Vec<DrawnField> {
    let adding = page.adding();
    let meta = page.spec.meta;
    let mut fields: Vec<_> = meta
        .fields
        .iter()
        .filter(|f| page.spec.shown(f, adding))
        .collect();
    if adding && let Some(order) = page.spec.hooks.add_fields() {
        fields.sort_by_key(|f| order.iter().position(|name| *name == f.name));
    }
    let confirmation = page.spec.hooks.add_confirmation().filter(|_| adding);
    let draw = Draw {
        admin: ctx.admin(),
        spec: &page.spec,
        labels,
    };
    let mut widgets = Vec::new();
    for field in fields {
        let readonly = !page.editable || page.spec.readonly(field, adding);
        let text = page.values.get(field.name).cloned().unwrap_or_default();
        let errors = page.errors.remove(field.name).unwrap_or_default();
        widgets.push(draw.widget(field, "", &text, readonly, errors));
        if let Some(confirm) = confirmation.filter(|c| c.field == field.name && page.editable) {
            widgets.push(DrawnField {
                name: confirm.input.into(),
                id: format!("id_{}", confirm.input),
                label: confirm.label.into(),
                widget: Widget::Password,
                required: true,
                help: Some(confirm.help),
                errors: page.errors.remove(confirm.input).unwrap_or_default(),
                ..DrawnField::default()
            });
        }
    }
    for (name, messages) in std::mem::take(&mut page.errors) {
        let label = meta.field(&name).map(field_label).unwrap_or(name);
        page.general
            .extend(messages.into_iter().map(|m| format!("{label}: {m}")));
    }
    widgets
}

/// The page's title, URLs and rights, as `admin/change_form.html` reads them.
fn page_context(page: &Page, can_view_list: bool, errornote: Option<&str>) -> minijinja::Value {
    let meta = page.spec.meta;
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
    context! {
        title => title,
        adding => page.adding(),
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
    }
}
