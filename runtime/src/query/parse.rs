//! The REST list's query string parsed into a [`ListQuery`]: filters,
//! search, ordering, page or cursor and `expand`, against the model's
//! declared fields; anything else is a 400 naming what is allowed, a value
//! past a bound a 422.

use serde_json::{Value as Json, json};

use super::cursor::decode_cursor;
use super::lookup::{FilterError, parse_filter};
use super::ordering::{default_ordering, make_total, parse_ordering};
use super::settings::{too_long_text, too_many};
use super::{ListQuery, ListSettings, Pagination, allowed_list, detail};
use crate::error::{ApiError, ApiResult, ErrorDetail, ErrorKind, ValidationError};
use crate::model::{FieldMeta, ModelMeta, PaginationMode};

fn parse_size(loc: &str, raw: &str, max: u64, errors: &mut Vec<ErrorDetail>) -> Option<u64> {
    match raw.trim().parse::<i128>() {
        Ok(n) if n >= 1 && n <= i128::from(max) => Some(n as u64),
        Ok(n) => {
            let kind = if n < 1 {
                ErrorKind::GreaterThanEqual
            } else {
                ErrorKind::LessThanEqual
            };
            errors.push(
                detail(loc, kind, format!("Input should be between 1 and {max}"))
                    .with_ctx(json!({ "ge": 1, "le": max })),
            );
            None
        }
        Err(_) => {
            errors.push(detail(
                loc,
                ErrorKind::IntParsing,
                "Input should be a valid integer, unable to parse string as an integer",
            ));
            None
        }
    }
}

/// The parameters of one list query string as read, before they are
/// checked against each other (bounds, cursor and ordering).
#[derive(Default)]
struct Params {
    /// Parse failures of values (422).
    errors: Vec<ErrorDetail>,
    /// Unknown names (400).
    unknown: Vec<ErrorDetail>,
    filters: Vec<super::Filter>,
    search: Vec<String>,
    search_words: usize,
    search_length: usize,
    filter_count: usize,
    ordering: Option<String>,
    page: Option<u64>,
    page_size: Option<u64>,
    cursor: Option<String>,
    expand: Expand,
}

impl Params {
    /// Reads every `key=value` of `raw`; nothing past a bound is kept.
    fn read(meta: &'static ModelMeta, raw: Option<&str>, settings: &ListSettings) -> Self {
        let mut params = Params::default();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let (key, value) = (key.as_ref(), value.as_ref());
            match key {
                "page" => {
                    params.page = parse_size("page", value, settings.max_page(), &mut params.errors)
                }
                "page_size" => {
                    params.page_size = parse_size(
                        "page_size",
                        value,
                        settings.max_page_size,
                        &mut params.errors,
                    )
                }
                "cursor" => params.cursor = Some(value.to_string()),
                "ordering" => params.ordering = Some(value.to_string()),
                "search" => params.add_search(meta, value, settings),
                "expand" => {
                    params
                        .expand
                        .add(meta, value, settings.max_expand, &mut params.unknown)
                }
                _ => {
                    params.filter_count += 1;
                    if params.filter_count > settings.max_filters {
                        continue;
                    }
                    match parse_filter(meta, meta.api.filter, key, value, settings) {
                        Ok(filter) => params.filters.push(filter),
                        Err(FilterError::Unknown(d)) => params.unknown.push(d),
                        Err(FilterError::Invalid(d)) => params.errors.push(d),
                    }
                }
            }
        }
        params
    }

    /// One `search=` value: its words, counted before any is kept, so
    /// words past the bound are never stored however many were sent.
    fn add_search(&mut self, meta: &ModelMeta, value: &str, settings: &ListSettings) {
        if meta.api.search.is_empty() {
            self.unknown.push(detail(
                "search",
                ErrorKind::UnknownParameter,
                format!(
                    "{} declares no search fields; add #[api(search(...))] to enable `search`",
                    meta.object_name
                ),
            ));
            return;
        }
        if value.contains('\0') {
            // PostgreSQL refuses NUL in text: it could only fail there.
            self.errors.push(detail(
                "search",
                ErrorKind::StringNul,
                "String should not contain NUL characters",
            ));
            return;
        }
        self.search_length = self.search_length.saturating_add(value.chars().count());
        for word in value.split_whitespace() {
            self.search_words += 1;
            if self.search_words <= settings.max_search_words {
                self.search.push(word.to_string());
            }
        }
    }

    /// The 422s for parameters past a bound: past one, nothing else of the
    /// query is worth reading.
    fn over_bounds(&self, settings: &ListSettings) -> Vec<ErrorDetail> {
        let mut over = Vec::new();
        if self.filter_count > settings.max_filters {
            over.push(
                ErrorDetail::new(
                    vec![Json::from("query")],
                    ErrorKind::TooLong,
                    format!(
                        "A list query should have at most {} filter parameters, not {}",
                        settings.max_filters, self.filter_count
                    ),
                )
                .with_ctx(json!({
                    "field_type": "Filters",
                    "max_length": settings.max_filters,
                    "actual_length": self.filter_count,
                })),
            );
        }
        if self.search_length > settings.max_search_length {
            over.push(too_long_text("search", settings.max_search_length));
        } else if self.search_words > settings.max_search_words {
            let (max, actual) = (settings.max_search_words, self.search_words);
            over.push(too_many("search", "Search", max, actual));
        }
        if self.expand.distinct > settings.max_expand {
            let (max, actual) = (settings.max_expand, self.expand.distinct);
            over.push(too_many("expand", "Expand", max, actual));
        }
        if let Some(raw) = &self.cursor
            && raw.chars().count() > settings.max_cursor_length
        {
            over.push(too_long_text("cursor", settings.max_cursor_length));
        }
        if let Some(raw) = &self.ordering {
            let terms = raw.split(',').filter(|p| !p.trim().is_empty()).count();
            if terms > settings.max_ordering_terms {
                let max = settings.max_ordering_terms;
                over.push(too_many("ordering", "Ordering", max, terms));
            }
        }
        over
    }
}

impl ListQuery {
    /// Parses `raw` (the query string) for a list of `meta`'s rows.
    pub fn parse(
        meta: &'static ModelMeta,
        raw: Option<&str>,
        settings: ListSettings,
    ) -> ApiResult<Self> {
        let mut params = Params::read(meta, raw, &settings);
        let over = params.over_bounds(&settings);
        if !over.is_empty() {
            return Err(ApiError::Validation(ValidationError { detail: over }));
        }
        let ordering = match params.ordering.take() {
            Some(raw) => parse_ordering(meta, &raw).unwrap_or_else(|d| {
                params.unknown.push(d);
                Vec::new()
            }),
            None => default_ordering(meta),
        };
        let ordering = make_total(meta, ordering);
        if !params.unknown.is_empty() {
            return Err(ApiError::BadRequest(ValidationError {
                detail: params.unknown,
            }));
        }
        let pagination = pagination(meta, &mut params, &ordering, &settings)?;
        if !params.errors.is_empty() {
            return Err(ApiError::Validation(ValidationError {
                detail: params.errors,
            }));
        }
        Ok(ListQuery {
            filters: params.filters,
            search: params.search,
            search_fields: meta
                .api
                .search
                .iter()
                .filter_map(|name| meta.field(name))
                .collect(),
            search_primary_key: false,
            ordering,
            pagination,
            expand: params.expand.fields,
        })
    }
}

/// The pages `params` ask for: a cursor (keyset) page, a numbered page, or
/// every row of an unpaginated model (a slice of them with `page`).
fn pagination(
    meta: &ModelMeta,
    params: &mut Params,
    ordering: &[super::OrderTerm],
    settings: &ListSettings,
) -> ApiResult<Pagination> {
    let unpaged = meta.api.pagination == PaginationMode::Off;
    if unpaged && params.cursor.is_some() {
        return Err(ApiError::BadRequest(ValidationError::single(detail(
            "cursor",
            ErrorKind::UnknownParameter,
            format!(
                "{} lists are not paginated (pagination = \"none\"): leave out `cursor`",
                meta.object_name
            ),
        ))));
    }
    if params.cursor.is_some()
        && let Some(term) = ordering
            .iter()
            .find(|t| t.related.is_some() || t.field.read_as.is_none())
    {
        params.errors.push(detail(
            "cursor",
            ErrorKind::CursorUnavailable,
            format!(
                "Cursor pages are not available when ordering by `{}`; use `page`",
                term.field.name
            ),
        ));
    }
    let default_size = settings.default_page_size.min(settings.max_page_size);
    let page_size = params.page_size.unwrap_or(default_size);
    Ok(match params.cursor.take() {
        None if unpaged => Pagination::All {
            slice: (params.page.is_some() || params.page_size.is_some())
                .then(|| (params.page.unwrap_or(1), page_size)),
        },
        // With `cursor`, `page` is ignored (as documented): the cursor
        // says where the page starts.
        Some(raw) if raw.trim().is_empty() => Pagination::Cursor {
            after: None,
            page_size,
        },
        Some(raw) => match decode_cursor(ordering, &raw) {
            Ok(values) => Pagination::Cursor {
                after: Some(values),
                page_size,
            },
            // As Django REST framework answers it: no page starts there.
            // (A cursor is opaque; its documented schema cannot rule this out.)
            Err(msg) => return Err(ApiError::NotFoundBecause(msg)),
        },
        None => Pagination::Page {
            page: params.page.unwrap_or(1),
            page_size,
        },
    })
}

/// Parses `?expand=` alone, for a retrieve; anything else is a 400, more
/// than `settings.max_expand` distinct names a 422.
pub fn parse_expand(
    meta: &'static ModelMeta,
    raw: Option<&str>,
    settings: ListSettings,
) -> ApiResult<Vec<&'static FieldMeta>> {
    let mut expand = Expand::default();
    let mut unknown = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if key != "expand" {
            unknown.push(detail(
                &key,
                ErrorKind::UnknownParameter,
                "Unknown query parameter; allowed: expand",
            ));
            continue;
        }
        expand.add(meta, &value, settings.max_expand, &mut unknown);
    }
    if expand.distinct > settings.max_expand {
        return Err(ApiError::Validation(ValidationError::single(too_many(
            "expand",
            "Expand",
            settings.max_expand,
            expand.distinct,
        ))));
    }
    if unknown.is_empty() {
        Ok(expand.fields)
    } else {
        Err(ApiError::BadRequest(ValidationError { detail: unknown }))
    }
}

/// The `expand` names read so far: each relation once, however often named.
#[derive(Default)]
struct Expand {
    fields: Vec<&'static FieldMeta>,
    seen: std::collections::HashSet<String>,
    /// Distinct names given, known or not; past the bound none is looked at.
    distinct: usize,
}

impl Expand {
    /// Reads one `expand=a,b` value: each name must be a shown foreign key.
    fn add(
        &mut self,
        meta: &'static ModelMeta,
        value: &str,
        max: usize,
        unknown: &mut Vec<ErrorDetail>,
    ) {
        let expandable = || {
            meta.fields
                .iter()
                .filter(|f| f.references.is_some() && f.read_as.is_some())
        };
        for name in value
            .split(',')
            .map(|n| n.trim_matches(' '))
            .filter(|n| !n.is_empty())
        {
            if self.seen.contains(name) {
                continue;
            }
            self.distinct += 1;
            if self.distinct > max {
                continue;
            }
            self.seen.insert(name.to_string());
            match expandable().find(|f| f.relation_name() == name) {
                Some(field) => self.fields.push(field),
                None => unknown.push(detail(
                    "expand",
                    ErrorKind::UnknownRelation,
                    format!(
                        "Cannot expand `{name}`; allowed: {}",
                        allowed_list(expandable().map(|f| f.relation_name()))
                    ),
                )),
            }
        }
    }
}
