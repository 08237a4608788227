//! The bounds of one list request ([`ListSettings`]) and the 422s for a
//! query string past them.

use serde_json::json;

use super::detail;
use crate::error::{ErrorDetail, ErrorKind};

/// What one list request may ask for, set with [`App::page_size`](crate::App::page_size)
/// and [`App::list_limits`](crate::App::list_limits). Every user-controlled
/// list in a query string is bounded here before it becomes an SQL
/// expression, so no query string can build an expression tree deep enough
/// to overflow a stack or a database's parser; a request past a bound gets a
/// 422 naming the parameter, with the bound in `ctx`. The admin applies the
/// search bounds too, by ignoring what is past them (its pages never answer
/// a bad query string with an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListSettings {
    /// `page_size` when the client sends none (50).
    pub default_page_size: u64,
    /// The largest `page_size` accepted (100); a larger one is refused (422
    /// `less_than_equal`), not clamped, so a client never gets fewer rows
    /// than it asked for without noticing.
    pub max_page_size: u64,
    /// Words in `search` (20): each word is one more `AND (... OR ...)`.
    pub max_search_words: usize,
    /// Characters in `search`, all `search` parameters together (200).
    pub max_search_length: usize,
    /// Filter parameters (`field__lookup=value`) in one query (100). The
    /// OpenAPI document cannot state this bound, so the default stays above
    /// the number of filter parameters a model usually documents (the blog's
    /// `Post` has 51): a client using each documented filter once is never refused.
    pub max_filters: usize,
    /// Characters in one filter value, or in each item of an `__in` list (1000).
    pub max_filter_value_length: usize,
    /// Items in one `__in` list (100).
    pub max_in_values: usize,
    /// Terms in `ordering` (8); a cursor's condition grows with the square of this.
    pub max_ordering_terms: usize,
    /// Distinct names in `expand` (10); repeated names count once.
    pub max_expand: usize,
    /// Characters in a `cursor` (4096). A cursor holds the last row's
    /// ordering values: raise this when a list orders by long text.
    pub max_cursor_length: usize,
}

impl ListSettings {
    /// The largest `page` accepted: its rows' offset must fit the i64 the
    /// database binds (a larger one panicked in the SQL binder).
    pub fn max_page(&self) -> u64 {
        i64::MAX as u64 / self.max_page_size.max(1)
    }
}

impl Default for ListSettings {
    fn default() -> Self {
        ListSettings {
            default_page_size: 50,
            max_page_size: 100,
            max_search_words: 20,
            max_search_length: 200,
            max_filters: 100,
            max_filter_value_length: 1000,
            max_in_values: 100,
            max_ordering_terms: 8,
            max_expand: 10,
            max_cursor_length: 4096,
        }
    }
}

/// The 422 for a list parameter with more items than `max` (Pydantic's `too_long`).
pub(super) fn too_many(loc: &str, what: &str, max: usize, actual: usize) -> ErrorDetail {
    detail(
        loc,
        ErrorKind::TooLong,
        format!("{what} should have at most {max} items, not {actual}"),
    )
    .with_ctx(json!({ "field_type": what, "max_length": max, "actual_length": actual }))
}

/// The 422 for a text parameter longer than `max` characters (Pydantic's `string_too_long`).
pub(super) fn too_long_text(loc: &str, max: usize) -> ErrorDetail {
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
