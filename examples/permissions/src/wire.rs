//! What the hand-written variants send and receive; the same bytes as the
//! generated `PermissionRead` and `PermissionCreate`.

use serde::{Deserialize, Serialize};

/// One permission as the endpoint shows it.
#[derive(Debug, Serialize)]
pub struct Item {
    /// The primary key.
    pub pk: i32,
    /// The human-readable name.
    pub name: String,
}

/// The list body.
#[derive(Debug, Serialize)]
pub struct Items {
    /// The rows.
    pub items: Vec<Item>,
}

/// The create body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPermission {
    /// At most 255 characters.
    pub name: String,
    /// An existing `django_content_type.id`.
    pub content_type_id: i32,
    /// At most 100 characters.
    pub codename: String,
}

impl NewPermission {
    /// Django's length limits; the message of the first one broken.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.name.chars().count() > 255 {
            return Err("name: at most 255 characters");
        }
        if self.codename.chars().count() > 100 {
            return Err("codename: at most 100 characters");
        }
        Ok(())
    }
}

/// `?page=&page_size=` as the generated list reads them when pagination is
/// off: no parameter, every row; else page `page` (from 1) of `page_size`
/// (default 50, at most 100) rows.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    /// Page number, from 1.
    pub page: Option<u64>,
    /// Rows per page, 1 to 100.
    pub page_size: Option<u64>,
}

impl Paging {
    /// `(limit, offset)`, `None` for every row, `Err` when out of bounds.
    pub fn limit_offset(&self) -> Result<Option<(u64, u64)>, &'static str> {
        if self.page.is_none() && self.page_size.is_none() {
            return Ok(None);
        }
        let page = self.page.unwrap_or(1);
        let size = self.page_size.unwrap_or(50);
        if page < 1 || !(1..=100).contains(&size) {
            return Err("page >= 1 and 1 <= page_size <= 100");
        }
        Ok(Some((size, (page - 1).saturating_mul(size))))
    }
}

/// The JSON error body of the hand-written variants.
pub fn error(status: axum::http::StatusCode, detail: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status, axum::Json(serde_json::json!({ "detail": detail }))).into_response()
}
