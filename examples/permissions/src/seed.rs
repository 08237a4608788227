//! The benchmark's data: the rows Django 5.2's `migrate` writes for a fresh
//! project (6 content types, 24 permissions), or `--rows N` synthetic ones.

use ferrobridge::__private::sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, TransactionTrait,
};
use ferrobridge::db::Connection;
use serde::Deserialize;

use crate::{content_type, permission};

/// `data/django-permissions.json`: Django's rows and the expected response.
pub const DJANGO_JSON: &str = include_str!("../data/django-permissions.json");

/// How many permissions Django writes.
pub const DJANGO_ROWS: usize = 24;

/// The reference data.
#[derive(Debug, Deserialize)]
pub struct Reference {
    /// `django_content_type` rows.
    pub django_content_type: Vec<ContentTypeRow>,
    /// `auth_permission` rows.
    pub auth_permission: Vec<PermissionRow>,
    /// What the endpoint answers on these rows.
    pub seed_endpoint_response: serde_json::Value,
}

/// One `django_content_type` row.
#[derive(Debug, Deserialize)]
pub struct ContentTypeRow {
    /// Primary key.
    pub id: i32,
    /// App label.
    pub app_label: String,
    /// Model name.
    pub model: String,
}

/// One `auth_permission` row.
#[derive(Debug, Clone, Deserialize)]
pub struct PermissionRow {
    /// Primary key.
    pub id: i32,
    /// Human-readable name.
    pub name: String,
    /// Content type.
    pub content_type_id: i32,
    /// Code name.
    pub codename: String,
}

/// The parsed reference data.
pub fn reference() -> Reference {
    serde_json::from_str(DJANGO_JSON).expect("data/django-permissions.json is valid")
}

/// The exact body the list endpoint answers on Django's 24 rows (904 bytes).
pub fn expected_body() -> String {
    serde_json::to_string(&reference().seed_endpoint_response).expect("serializable")
}

/// The permission rows for `rows`: Django's own for 24, else `rows`
/// synthetic ones spread over the six content types.
pub fn permission_rows(rows: usize) -> Vec<PermissionRow> {
    if rows == DJANGO_ROWS {
        return reference().auth_permission;
    }
    (1..=rows)
        .map(|i| PermissionRow {
            id: i as i32,
            name: format!("Can do thing {i}"),
            content_type_id: ((i - 1) % 6) as i32 + 1,
            codename: format!("perm_{i:06}"),
        })
        .collect()
}

/// Applies the two tables' migrations (recorded only when the tables exist,
/// as in a real Django database), and fills them if empty; a table that
/// already has rows is left as it is.
pub async fn prepare(db: &Connection, rows: usize) -> anyhow::Result<()> {
    crate::app().migrate(db, None, |_, _| {}).await?;
    if content_type::Entity::find().count(db).await? == 0 {
        let models =
            reference()
                .django_content_type
                .into_iter()
                .map(|c| content_type::ActiveModel {
                    id: Set(c.id),
                    app_label: Set(c.app_label),
                    model: Set(c.model),
                });
        content_type::Entity::insert_many(models).exec(db).await?;
    }
    if permission::Entity::find().count(db).await? == 0 && rows > 0 {
        let txn = db.begin().await?;
        for chunk in permission_rows(rows).chunks(1000) {
            let models = chunk.iter().cloned().map(|p| permission::ActiveModel {
                id: Set(p.id),
                name: Set(p.name),
                content_type_id: Set(p.content_type_id),
                codename: Set(p.codename),
            });
            permission::Entity::insert_many(models).exec(&txn).await?;
        }
        txn.commit().await?;
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // Explicit ids do not move PostgreSQL's sequences: move them past the rows.
        for table in ["django_content_type", "auth_permission"] {
            db.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .await?;
        }
    }
    Ok(())
}
