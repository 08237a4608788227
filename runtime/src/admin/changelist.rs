//! The change list, `/admin/{app}/{model}/`: a model's rows as a table
//! with `list_display` columns, sortable headers, a search box, a filter
//! sidebar for `list_filter`, pagination with counts, and bulk actions
//! ("Delete selected ..." and those registered with
//! [`App::admin_action`](crate::App::admin_action)).
//!
//! The query string follows Django's (see [`list_query`]): `?q=` searches,
//! `?o=2.-1` orders by the second column then the first descending, `?p=`
//! is the page (from 1), and `list_filter` fields take every lookup of the
//! REST list (`field__exact=`, `field__isnull=`, `field__gte=`, ...). The
//! rows come from the query layer, as the REST list's do. A parameter
//! that does not parse is ignored, never an error.
//!
//! The page carries the change log's cursor at render time; the admin's
//! script follows `/admin/{app}/{model}/changes/` from it (the
//! admin's `recent` module) to say which rows changed since the page was
//! loaded. Without the script the page is the same, without the notice.

use std::collections::{HashMap, HashSet};

use axum::Form;
use axum::extract::{Path, RawQuery};
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use minijinja::context;
use sea_orm::Value;
use serde::Serialize;

use super::context::{AdminCtx, PageResult, Reject, server_error};
use super::delete;
use super::list_query::{self, ORDER, PAGE, Params, SEARCH, order_param};
use super::objects::{admin_model, change_url, count_name, list_url, readable};
use super::ops::{AdminOps, AdminRow, value_text};
use super::site::{FormFields, capitalize};
use super::verbose_name_plural;
use crate::model::{Action, FieldKind, FieldMeta, ModelMeta};
use crate::query::{Filter, ListQuery, Lookup, Pagination};

/// How many related rows a foreign key filter offers: beyond this a select
/// of every author would be unusable, and the search box serves better.
const FK_FILTER_CAP: u64 = 100;

/// The name of the built-in "Delete selected ..." action.
pub(crate) const DELETE_SELECTED: &str = "delete_selected";

/// One column header.
#[derive(Serialize)]
struct Header {
    text: String,
    sortable: bool,
    sorted: bool,
    descending: bool,
    /// 1 for the primary sort column, 2 for the next...
    priority: usize,
    url: String,
    /// The link that drops this column from the order.
    remove_url: String,
}

/// One cell of the table.
#[derive(Serialize)]
struct Cell {
    text: String,
    /// `boolean yes` / `boolean no` / `empty`, for styling.
    class: &'static str,
}

/// One row of the table.
#[derive(Serialize)]
struct ResultRow {
    pk: String,
    url: String,
    cells: Vec<Cell>,
}

/// One link of a filter.
#[derive(Serialize)]
struct Choice {
    display: String,
    url: String,
    selected: bool,
}

/// One filter of the sidebar.
#[derive(Serialize)]
struct FilterSpec {
    title: String,
    choices: Vec<Choice>,
}

/// One page link of the paginator; `None` is an ellipsis.
#[derive(Serialize)]
struct PageLink {
    number: Option<u64>,
    url: String,
    current: bool,
}

/// A field's column heading: `author_id` -> "Author", `id` -> "ID".
pub(crate) fn field_label(field: &FieldMeta) -> String {
    if field.primary_key && field.name == "id" {
        return "ID".into();
    }
    let name = if field.references.is_some() {
        field.relation_name()
    } else {
        field.name
    };
    capitalize(&name.replace('_', " "))
}

fn is_null(value: &Value) -> bool {
    matches!(
        sea_orm::sea_query::value::sea_value_to_json_value(value),
        serde_json::Value::Null
    )
}

/// The bulk actions this user may run on `meta`: delete needs the delete
/// permission, the app's own actions the change permission.
async fn usable_actions(ctx: &AdminCtx, meta: &ModelMeta) -> Vec<(String, String)> {
    let mut actions = Vec::new();
    if ctx.has_perm(meta, Action::Delete).await {
        actions.push((
            DELETE_SELECTED.to_string(),
            format!("Delete selected {}", verbose_name_plural(meta)),
        ));
    }
    if let Some(own) = ctx.admin().actions.get(meta.table)
        && !own.is_empty()
        && ctx.has_perm(meta, Action::Change).await
    {
        actions.extend(own.iter().map(|a| (a.name.clone(), a.description.clone())));
    }
    actions
}

/// The columns of the table: `list_display`, or none (the display string).
fn columns(meta: &ModelMeta) -> Vec<&'static FieldMeta> {
    meta.admin
        .list_display
        .iter()
        .filter_map(|name| meta.field(name))
        .collect()
}

fn headers(
    meta: &ModelMeta,
    columns: &[&'static FieldMeta],
    order: &[(usize, bool)],
    params: &Params,
) -> Vec<Header> {
    if columns.is_empty() {
        return vec![Header {
            text: capitalize(&meta.verbose_name()),
            sortable: false,
            sorted: false,
            descending: false,
            priority: 0,
            url: String::new(),
            remove_url: String::new(),
        }];
    }
    columns
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let position = order.iter().position(|(c, _)| *c == i);
            let descending = position.is_some_and(|p| order[p].1);
            // Clicking makes the column the primary order; clicking the
            // primary column again flips it. The other columns stay behind.
            let first = (i, position == Some(0) && !descending);
            let mut new_order = vec![first];
            new_order.extend(order.iter().filter(|(c, _)| *c != i));
            let rest: Vec<(usize, bool)> = order.iter().filter(|(c, _)| *c != i).copied().collect();
            let remove_url = if rest.is_empty() {
                params.with(&[], &|k| k == ORDER)
            } else {
                params.with(&[(ORDER, order_param(&rest))], &|_| false)
            };
            Header {
                text: field_label(field),
                sortable: field.kind != FieldKind::Json,
                sorted: position.is_some(),
                descending,
                priority: position.map_or(0, |p| p + 1),
                url: params.with(&[(ORDER, order_param(&new_order))], &|_| false),
                remove_url,
            }
        })
        .collect()
}

/// A date range filter's bounds as query values: `YYYY-MM-DD`.
fn date_ranges(today: NaiveDate) -> Vec<(&'static str, NaiveDate, NaiveDate)> {
    let tomorrow = today.succ_opt().unwrap_or(today);
    let month = today.with_day(1).unwrap_or(today);
    let next_month = if month.month() == 12 {
        NaiveDate::from_ymd_opt(month.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(month.year(), month.month() + 1, 1)
    }
    .unwrap_or(tomorrow);
    let year = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let next_year = NaiveDate::from_ymd_opt(today.year() + 1, 1, 1).unwrap_or(tomorrow);
    vec![
        ("Today", today, tomorrow),
        ("Past 7 days", today - chrono::Duration::days(7), tomorrow),
        ("This month", month, next_month),
        ("This year", year, next_year),
    ]
}

/// A date bound as a value of `field`: midnight UTC for datetimes.
fn date_value(field: &FieldMeta, date: NaiveDate) -> Option<Value> {
    match field.kind {
        FieldKind::Date => Some(Value::from(date)),
        FieldKind::DateTime => Some(Value::from(
            Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?),
        )),
        _ => None,
    }
}

/// What the query string selects for one sidebar filter, and its links.
struct Selection<'a> {
    field: &'static FieldMeta,
    params: &'a Params,
    /// `field__exact`'s value, parsed.
    exact: Option<Value>,
    /// The same, as text.
    exact_text: Option<String>,
    /// `field__isnull`'s flag.
    isnull: Option<bool>,
    exact_key: String,
    isnull_key: String,
}

impl<'a> Selection<'a> {
    fn new(field: &'static FieldMeta, params: &'a Params, filters: &[Filter]) -> Self {
        let exact = list_query::selected(filters, field, Lookup::Exact).cloned();
        Selection {
            field,
            params,
            exact_text: exact.as_ref().map(value_text),
            exact,
            isnull: list_query::isnull(filters, field),
            exact_key: format!("{}__exact", field.name),
            isnull_key: format!("{}__isnull", field.name),
        }
    }

    /// Whether a parameter is one of this field's filters.
    fn mine(&self, key: &str) -> bool {
        key.strip_prefix(self.field.name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("__"))
    }

    /// The "All" choice: the link that drops this field's filters.
    fn all(&self, display: &str, selected: bool) -> Choice {
        Choice {
            display: display.into(),
            url: self.params.with(&[], &|k| self.mine(k)),
            selected,
        }
    }

    /// A choice setting `key` to `value` (and dropping this field's other filters).
    fn pick(&self, display: &str, key: &str, value: String, selected: bool) -> Choice {
        Choice {
            display: display.to_string(),
            url: self.params.with(&[(key, value)], &|k| self.mine(k)),
            selected,
        }
    }

    /// `field__exact=value` is selected (and no `isnull`).
    fn is_exact(&self, value: &str) -> bool {
        self.exact_text.as_deref() == Some(value) && self.isnull.is_none()
    }

    /// Nothing of this field is selected.
    fn is_none(&self) -> bool {
        self.exact.is_none() && self.isnull.is_none()
    }

    /// The `field__isnull=True` choice of a nullable field.
    fn null_choice(&self, display: &str) -> Option<Choice> {
        self.field.nullable.then(|| {
            let selected = self.isnull == Some(true) && self.exact.is_none();
            self.pick(display, &self.isnull_key, "True".into(), selected)
        })
    }
}

/// Yes / No (/ Unknown) for a boolean field.
fn bool_choices(sel: &Selection) -> Vec<Choice> {
    let mut choices = vec![sel.all("All", sel.is_none())];
    for (display, value, raw) in [("Yes", "true", "1"), ("No", "false", "0")] {
        choices.push(sel.pick(display, &sel.exact_key, raw.into(), sel.is_exact(value)));
    }
    choices.extend(sel.null_choice("Unknown"));
    choices
}

/// Each declared choice (/ None) for a choices field.
fn choice_choices(sel: &Selection) -> Vec<Choice> {
    let mut choices = vec![sel.all("All", sel.is_none())];
    for choice in sel.field.choices {
        let selected = sel.exact_text.as_deref() == Some(*choice);
        let label = sel.field.choice_label(choice);
        choices.push(sel.pick(label, &sel.exact_key, (*choice).to_string(), selected));
    }
    choices.extend(sel.null_choice("(None)"));
    choices
}

/// The first rows of the referenced model (/ None) for a foreign key; the
/// selected row stays offered even past [`FK_FILTER_CAP`]. A model the
/// user may not view lends no rows to the filter.
async fn fk_choices(
    ctx: &AdminCtx,
    sel: &Selection<'_>,
    target: &'static ModelMeta,
) -> Result<Vec<Choice>, Reject> {
    let mut choices = vec![sel.all("All", sel.is_none())];
    let viewable = ctx.can_view(target).await;
    let related = ctx.admin().by_table(target.table).filter(|_| viewable);
    let db = &ctx.state.db;
    let mut rows: Vec<(String, String)> = match &related {
        Some(ops) => {
            let query = ListQuery::page(target, 1, FK_FILTER_CAP);
            let (found, _) = ops
                .query(db, &query)
                .await
                .map_err(|e| Reject(server_error(e)))?;
            found.into_iter().map(|r| (r.pk, r.display)).collect()
        }
        None => Vec::new(),
    };
    if let (Some(value), Some(text), true) = (&sel.exact, &sel.exact_text, viewable)
        && !rows.iter().any(|(pk, _)| pk == text)
    {
        let labels = (target.admin.labels)(db, vec![value.clone()])
            .await
            .map_err(|e| Reject(server_error(e)))?;
        rows.extend(labels);
    }
    for (pk, display) in rows {
        let selected = sel.exact_text.as_deref() == Some(pk.as_str());
        choices.push(sel.pick(&display, &sel.exact_key, pk, selected));
    }
    choices.extend(sel.null_choice("(None)"));
    Ok(choices)
}

/// Today / past 7 days / this month / this year (/ no date, has date) for
/// a date or datetime field: each a `__gte` and `__lt` pair.
fn date_choices(sel: &Selection, filters: &[Filter]) -> Vec<Choice> {
    let field = sel.field;
    let gte = list_query::selected(filters, field, Lookup::Gte);
    let lt = list_query::selected(filters, field, Lookup::Lt);
    let (gte_key, lt_key) = (
        format!("{}__gte", field.name),
        format!("{}__lt", field.name),
    );
    let no_range = gte.is_none() && lt.is_none();
    let mut choices = vec![sel.all("Any date", no_range && sel.isnull.is_none())];
    for (display, start, end) in date_ranges(Utc::now().date_naive()) {
        let selected = gte.is_some()
            && gte == date_value(field, start).as_ref()
            && lt == date_value(field, end).as_ref()
            && sel.isnull.is_none();
        let set = [
            (gte_key.as_str(), start.format("%Y-%m-%d").to_string()),
            (lt_key.as_str(), end.format("%Y-%m-%d").to_string()),
        ];
        choices.push(Choice {
            display: display.into(),
            url: sel.params.with(&set, &|k| sel.mine(k)),
            selected,
        });
    }
    if field.nullable {
        for (display, flag, raw) in [("No date", true, "True"), ("Has date", false, "False")] {
            let selected = sel.isnull == Some(flag);
            choices.push(sel.pick(display, &sel.isnull_key, raw.into(), selected));
        }
    }
    choices
}

/// The sidebar: for each `list_filter` field with choices to offer
/// (booleans, choices, foreign keys, dates), its links, the selected one
/// marked. Other filterable fields take lookups in the URL only.
async fn sidebar(
    ctx: &AdminCtx,
    meta: &ModelMeta,
    params: &Params,
    filters: &[Filter],
) -> Result<Vec<FilterSpec>, Reject> {
    let mut specs = Vec::new();
    for field in meta.admin.list_filter.iter().filter_map(|n| meta.field(n)) {
        let sel = Selection::new(field, params, filters);
        let choices = match (field.kind, field.references) {
            (_, Some(target)) => fk_choices(ctx, &sel, target()).await?,
            (FieldKind::Boolean, _) => bool_choices(&sel),
            (FieldKind::Choice, _) => choice_choices(&sel),
            (FieldKind::Date | FieldKind::DateTime, _) => date_choices(&sel, filters),
            _ => continue,
        };
        specs.push(FilterSpec {
            title: field_label(field),
            choices,
        });
    }
    Ok(specs)
}

/// Django's elided page range: the ends and the pages around this one.
fn page_range(current: u64, pages: u64) -> Vec<Option<u64>> {
    const EACH_SIDE: u64 = 3;
    const ENDS: u64 = 2;
    if pages <= (EACH_SIDE + ENDS) * 2 {
        return (1..=pages).map(Some).collect();
    }
    let mut out = Vec::new();
    if current > EACH_SIDE + ENDS + 1 {
        out.extend((1..=ENDS).map(Some));
        out.push(None);
        out.extend((current - EACH_SIDE..=current).map(Some));
    } else {
        out.extend((1..=current).map(Some));
    }
    if current + EACH_SIDE + ENDS < pages {
        out.extend((current + 1..=current + EACH_SIDE).map(Some));
        out.push(None);
        out.extend((pages - ENDS + 1..=pages).map(Some));
    } else {
        out.extend((current + 1..=pages).map(Some));
    }
    out
}

/// The cells of the rows: foreign keys as their rows' display strings
/// (one query per column), booleans as yes/no, datetimes readable.
///
/// Foreign keys to a model the user may not view show the raw key.
async fn result_rows(
    ctx: &AdminCtx,
    meta: &ModelMeta,
    columns: &[&'static FieldMeta],
    rows: &[AdminRow],
) -> Result<Vec<ResultRow>, Reject> {
    let mut labels: HashMap<&'static str, HashMap<String, String>> = HashMap::new();
    for field in columns {
        let Some(target) = field.references else {
            continue;
        };
        if !ctx.can_view(target()).await {
            // Raw keys only: the target's display strings are not the user's to see.
            continue;
        }
        let mut seen = HashSet::new();
        let keys: Vec<Value> = rows
            .iter()
            .filter_map(|r| r.value(field.name))
            .filter(|v| !is_null(v) && seen.insert(value_text(v)))
            .cloned()
            .collect();
        let found = (target().admin.labels)(&ctx.state.db, keys)
            .await
            .map_err(|e| Reject(server_error(e)))?;
        labels.insert(field.name, found.into_iter().collect());
    }
    Ok(rows
        .iter()
        .map(|row| {
            let cells = if columns.is_empty() {
                vec![Cell {
                    text: row.display.clone(),
                    class: "",
                }]
            } else {
                columns
                    .iter()
                    .map(|field| cell(field, row.value(field.name), labels.get(field.name)))
                    .collect()
            };
            ResultRow {
                pk: row.pk.clone(),
                url: change_url(meta, &row.pk),
                cells,
            }
        })
        .collect())
}

fn cell(
    field: &FieldMeta,
    value: Option<&Value>,
    labels: Option<&HashMap<String, String>>,
) -> Cell {
    let Some(value) = value.filter(|v| !is_null(v)) else {
        if field.kind == FieldKind::Boolean {
            return Cell {
                text: "Unknown".into(),
                class: "boolean unknown",
            };
        }
        return Cell {
            text: "-".into(),
            class: "empty",
        };
    };
    if let Some(labels) = labels {
        let key = value_text(value);
        return Cell {
            text: labels.get(&key).cloned().unwrap_or(key),
            class: "",
        };
    }
    match (field.kind, value) {
        (FieldKind::Boolean, Value::Bool(Some(true))) => Cell {
            text: "Yes".into(),
            class: "boolean yes",
        },
        (FieldKind::Boolean, _) => Cell {
            text: "No".into(),
            class: "boolean no",
        },
        (FieldKind::Choice, _) => Cell {
            text: field.choice_label(&value_text(value)).to_string(),
            class: "",
        },
        _ => Cell {
            text: readable(value).unwrap_or_else(|| value_text(value)),
            class: "",
        },
    }
}

/// The paginator's links, none for a single page.
fn page_links(params: &Params, page: u64, pages: u64) -> Vec<PageLink> {
    if pages <= 1 {
        return Vec::new();
    }
    page_range(page, pages)
        .into_iter()
        .map(|n| PageLink {
            number: n,
            url: n
                .map(|n| params.with(&[(PAGE, n.to_string())], &|_| false))
                .unwrap_or_default(),
            current: n == Some(page),
        })
        .collect()
}

/// The rows one change list page shows, and its counts.
struct Listed {
    rows: Vec<AdminRow>,
    /// Rows matching the filters and search.
    total: u64,
    /// Rows in all, when filters or search narrow the list.
    full_count: Option<u64>,
    /// The page shown, from 1.
    page: u64,
    /// Pages in all (at least 1).
    pages: u64,
    /// Whether filters or search narrow the list.
    narrowed: bool,
}

/// Runs the change list's query through the query layer: page `requested`
/// (past the last page, the last one rather than an empty table), the
/// count of matching rows and, when the list is narrowed, of all rows.
async fn run_query(
    ops: &dyn AdminOps,
    db: &crate::db::Connection,
    mut query: ListQuery,
    requested: u64,
    per_page: u64,
) -> Result<Listed, Reject> {
    let fail = |e: sea_orm::DbErr| Reject(server_error(e));
    let (mut rows, total) = ops.query(db, &query).await.map_err(fail)?;
    let pages = total.div_ceil(per_page).max(1);
    let page = requested.min(pages);
    if page != requested {
        query.pagination = Pagination::Page {
            page,
            page_size: per_page,
        };
        rows = ops.query(db, &query).await.map_err(fail)?.0;
    }
    let narrowed = !query.search.is_empty() || !query.filters.is_empty();
    let full_count = if narrowed {
        let everything = ListQuery::page(ops.meta(), 1, 1);
        Some(ops.count(db, &everything).await.map_err(fail)?)
    } else {
        None
    };
    Ok(Listed {
        rows,
        total,
        full_count,
        page,
        pages,
        narrowed,
    })
}

/// `GET /admin/{app}/{model}/`: the change list.
pub async fn changelist(
    mut ctx: AdminCtx,
    Path((app, model)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    ctx.staff()?;
    let ops = admin_model(&mut ctx, &app, &model)?;
    let meta = ops.meta();
    if !ctx.can_view(meta).await {
        return Err(Reject(
            ctx.forbidden("You don't have permission to view these objects."),
        ));
    }
    let limits = ctx.state.list;
    let params = Params::parse(raw.as_deref(), meta, &limits);
    let columns = columns(meta);
    let order = list_query::parse_order(params.get(ORDER), columns.len());
    let per_page = meta.admin.list_per_page.max(1);
    let requested = list_query::requested_page(&params, per_page);
    let query = list_query::list_query(meta, &params, &columns, &order, &limits, requested);
    let filter_specs = sidebar(&ctx, meta, &params, &query.filters).await?;
    let query_text = params.get(SEARCH).unwrap_or("").replace('\0', "");
    // Taken before the rows are read: a change committed in between is
    // then reported as changed (at worst a row that already shows it),
    // never missed.
    let changes_cursor = crate::changes::latest(&ctx.state.db)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    let listed = run_query(ops.as_ref(), &ctx.state.db, query, requested, per_page).await?;
    let Listed {
        rows,
        total,
        full_count,
        page,
        pages,
        narrowed,
    } = listed;
    let results = result_rows(&ctx, meta, &columns, &rows).await?;
    let actions = usable_actions(&ctx, meta).await;
    let can_add = ctx.has_perm(meta, Action::Add).await;
    let plural = verbose_name_plural(meta);
    // Django's wording: a user who may only view is not asked to change.
    let verb = if ctx.has_perm(meta, Action::Change).await {
        "change"
    } else {
        "view"
    };
    let title = format!("Select {} to {verb}", meta.verbose_name());
    let hidden_params: Vec<(String, String)> = params
        .0
        .iter()
        .filter(|(k, _)| k != SEARCH && k != PAGE)
        .cloned()
        .collect();
    Ok(ctx.render(
        "admin/change_list.html",
        context! {
            title => title,
            app_label => meta.app_label,
            app_name => super::site::app_title(meta.app_label),
            model_name => meta.model_name,
            object_name => meta.object_name,
            verbose_name => meta.verbose_name(),
            verbose_name_plural => plural.clone(),
            plural_title => capitalize(&plural),
            list_url => list_url(meta),
            add_url => can_add.then(|| format!("{}add/", list_url(meta))),
            headers => headers(meta, &columns, &order, &params),
            sort_count => order.len(),
            results => results,
            actions => actions.iter().map(|(n, d)| context! { name => n, description => d }).collect::<Vec<_>>(),
            has_search => !meta.admin.search.is_empty(),
            search_query => query_text,
            hidden_params => hidden_params.iter().map(|(k, v)| context! { name => k, value => v }).collect::<Vec<_>>(),
            filters => filter_specs,
            clear_filters_url => narrowed.then(|| params.with(&[], &|k| k != ORDER)),
            result_count => total,
            result_count_name => count_name(meta, total),
            full_count => full_count,
            pages => page_links(&params, page, pages),
            page => page,
            page_count => pages,
            changes_url => format!("{}changes/", list_url(meta)),
            changes_cursor => changes_cursor.to_string(),
        },
    ))
}

/// `POST /admin/{app}/{model}/`: a bulk action on the selected rows
/// (`action`, `_selected_action` repeated), after the CSRF check.
pub async fn changelist_action(
    mut ctx: AdminCtx,
    Path((app, model)): Path<(String, String)>,
    Form(form): Form<FormFields>,
) -> PageResult {
    ctx.staff()?;
    let ops = admin_model(&mut ctx, &app, &model)?;
    ctx.check_csrf(&form)?;
    let meta = ops.meta();
    if !ctx.can_view(meta).await {
        return Err(Reject(
            ctx.forbidden("You don't have permission to view these objects."),
        ));
    }
    let back = ctx.path.clone();
    let action = form
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let selected: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "_selected_action")
        .map(|(_, v)| v.clone())
        .collect();
    let own = ctx
        .admin()
        .actions
        .get(meta.table)
        .and_then(|list| list.iter().find(|a| a.name == action))
        .cloned();
    if action == DELETE_SELECTED {
        ctx.require_perm(meta, Action::Delete).await?;
    } else if own.is_some() {
        ctx.require_perm(meta, Action::Change).await?;
    } else {
        ctx.message("warning", "No action selected.").await;
        return Ok(ctx.redirect(&back));
    }
    if selected.is_empty() {
        ctx.message(
            "warning",
            "Items must be selected in order to perform actions on them. No items have been changed.",
        )
        .await;
        return Ok(ctx.redirect(&back));
    }
    if action == DELETE_SELECTED {
        let confirmed = form.iter().any(|(k, v)| k == "post" && v == "yes");
        return delete::delete_selected(ctx, ops, selected, confirmed, back).await;
    }
    let Some(own) = own else {
        return Ok(ctx.redirect(&back));
    };
    match (own.run)(
        ctx.state.db.acting_as(ctx.user.as_ref().map(|u| u.id)),
        selected,
    )
    .await
    {
        Ok(outcome) => ctx.message("success", outcome.message).await,
        Err(error) => ctx.message("error", action_error(&error)).await,
    }
    Ok(ctx.redirect(&back))
}

/// An action's failure as a message: its own words for the errors people
/// can act on, nothing internal otherwise (it is logged).
fn action_error(error: &crate::error::ApiError) -> String {
    use crate::error::ApiError;
    match error {
        ApiError::Conflict(message) => message.clone(),
        ApiError::NotFound => "Some of the selected items no longer exist.".into(),
        other => {
            tracing::error!(error = ?other, "admin action failed");
            "The action failed; the error has been logged.".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_range_elides_like_django() {
        assert_eq!(page_range(1, 3), vec![Some(1), Some(2), Some(3)]);
        let r = page_range(10, 20);
        assert_eq!(r.first(), Some(&Some(1)));
        assert!(r.contains(&None));
        assert!(r.contains(&Some(7)) && r.contains(&Some(13)) && !r.contains(&Some(14)));
        assert_eq!(r.last(), Some(&Some(20)));
    }
}
