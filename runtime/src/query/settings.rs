//! The bounds of one list request ([`ListSettings`]) and the 422s for a
//! query string past them.

use serde_json::json;

use super::detail;
use crate::error::{ErrorDetail, ErrorKind};

pub use crate::state::ListSettings;

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
