//! The list endpoint's query string: filters with Django lookups, search,
//! ordering, page or cursor pagination and `expand`, parsed against the
//! model's declared fields; anything else is a 400 naming what is allowed.

use base64::Engine;
use sea_orm::Value;
use serde_json::{Value as Json, json};

use crate::error::{ApiError, ApiResult, ErrorDetail, ErrorKind, ValidationError};
use crate::model::{FieldKind, FieldMeta, ModelMeta, PaginationMode};

pub use crate::state::ListSettings;

/// The 422 for a list parameter with more items than `max` (Pydantic's `too_long`).
fn too_many(loc: &str, what: &str, max: usize, actual: usize) -> ErrorDetail {
    detail(
        loc,
        ErrorKind::TooLong,
        format!("{what} should have at most {max} items, not {actual}"),
    )
    .with_ctx(json!({ "field_type": what, "max_length": max, "actual_length": actual }))
}

/// The 422 for a text parameter longer than `max` characters (Pydantic's `string_too_long`).
fn too_long_text(loc: &str, max: usize) -> ErrorDetail {
    detail(
        loc,
        ErrorKind::StringTooLong,
        format!("String should have at most {max} characters"),
    )
    .with_ctx(json!({ "max_length": max }))
}

/// The words of a search box's `text` within `settings`' bounds, or the
/// 422 detail at `["query", loc]` for text past them.
pub fn search_words(
    loc: &str,
    text: &str,
    settings: &ListSettings,
) -> Result<Vec<String>, ErrorDetail> {
    if text.chars().count() > settings.max_search_length {
        return Err(too_long_text(loc, settings.max_search_length));
    }
    let count = text.split_whitespace().count();
    if count > settings.max_search_words {
        return Err(too_many(loc, "Search", settings.max_search_words, count));
    }
    Ok(text.split_whitespace().map(str::to_string).collect())
}

/// The largest page number whose offset, `(page - 1) * page_size`, still
/// fits the `i64` that SQL binds it as.
pub fn max_page(page_size: u64) -> u64 {
    (i64::MAX as u64) / page_size.max(1) + 1
}

/// Query parameters every list accepts besides filters.
pub const RESERVED: &[&str] = &[
    "page",
    "page_size",
    "cursor",
    "ordering",
    "search",
    "expand",
];

/// A Django field lookup, the part after `__` in `?title__icontains=rust`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// `field=v`
    Exact,
    /// `field__ne=v`: not equal (rows where the field is NULL included).
    Ne,
    /// `field__gt=v`
    Gt,
    /// `field__gte=v`
    Gte,
    /// `field__lt=v`
    Lt,
    /// `field__lte=v`
    Lte,
    /// `field__in=a,b,c`
    In,
    /// `field__contains=v`, case-sensitive.
    Contains,
    /// `field__icontains=v`, case-insensitive.
    IContains,
    /// `field__startswith=v`, case-sensitive.
    StartsWith,
    /// `field__istartswith=v`, case-insensitive.
    IStartsWith,
    /// `field__isnull=true|false`
    IsNull,
}

impl Lookup {
    /// Every lookup, in the order documentation lists them.
    pub const ALL: &'static [Lookup] = &[
        Lookup::Exact,
        Lookup::Ne,
        Lookup::Gt,
        Lookup::Gte,
        Lookup::Lt,
        Lookup::Lte,
        Lookup::In,
        Lookup::Contains,
        Lookup::IContains,
        Lookup::StartsWith,
        Lookup::IStartsWith,
        Lookup::IsNull,
    ];

    /// The suffix after `__` (`exact` for the bare field name).
    pub fn name(self) -> &'static str {
        match self {
            Lookup::Exact => "exact",
            Lookup::Ne => "ne",
            Lookup::Gt => "gt",
            Lookup::Gte => "gte",
            Lookup::Lt => "lt",
            Lookup::Lte => "lte",
            Lookup::In => "in",
            Lookup::Contains => "contains",
            Lookup::IContains => "icontains",
            Lookup::StartsWith => "startswith",
            Lookup::IStartsWith => "istartswith",
            Lookup::IsNull => "isnull",
        }
    }

    /// Whether the lookup makes sense for a field of `kind`.
    pub fn applies_to(self, kind: FieldKind) -> bool {
        use FieldKind::*;
        match self {
            Lookup::Exact | Lookup::Ne | Lookup::IsNull => kind != Json,
            Lookup::In => !matches!(kind, Json | Boolean),
            Lookup::Gt | Lookup::Gte | Lookup::Lt | Lookup::Lte => {
                matches!(kind, Integer | Float | Decimal | Date | DateTime | String)
            }
            Lookup::Contains | Lookup::IContains | Lookup::StartsWith | Lookup::IStartsWith => {
                kind == String
            }
        }
    }

    /// The lookups a field of `kind` accepts.
    pub fn for_kind(kind: FieldKind) -> impl Iterator<Item = Lookup> {
        Self::ALL
            .iter()
            .copied()
            .filter(move |l| l.applies_to(kind))
    }
}

/// One `?field__lookup=value` condition.
#[derive(Debug)]
pub struct Filter {
    /// The filtered field.
    pub field: &'static FieldMeta,
    /// How it is compared.
    pub lookup: Lookup,
    /// The parsed operand(s): one, several for `__in`, a bool for `__isnull`.
    pub values: Vec<Value>,
}

/// One term of the effective ordering.
#[derive(Clone, Copy, Debug)]
pub struct OrderTerm {
    /// The field sorted by; for a term across a relation, the foreign key.
    pub field: &'static FieldMeta,
    /// Across a relation (`author__name`): the referenced model's field.
    pub related: Option<&'static FieldMeta>,
    /// `-field`.
    pub descending: bool,
}

/// How a list is cut into pages.
#[derive(Debug)]
pub enum Pagination {
    /// `?page=&page_size=`, with a total count.
    Page {
        /// Page number, from 1.
        page: u64,
        /// Rows per page.
        page_size: u64,
    },
    /// `?cursor=`: keyset pagination, as fast on the last page as the first.
    Cursor {
        /// Ordering values of the last row already seen; `None` for the first page.
        after: Option<Vec<Json>>,
        /// Rows per page.
        page_size: u64,
    },
    /// `#[api(pagination = "none")]`: every matching row, or the slice
    /// `?page=` / `?page_size=` ask for, answered as `{"items": [...]}`.
    All {
        /// `(page, page_size)` when the client asked for a slice.
        slice: Option<(u64, u64)>,
    },
}

/// A parsed list query.
#[derive(Debug)]
pub struct ListQuery {
    /// Conditions, all of which must hold.
    pub filters: Vec<Filter>,
    /// Search terms; each must appear in one of the search fields.
    pub search: Vec<String>,
    /// The effective ordering, always ending with the primary key.
    pub ordering: Vec<OrderTerm>,
    /// Page or cursor.
    pub pagination: Pagination,
    /// Foreign keys whose objects are embedded (`?expand=author`).
    pub expand: Vec<&'static FieldMeta>,
}

fn detail(loc: &str, kind: ErrorKind, msg: impl Into<String>) -> ErrorDetail {
    ErrorDetail::new(vec![Json::from("query"), Json::from(loc)], kind, msg)
}

/// Parses a typed value of `field` from query-string text.
pub fn parse_value(field: &FieldMeta, raw: &str) -> Result<Value, (ErrorKind, String)> {
    let bad = |kind: ErrorKind, msg: &str| Err((kind, msg.to_string()));
    if raw.contains('\0') {
        return bad(
            ErrorKind::StringNul,
            "String should not contain NUL characters",
        );
    }
    match field.kind {
        FieldKind::Integer => {
            // Past the column's own type a value could only fail in the
            // database (or, bound as `i64`, in the driver): refuse it here.
            let (min, max) = integer_range(field);
            match raw.trim().parse::<i128>() {
                Ok(n) if n > i128::from(max) => Err((
                    ErrorKind::LessThanEqual,
                    format!("Input should be less than or equal to {max}"),
                )),
                Ok(n) if n < i128::from(min) => Err((
                    ErrorKind::GreaterThanEqual,
                    format!("Input should be greater than or equal to {min}"),
                )),
                Ok(n) => Ok(integer_value(field, n as i64)),
                Err(_) => bad(
                    ErrorKind::IntParsing,
                    "Input should be a valid integer, unable to parse string as an integer",
                ),
            }
        }
        FieldKind::Float => match raw.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Value::from(n)),
            _ => bad(
                ErrorKind::FloatParsing,
                "Input should be a valid number, unable to parse string as a number",
            ),
        },
        FieldKind::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::from(true)),
            "false" | "0" | "no" | "off" => Ok(Value::from(false)),
            _ => bad(
                ErrorKind::BoolParsing,
                "Input should be a valid boolean, unable to interpret input",
            ),
        },
        FieldKind::String => Ok(Value::from(raw.to_string())),
        FieldKind::Choice => {
            if field.choices.contains(&raw) {
                Ok(Value::from(raw.to_string()))
            } else {
                Err((
                    ErrorKind::Enum,
                    format!("Input should be {}", quoted_list(field.choices)),
                ))
            }
        }
        FieldKind::DateTime => match chrono::DateTime::parse_from_rfc3339(raw.trim()) {
            Ok(t) => Ok(Value::from(t.with_timezone(&chrono::Utc))),
            Err(_) => bad(
                ErrorKind::DatetimeParsing,
                "Input should be a valid datetime (RFC 3339, e.g. 2024-01-31T12:00:00Z)",
            ),
        },
        FieldKind::Date => match raw.trim().parse::<chrono::NaiveDate>() {
            Ok(d) => Ok(Value::from(d)),
            Err(_) => bad(
                ErrorKind::DateParsing,
                "Input should be a valid date (YYYY-MM-DD)",
            ),
        },
        FieldKind::Decimal => match raw.trim().parse::<rust_decimal::Decimal>() {
            Ok(d) => Ok(Value::from(d)),
            Err(_) => bad(ErrorKind::DecimalParsing, "Input should be a valid decimal"),
        },
        FieldKind::Uuid => match raw.trim().parse::<uuid::Uuid>() {
            Ok(u) => Ok(Value::from(u)),
            Err(_) => bad(ErrorKind::UuidParsing, "Input should be a valid UUID"),
        },
        FieldKind::Json => bad(ErrorKind::JsonFilter, "JSON fields cannot be filtered"),
    }
}

/// The values an integer field's column holds: `i16`, `i32` or `i64`.
pub fn integer_range(field: &FieldMeta) -> (i64, i64) {
    match field.db_type {
        crate::model::DbType::SmallInteger => (i16::MIN.into(), i16::MAX.into()),
        crate::model::DbType::Integer => (i32::MIN.into(), i32::MAX.into()),
        _ => (i64::MIN, i64::MAX),
    }
}

/// `n` (within [`integer_range`]) bound with its column's width. PostgreSQL
/// statements are prepared once per SQL text and connection: the same query
/// bound with an `i32` (a row's value) and later with an `i64` (a parsed one)
/// failed with "incorrect binary data format in bind parameter".
fn integer_value(field: &FieldMeta, n: i64) -> Value {
    match field.db_type {
        crate::model::DbType::SmallInteger => Value::from(n as i16),
        crate::model::DbType::Integer => Value::from(n as i32),
        _ => Value::from(n),
    }
}

/// `ctx` for an out-of-range integer error of [`parse_value`], as Pydantic gives it.
pub fn range_ctx(field: &FieldMeta, kind: &ErrorKind) -> Option<Json> {
    let (min, max) = integer_range(field);
    match kind {
        ErrorKind::LessThanEqual => Some(json!({ "le": max })),
        ErrorKind::GreaterThanEqual => Some(json!({ "ge": min })),
        _ => None,
    }
}

/// A typed value of `field` from its JSON form in a `Read` object
/// (cursor values, foreign keys); `Null` for JSON null.
pub fn value_from_json(field: &FieldMeta, json: &Json) -> Option<Value> {
    match json {
        Json::Null => Some(null_of(field.kind)),
        Json::String(s) => parse_value(field, s).ok(),
        Json::Bool(b) => Some(Value::from(*b)),
        Json::Number(n) => parse_value(field, &n.to_string()).ok(),
        _ => None,
    }
}

/// SQL NULL of the right type for `kind`.
pub fn null_of(kind: FieldKind) -> Value {
    match kind {
        FieldKind::Integer => Value::BigInt(None),
        FieldKind::Float => Value::Double(None),
        FieldKind::Boolean => Value::Bool(None),
        FieldKind::String | FieldKind::Choice => Value::String(None),
        FieldKind::DateTime => Value::ChronoDateTimeUtc(None),
        FieldKind::Date => Value::ChronoDate(None),
        FieldKind::Decimal => Value::Decimal(None),
        FieldKind::Uuid => Value::Uuid(None),
        FieldKind::Json => Value::Json(None),
    }
}

fn quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|c| format!("'{c}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

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

fn decode_cursor(ordering: &[OrderTerm], raw: &str) -> Result<Vec<Json>, String> {
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

impl ListQuery {
    /// Parses `raw` (the query string) for a list of `meta`'s rows.
    pub fn parse(
        meta: &'static ModelMeta,
        raw: Option<&str>,
        settings: ListSettings,
    ) -> ApiResult<Self> {
        let mut errors = Vec::new();
        let mut unknown = Vec::new();
        let mut filters = Vec::new();
        let mut search = Vec::new();
        let mut search_words = 0usize;
        let mut search_length = 0usize;
        let mut filter_count = 0usize;
        let mut ordering_raw: Option<String> = None;
        let mut page = None;
        let mut page_size = None;
        let mut cursor: Option<String> = None;
        let mut expand = Expand::default();

        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let (key, value) = (key.as_ref(), value.as_ref());
            match key {
                "page" => page = parse_size("page", value, settings.max_page(), &mut errors),
                "page_size" => {
                    page_size = parse_size("page_size", value, settings.max_page_size, &mut errors)
                }
                "cursor" => cursor = Some(value.to_string()),
                "ordering" => ordering_raw = Some(value.to_string()),
                "search" => {
                    if meta.api.search.is_empty() {
                        unknown.push(detail(key, ErrorKind::UnknownParameter, format!(
                            "{} declares no search fields; add #[api(search(...))] to enable `search`",
                            meta.object_name
                        )));
                        continue;
                    }
                    if value.contains('\0') {
                        // PostgreSQL refuses NUL in text: it could only fail there.
                        errors.push(detail(
                            "search",
                            ErrorKind::StringNul,
                            "String should not contain NUL characters",
                        ));
                        continue;
                    }
                    // Counted before anything is kept: words past the
                    // bound are never stored, however many were sent.
                    search_length = search_length.saturating_add(value.chars().count());
                    for word in value.split_whitespace() {
                        search_words += 1;
                        if search_words <= settings.max_search_words {
                            search.push(word.to_string());
                        }
                    }
                }
                "expand" => expand.add(meta, value, settings.max_expand, &mut unknown),
                _ => {
                    filter_count += 1;
                    if filter_count > settings.max_filters {
                        continue;
                    }
                    match parse_filter(meta, key, value, &settings) {
                        Ok(filter) => filters.push(filter),
                        Err(FilterError::Unknown(d)) => unknown.push(d),
                        Err(FilterError::Invalid(d)) => errors.push(d),
                    }
                }
            }
        }

        // Bounds first: past one, nothing else of the query is worth reading.
        let mut over = Vec::new();
        if filter_count > settings.max_filters {
            over.push(
                ErrorDetail::new(
                    vec![Json::from("query")],
                    ErrorKind::TooLong,
                    format!(
                        "A list query should have at most {} filter parameters, not {filter_count}",
                        settings.max_filters
                    ),
                )
                .with_ctx(json!({
                    "field_type": "Filters",
                    "max_length": settings.max_filters,
                    "actual_length": filter_count,
                })),
            );
        }
        if search_length > settings.max_search_length {
            over.push(too_long_text("search", settings.max_search_length));
        } else if search_words > settings.max_search_words {
            over.push(too_many(
                "search",
                "Search",
                settings.max_search_words,
                search_words,
            ));
        }
        if expand.distinct > settings.max_expand {
            over.push(too_many(
                "expand",
                "Expand",
                settings.max_expand,
                expand.distinct,
            ));
        }
        if let Some(raw) = &cursor
            && raw.chars().count() > settings.max_cursor_length
        {
            over.push(too_long_text("cursor", settings.max_cursor_length));
        }
        if let Some(raw) = &ordering_raw {
            let terms = raw.split(',').filter(|p| !p.trim().is_empty()).count();
            if terms > settings.max_ordering_terms {
                over.push(too_many(
                    "ordering",
                    "Ordering",
                    settings.max_ordering_terms,
                    terms,
                ));
            }
        }
        if !over.is_empty() {
            return Err(ApiError::Validation(ValidationError { detail: over }));
        }
        let expand = expand.fields;

        let ordering = match ordering_raw {
            Some(raw) => match parse_ordering(meta, &raw) {
                Ok(terms) => terms,
                Err(d) => {
                    unknown.push(d);
                    Vec::new()
                }
            },
            None => meta
                .ordering
                .iter()
                .filter_map(|t| {
                    let field = meta.field(t.field)?;
                    let related = match t.related {
                        None => None,
                        // Checked when the model is registered (`ModelMeta::check_ordering`).
                        Some(name) => Some((field.references?)().field(name)?),
                    };
                    Some(OrderTerm {
                        field,
                        related,
                        descending: t.descending,
                    })
                })
                .collect(),
        };
        let ordering = make_total(meta, ordering);

        if !unknown.is_empty() {
            return Err(ApiError::BadRequest(ValidationError { detail: unknown }));
        }
        let unpaged = meta.api.pagination == PaginationMode::Off;
        if unpaged && cursor.is_some() {
            return Err(ApiError::BadRequest(ValidationError::single(detail(
                "cursor",
                ErrorKind::UnknownParameter,
                format!(
                    "{} lists are not paginated (pagination = \"none\"): leave out `cursor`",
                    meta.object_name
                ),
            ))));
        }
        if cursor.is_some()
            && let Some(term) = ordering
                .iter()
                .find(|t| t.related.is_some() || t.field.read_as.is_none())
        {
            errors.push(detail(
                "cursor",
                ErrorKind::CursorUnavailable,
                format!(
                    "Cursor pages are not available when ordering by `{}`; use `page`",
                    term.field.name
                ),
            ));
        }
        let slice = (page.is_some() || page_size.is_some()).then(|| {
            (
                page.unwrap_or(1),
                page_size.unwrap_or(settings.default_page_size.min(settings.max_page_size)),
            )
        });
        let page_size = page_size.unwrap_or(settings.default_page_size.min(settings.max_page_size));
        let pagination = match cursor {
            None if unpaged => Some(Pagination::All { slice }),
            // With `cursor`, `page` is ignored (as documented): the cursor
            // says where the page starts.
            Some(raw) if raw.trim().is_empty() => Some(Pagination::Cursor {
                after: None,
                page_size,
            }),
            Some(raw) => match decode_cursor(&ordering, &raw) {
                Ok(values) => Some(Pagination::Cursor {
                    after: Some(values),
                    page_size,
                }),
                // As Django REST framework answers it: no page starts there.
                // (A cursor is opaque; its documented schema cannot rule this out.)
                Err(msg) => return Err(ApiError::NotFoundBecause(msg)),
            },
            None => Some(Pagination::Page {
                page: page.unwrap_or(1),
                page_size,
            }),
        };
        match pagination {
            Some(pagination) if errors.is_empty() => Ok(ListQuery {
                filters,
                search,
                ordering,
                pagination,
                expand,
            }),
            _ => Err(ApiError::Validation(ValidationError { detail: errors })),
        }
    }
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

fn allowed_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

enum FilterError {
    Unknown(ErrorDetail),
    Invalid(ErrorDetail),
}

fn parse_filter(
    meta: &'static ModelMeta,
    key: &str,
    value: &str,
    settings: &ListSettings,
) -> Result<Filter, FilterError> {
    let (name, lookup_name) = match key.split_once("__") {
        Some((name, lookup)) => (name, Some(lookup)),
        None => (key, None),
    };
    let declared = meta.api.filter.contains(&name);
    let Some(field) = meta.field(name).filter(|_| declared) else {
        let mut allowed: Vec<&str> = RESERVED.to_vec();
        if meta.api.search.is_empty() {
            allowed.retain(|p| *p != "search");
        }
        allowed.extend(meta.api.filter.iter().copied());
        return Err(FilterError::Unknown(detail(
            key,
            ErrorKind::UnknownParameter,
            format!(
                "Unknown query parameter; allowed: {} (filters take Django lookups such as `__gte`)",
                allowed.join(", ")
            ),
        )));
    };
    let lookup = match lookup_name {
        None => Lookup::Exact,
        Some(l) => match Lookup::ALL.iter().find(|x| x.name() == l) {
            Some(lookup) => *lookup,
            None => return Err(FilterError::Unknown(unknown_lookup(key, field, l))),
        },
    };
    if !lookup.applies_to(field.kind) {
        return Err(FilterError::Unknown(unknown_lookup(
            key,
            field,
            lookup.name(),
        )));
    }
    let invalid = |(kind, msg): (ErrorKind, String)| {
        let ctx = range_ctx(field, &kind);
        let error = detail(key, kind, msg);
        FilterError::Invalid(match ctx {
            Some(ctx) => error.with_ctx(ctx),
            None => error,
        })
    };
    let max_length = settings.max_filter_value_length;
    let too_long = || FilterError::Invalid(too_long_text(key, max_length));
    let values = match lookup {
        Lookup::IsNull => {
            let flag = parse_value(&BOOL_FIELD, value).map_err(invalid)?;
            vec![flag]
        }
        Lookup::In => {
            let count = value.split(',').count();
            if count > settings.max_in_values {
                return Err(FilterError::Invalid(too_many(
                    key,
                    "List",
                    settings.max_in_values,
                    count,
                )));
            }
            let mut values = Vec::with_capacity(count);
            for part in value.split(',') {
                if part.chars().count() > max_length {
                    return Err(too_long());
                }
                values.push(parse_value(field, part).map_err(invalid)?);
            }
            values
        }
        _ if value.chars().count() > max_length => return Err(too_long()),
        _ => vec![parse_value(field, value).map_err(invalid)?],
    };
    Ok(Filter {
        field,
        lookup,
        values,
    })
}

/// A stand-in field for parsing `__isnull`'s boolean.
static BOOL_FIELD: FieldMeta = FieldMeta {
    name: "isnull",
    kind: FieldKind::Boolean,
    nullable: false,
    primary_key: false,
    unique: false,
    read_only: false,
    write_only: false,
    password: false,
    write_perm: None,
    read_as: None,
    text: false,
    max_length: None,
    min_length: None,
    help_text: None,
    references: None,
    choices: &[],
    choice_labels: &[],
    pattern: None,
    format: None,
    min_value: None,
    max_value: None,
    db_type: crate::model::DbType::Boolean,
    index: false,
    default: None,
    on_delete: crate::model::OnDelete::Restrict,
    auto_increment: false,
};

fn unknown_lookup(key: &str, field: &FieldMeta, lookup: &str) -> ErrorDetail {
    let allowed: Vec<&str> = Lookup::for_kind(field.kind).map(Lookup::name).collect();
    detail(
        key,
        ErrorKind::UnknownLookup,
        format!(
            "Unknown lookup `{lookup}` for `{}`; allowed: {}",
            field.name,
            allowed.join(", ")
        ),
    )
}

fn parse_ordering(meta: &'static ModelMeta, raw: &str) -> Result<Vec<OrderTerm>, ErrorDetail> {
    let mut terms = Vec::new();
    for part in raw
        .split(',')
        .map(|p| p.trim_matches(' '))
        .filter(|p| !p.is_empty())
    {
        let (descending, name) = match part.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, part),
        };
        match meta
            .field(name)
            .filter(|_| meta.api.ordering.contains(&name))
        {
            Some(field) => terms.push(OrderTerm {
                field,
                related: None,
                descending,
            }),
            None => {
                return Err(detail(
                    "ordering",
                    ErrorKind::UnknownOrdering,
                    format!(
                        "Cannot order by `{name}`; allowed: {} (prefix `-` for descending)",
                        allowed_list(meta.api.ordering.iter().copied())
                    ),
                ));
            }
        }
    }
    Ok(terms)
}

/// Appends the primary key unless present, so equal values never leave the
/// order (and so pages and cursors) ambiguous.
fn make_total(meta: &'static ModelMeta, mut ordering: Vec<OrderTerm>) -> Vec<OrderTerm> {
    if !ordering
        .iter()
        .any(|t| t.field.primary_key && t.related.is_none())
        && let Some(pk) = meta.field(meta.primary_key)
    {
        ordering.push(OrderTerm {
            field: pk,
            related: None,
            descending: false,
        });
    }
    ordering
}
