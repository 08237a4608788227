//! The change list, `/admin/{app}/{model}/`: a model's rows as a table
//! with `list_display` columns, sortable headers, a search box, a filter
//! sidebar for `list_filter`, pagination with counts, and bulk actions
//! ("Delete selected ..." and those registered with
//! [`App::admin_action`](crate::App::admin_action)).
//!
//! The query string follows Django's: `?q=` searches, `?o=2.-1` orders by
//! the second column then the first descending, `?p=` is the page (from 1),
//! and filters are `field__exact=`, `field__isnull=`, `field__gte=` and
//! `field__lt=`. A parameter that does not parse is ignored, never an error.

use std::collections::{HashMap, HashSet};

use axum::Form;
use axum::extract::{Path, RawQuery};
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use minijinja::context;
use sea_orm::Value;
use serde::Serialize;

use super::context::{AdminCtx, PageResult, Reject, server_error};
use super::delete;
use super::objects::{admin_model, change_url, count_name, list_url, readable};
use super::ops::{AdminRow, RowFilter, RowQuery, value_text};
use super::site::{FormFields, capitalize};
use super::verbose_name_plural;
use crate::model::{Action, FieldKind, FieldMeta, ModelMeta};

/// How many related rows a foreign key filter offers: beyond this a select
/// of every author would be unusable, and the search box serves better.
const FK_FILTER_CAP: u64 = 100;

/// The name of the built-in "Delete selected ..." action.
pub(crate) const DELETE_SELECTED: &str = "delete_selected";

/// The request's query string as ordered pairs, with the links of the
/// page built from it so that each link keeps the other parameters.
#[derive(Clone, Debug, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    /// Keeps the parameters the change list reads (`p`, `q`, `o` and the
    /// `list_filter` lookups), each once, within the list limits: every
    /// link of the page repeats them, so whatever else a URL carries would
    /// be multiplied by the number of links.
    fn parse(raw: Option<&str>, meta: &ModelMeta, limits: &crate::api::ListSettings) -> Self {
        let known = |key: &str| {
            [PAGE, SEARCH, ORDER].contains(&key)
                || key.split_once("__").is_some_and(|(field, lookup)| {
                    meta.admin.list_filter.contains(&field)
                        && ["exact", "isnull", "gte", "lt"].contains(&lookup)
                })
        };
        let mut kept: Vec<(String, String)> = Vec::new();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if !known(&key) || kept.iter().any(|(k, _)| *k == key) {
                continue;
            }
            let value = if key == SEARCH {
                value.chars().take(limits.max_search_length).collect()
            } else if value.chars().count() > limits.max_filter_value_length {
                continue;
            } else {
                value.into_owned()
            };
            kept.push((key.into_owned(), value));
        }
        Params(kept)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// This page's query with `set` replacing (or adding) keys, keys
    /// matching `drop` removed, and the page number reset unless set: a
    /// new filter or order starts from the first page.
    fn with(&self, set: &[(&str, String)], drop: &dyn Fn(&str) -> bool) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if k == PAGE || drop(k) || set.iter().any(|(s, _)| s == k) {
                continue;
            }
            out.append_pair(k, v);
        }
        for (k, v) in set {
            out.append_pair(k, v);
        }
        format!("?{}", out.finish())
    }
}

const PAGE: &str = "p";
const SEARCH: &str = "q";
const ORDER: &str = "o";

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

/// `?o=2.-1`: (column index from 0, descending), valid and distinct.
fn parse_order(raw: Option<&str>, columns: usize) -> Vec<(usize, bool)> {
    let mut order: Vec<(usize, bool)> = Vec::new();
    for part in raw.unwrap_or("").split('.') {
        let (descending, digits) = match part.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, part),
        };
        let Ok(position) = digits.parse::<usize>() else {
            continue;
        };
        if position == 0 || position > columns || order.iter().any(|(i, _)| *i == position - 1) {
            continue;
        }
        order.push((position - 1, descending));
    }
    order
}

fn order_param(order: &[(usize, bool)]) -> String {
    order
        .iter()
        .map(|(i, d)| format!("{}{}", if *d { "-" } else { "" }, i + 1))
        .collect::<Vec<_>>()
        .join(".")
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

fn parse_isnull(raw: Option<&str>) -> Option<bool> {
    match raw?.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// The conditions the query string sets, and the sidebar's filters with
/// their selected choices.
async fn filters(
    ctx: &AdminCtx,
    meta: &ModelMeta,
    params: &Params,
) -> Result<(Vec<RowFilter>, Vec<FilterSpec>), Reject> {
    let mut conditions = Vec::new();
    let mut specs = Vec::new();
    for name in meta.admin.list_filter {
        let Some(field) = meta.field(name) else {
            continue;
        };
        let exact_key = format!("{}__exact", field.name);
        let isnull_key = format!("{}__isnull", field.name);
        let gte_key = format!("{}__gte", field.name);
        let lt_key = format!("{}__lt", field.name);
        let prefix = format!("{}__", field.name);
        let mine = |k: &str| k.starts_with(&prefix);
        let exact = params
            .get(&exact_key)
            .and_then(|raw| crate::api::parse_value(field, raw).ok());
        let isnull = parse_isnull(params.get(&isnull_key));
        let is_date = matches!(field.kind, FieldKind::Date | FieldKind::DateTime);
        if !is_date && let Some(value) = &exact {
            conditions.push(RowFilter::Equals(field.name, value.clone()));
        }
        if let Some(null) = isnull {
            conditions.push(RowFilter::IsNull(field.name, null));
        }
        let none_selected = exact.is_none() && isnull.is_none();
        let all = Choice {
            display: if is_date { "Any date" } else { "All" }.into(),
            url: params.with(&[], &mine),
            selected: false,
        };
        let mut choices = vec![all];
        let pick = |display: &str, key: &str, value: String, selected: bool| Choice {
            display: display.to_string(),
            url: params.with(&[(key, value)], &mine),
            selected,
        };
        let exact_text = exact.as_ref().map(value_text);
        if field.kind == FieldKind::Boolean {
            choices[0].selected = none_selected;
            for (display, value) in [("Yes", "true"), ("No", "false")] {
                let selected = exact_text.as_deref() == Some(value) && isnull.is_none();
                let raw = if value == "true" { "1" } else { "0" };
                choices.push(pick(display, &exact_key, raw.into(), selected));
            }
            if field.nullable {
                choices.push(pick(
                    "Unknown",
                    &isnull_key,
                    "True".into(),
                    isnull == Some(true) && exact.is_none(),
                ));
            }
        } else if let Some(target) = field.references {
            choices[0].selected = none_selected;
            let target = target();
            // A model the user may not view lends no rows to the filter.
            let viewable = can_view(ctx, target).await;
            let related = ctx.admin().by_table(target.table).filter(|_| viewable);
            let mut rows: Vec<(String, String)> = match &related {
                Some(ops) => {
                    let query = RowQuery {
                        limit: FK_FILTER_CAP,
                        ..RowQuery::default()
                    };
                    ops.query(&ctx.state.db, &query)
                        .await
                        .map_err(|e| Reject(server_error(e)))?
                        .0
                        .into_iter()
                        .map(|r| (r.pk, r.display))
                        .collect()
                }
                None => Vec::new(),
            };
            // The selected row stays offered even past the cap.
            if let (Some(value), Some(text), true) = (&exact, &exact_text, viewable)
                && !rows.iter().any(|(pk, _)| pk == text)
            {
                let labels = (target.admin.labels)(&ctx.state.db, vec![value.clone()])
                    .await
                    .map_err(|e| Reject(server_error(e)))?;
                rows.extend(labels);
            }
            for (pk, display) in rows {
                let selected = exact_text.as_deref() == Some(pk.as_str());
                choices.push(pick(&display, &exact_key, pk, selected));
            }
            if field.nullable {
                choices.push(pick(
                    "(None)",
                    &isnull_key,
                    "True".into(),
                    isnull == Some(true) && exact.is_none(),
                ));
            }
        } else if field.kind == FieldKind::Choice {
            choices[0].selected = none_selected;
            for choice in field.choices {
                let selected = exact_text.as_deref() == Some(*choice);
                let label = field.choice_label(choice);
                choices.push(pick(label, &exact_key, (*choice).to_string(), selected));
            }
            if field.nullable {
                choices.push(pick(
                    "(None)",
                    &isnull_key,
                    "True".into(),
                    isnull == Some(true) && exact.is_none(),
                ));
            }
        } else if is_date {
            let gte_raw = params.get(&gte_key);
            let lt_raw = params.get(&lt_key);
            let gte = gte_raw.and_then(|r| r.trim().parse::<NaiveDate>().ok());
            let lt = lt_raw.and_then(|r| r.trim().parse::<NaiveDate>().ok());
            let from = gte.and_then(|d| date_value(field, d));
            let to = lt.and_then(|d| date_value(field, d));
            if from.is_some() || to.is_some() {
                conditions.push(RowFilter::Range {
                    field: field.name,
                    from,
                    to,
                });
            }
            choices[0].selected = gte.is_none() && lt.is_none() && isnull.is_none();
            for (display, start, end) in date_ranges(Utc::now().date_naive()) {
                let start_text = start.format("%Y-%m-%d").to_string();
                let end_text = end.format("%Y-%m-%d").to_string();
                choices.push(Choice {
                    display: display.into(),
                    url: params.with(&[(&gte_key, start_text), (&lt_key, end_text)], &mine),
                    selected: gte == Some(start) && lt == Some(end) && isnull.is_none(),
                });
            }
            if field.nullable {
                choices.push(pick(
                    "No date",
                    &isnull_key,
                    "True".into(),
                    isnull == Some(true),
                ));
                choices.push(pick(
                    "Has date",
                    &isnull_key,
                    "False".into(),
                    isnull == Some(false),
                ));
            }
        } else {
            continue;
        }
        specs.push(FilterSpec {
            title: field_label(field),
            choices,
        });
    }
    Ok((conditions, specs))
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
        if !can_view(ctx, target()).await {
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

/// `GET /admin/{app}/{model}/`: the change list.
pub async fn changelist(
    mut ctx: AdminCtx,
    Path((app, model)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    ctx.staff()?;
    let ops = admin_model(&mut ctx, &app, &model)?;
    let meta = ops.meta();
    if !(ctx.has_perm(meta, Action::View).await || ctx.has_perm(meta, Action::Change).await) {
        return Err(Reject(
            ctx.forbidden("You don't have permission to view these objects."),
        ));
    }
    let params = Params::parse(raw.as_deref(), meta, &ctx.state.list);
    let columns = columns(meta);
    let order = parse_order(params.get(ORDER), columns.len());
    let (conditions, filter_specs) = filters(&ctx, meta, &params).await?;
    let search_fields: Vec<&'static str> = meta.admin.search.to_vec();
    // PostgreSQL text cannot hold NUL: such a search could only fail.
    let query_text = params.get(SEARCH).unwrap_or("").replace('\0', "");
    // Past the list bounds, the rest of the text is ignored (as any
    // parameter the change list cannot use): each word is one more condition.
    let limits = ctx.state.list;
    let words: Vec<String> = if search_fields.is_empty() {
        Vec::new()
    } else {
        query_text
            .chars()
            .take(limits.max_search_length)
            .collect::<String>()
            .split_whitespace()
            .take(limits.max_search_words)
            .map(str::to_string)
            .collect()
    };
    let per_page = meta.admin.list_per_page.max(1);
    // A page past the last shows the last (below); one whose offset would
    // not fit the i64 SQL binds is past the last too.
    let requested = params
        .get(PAGE)
        .and_then(|p| p.trim().parse::<u64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
        .min(crate::api::max_page(per_page));
    let mut query = RowQuery {
        search: words,
        search_fields,
        filters: conditions,
        ordering: order
            .iter()
            .filter(|(i, _)| columns[*i].kind != FieldKind::Json)
            .map(|(i, d)| (columns[*i].name, *d))
            .collect(),
        offset: (requested - 1).saturating_mul(per_page),
        limit: per_page,
    };
    let db = ctx.state.db.clone();
    let (mut rows, total) = ops
        .query(&db, &query)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    let pages = total.div_ceil(per_page).max(1);
    let page = requested.min(pages);
    if page != requested {
        // Past the last page: show the last one rather than an empty table.
        query.offset = (page - 1) * per_page;
        rows = ops
            .query(&db, &query)
            .await
            .map_err(|e| Reject(server_error(e)))?
            .0;
    }
    let narrowed = !query.search.is_empty() || !query.filters.is_empty();
    let full_count = if narrowed {
        let everything = RowQuery {
            limit: 1,
            ..RowQuery::default()
        };
        Some(
            ops.query(&db, &everything)
                .await
                .map_err(|e| Reject(server_error(e)))?
                .1,
        )
    } else {
        None
    };
    let results = result_rows(&ctx, meta, &columns, &rows).await?;
    let actions = usable_actions(&ctx, meta).await;
    let can_add = ctx.has_perm(meta, Action::Add).await;
    let page_links: Vec<PageLink> = if pages > 1 {
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
    } else {
        Vec::new()
    };
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
            clear_filters_url => narrowed.then(|| params.with(&[], &|k| k.contains("__") || k == SEARCH)),
            result_count => total,
            result_count_name => count_name(meta, total),
            full_count => full_count,
            pages => page_links,
            page => page,
            page_count => pages,
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
    if !(ctx.has_perm(meta, Action::View).await || ctx.has_perm(meta, Action::Change).await) {
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
    match (own.run)(ctx.state.db.clone(), selected).await {
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

/// Whether the user may see rows of `meta` (its `view` or `change`
/// permission, as Django's `has_view_permission`).
pub(crate) async fn can_view(ctx: &AdminCtx, meta: &ModelMeta) -> bool {
    ctx.has_perm(meta, Action::View).await || ctx.has_perm(meta, Action::Change).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_parses_django_style_and_ignores_junk() {
        assert_eq!(parse_order(Some("2.-1"), 3), vec![(1, false), (0, true)]);
        assert_eq!(parse_order(Some("x.9.0.-2.2"), 3), vec![(1, true)]);
        assert_eq!(parse_order(None, 3), vec![]);
    }

    #[test]
    fn page_range_elides_like_django() {
        assert_eq!(page_range(1, 3), vec![Some(1), Some(2), Some(3)]);
        let r = page_range(10, 20);
        assert_eq!(r.first(), Some(&Some(1)));
        assert!(r.contains(&None));
        assert!(r.contains(&Some(7)) && r.contains(&Some(13)) && !r.contains(&Some(14)));
        assert_eq!(r.last(), Some(&Some(20)));
    }

    #[test]
    fn links_keep_other_params_and_reset_the_page() {
        let meta = <crate::auth::models::User as crate::model::Model>::meta();
        let limits = crate::api::ListSettings::default();
        let params = Params::parse(Some("q=a+b&p=3&is_staff__exact=1"), meta, &limits);
        assert_eq!(
            params.with(&[(ORDER, "1".into())], &|_| false),
            "?q=a+b&is_staff__exact=1&o=1"
        );
        assert_eq!(params.with(&[], &|k| k.starts_with("is_staff__")), "?q=a+b");
    }

    #[test]
    fn links_carry_only_known_parameters_within_the_limits() {
        let meta = <crate::auth::models::User as crate::model::Model>::meta();
        let limits = crate::api::ListSettings::default();
        let long = "x".repeat(limits.max_filter_value_length + 1);
        let raw = format!(
            "junk=1&is_staff__exact=1&is_staff__exact=0&username__exact=a&is_active__gt=1\
             &is_active__exact={long}&q={}",
            "w".repeat(limits.max_search_length + 50)
        );
        let params = Params::parse(Some(&raw), meta, &limits);
        let expected = format!(
            "?is_staff__exact=1&q={}",
            "w".repeat(limits.max_search_length)
        );
        assert_eq!(params.with(&[], &|_| false), expected);
    }
}
