//! The typed list query under the REST list and the admin change list:
//! filters with Django lookups, search, ordering (NULL placement, related
//! `fk__field` terms), page and cursor pagination and counting, and their
//! one execution on SeaORM. The API parses `?field__lookup=v&ordering=...`
//! strictly ([`ListQuery::parse`], 400/422 on anything unknown); the admin
//! parses its Django-admin parameters leniently into the same [`Filter`]s
//! ([`Filter::parse`]) and runs them through the same [`fetch`]. Code that
//! knows a model only at run time reads its rows through [`DynRows`]; the
//! app's [`Models`] holds every registered model's.

mod cursor;
mod execute;
mod load;
mod lookup;
mod matches;
mod ordering;
mod parse;
mod rows;
mod settings;
mod statements;

use sea_orm::Value;
use serde_json::Value as Json;

use crate::error::{ErrorDetail, ErrorKind};
use crate::model::{FieldMeta, ModelMeta};

pub use cursor::encode_cursor;
pub use execute::{
    Fetched, FetchedRead, column, count, fetch, fetch_read, page_select, select_read_by_key,
    text_position,
};
pub use load::{BoxFut, LoadByKeys, LoadLabels, LoadedRows, RowSource, load_by_keys, load_labels};
pub use lookup::{
    FilterError, Lookup, integer_range, integer_value, null_of, parse_value, range_ctx,
    value_from_json,
};
pub use ordering::{OrderTerm, default_ordering, make_total};
pub use parse::parse_expand;
pub use rows::{DynRows, ModelRows, Models, ReadRow, RowView, read_row, row_view, value_text};
pub use settings::{ListSettings, max_page, search_words};

/// Query parameters every list accepts besides filters.
pub const RESERVED: &[&str] = &[
    "page",
    "page_size",
    "cursor",
    "ordering",
    "search",
    "expand",
];

/// One `?field__lookup=value` condition.
#[derive(Clone, Debug)]
pub struct Filter {
    /// The filtered field.
    pub field: &'static FieldMeta,
    /// How it is compared.
    pub lookup: Lookup,
    /// The parsed operand(s): one, several for `__in`, a bool for `__isnull`.
    pub values: Vec<Value>,
}

/// How a list is cut into pages.
#[derive(Clone, Debug)]
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

/// A parsed list query: what the REST list and the admin change list
/// both run through [`fetch`] and [`count`].
#[derive(Clone, Debug)]
pub struct ListQuery {
    /// Conditions, all of which must hold.
    pub filters: Vec<Filter>,
    /// Search terms; each must appear in one of `search_fields` (or,
    /// with `search_primary_key`, be the row's primary key).
    pub search: Vec<String>,
    /// The fields searched, case-insensitively: `#[api(search(...))]` for
    /// the REST list, `#[admin(search(...))]` for the change list.
    pub search_fields: Vec<&'static FieldMeta>,
    /// Whether a search word also matches a row by its primary key (the
    /// admin's search box and autocomplete: typing `42` finds row 42).
    pub search_primary_key: bool,
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

fn allowed_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

impl ListQuery {
    /// Page `page` (from 1) of `page_size` rows of every row of `meta`, in
    /// its default ordering: the start of a query built in code, which
    /// [`ListQuery::filter`] and the public fields then narrow.
    pub fn page(meta: &'static ModelMeta, page: u64, page_size: u64) -> ListQuery {
        ListQuery {
            filters: Vec::new(),
            search: Vec::new(),
            search_fields: Vec::new(),
            search_primary_key: false,
            ordering: make_total(meta, default_ordering(meta)),
            pagination: Pagination::Page { page, page_size },
            expand: Vec::new(),
        }
    }

    /// Every row of `meta`, in its default ordering, on one unpaged answer:
    /// for code that wants all matching rows (bounded by its filters).
    pub fn all(meta: &'static ModelMeta) -> ListQuery {
        ListQuery {
            pagination: Pagination::All { slice: None },
            ..ListQuery::page(meta, 1, 1)
        }
    }

    /// This query with one more condition.
    pub fn filter(mut self, filter: Filter) -> ListQuery {
        self.filters.push(filter);
        self
    }
}
