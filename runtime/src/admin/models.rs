//! The admin's table, in Django's layout so a database shared with a
//! Django project keeps one history: `django_admin_log`. The session store
//! (`django_session`) belongs to auth, which the API shares with the admin.

use crate::Model;
use crate::auth::models::{ContentType, User};
pub use crate::auth::models::{Session, session};
use sea_orm::prelude::DateTimeUtc;

/// One add, change or delete made in the admin (Django's `LogEntry`).
#[derive(Model, Clone, Debug, PartialEq)]
#[model(
    app = "admin",
    table = "django_admin_log",
    ordering = "-action_time",
    display = "{object_repr}"
)]
#[admin(hidden)]
pub struct LogEntry {
    #[field(primary_key)]
    pub id: i32,
    /// When it happened.
    pub action_time: DateTimeUtc,
    /// Who did it.
    #[field(references = User, on_delete = "cascade")]
    pub user_id: i32,
    /// The model of the object.
    #[field(references = ContentType, on_delete = "set_null")]
    pub content_type_id: Option<i32>,
    /// The object's primary key, as text.
    #[field(text)]
    pub object_id: Option<String>,
    /// The object's display string at the time.
    #[field(max_length = 200)]
    pub object_repr: String,
    /// 1 addition, 2 change, 3 deletion (Django's flags).
    pub action_flag: i16,
    /// Django's JSON message: `[{"changed": {"fields": ["Title"]}}]`.
    #[field(text)]
    pub change_message: String,
}

/// `SELECT` of log entries that also reads Django's MySQL table: Django
/// declares `action_flag` (a `PositiveSmallIntegerField`) `smallint
/// UNSIGNED` there, which the MySQL driver refuses to decode as the model's
/// `i16`, so on MySQL the column is read through `CAST(... AS SIGNED)`.
/// Elsewhere it is `log_entry::Entity::find()`.
pub fn find_log_entries(backend: sea_orm::DbBackend) -> sea_orm::Select<log_entry::Entity> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait};
    use sea_orm::{EntityTrait, Iterable, QuerySelect};

    let select = log_entry::Entity::find();
    if backend != sea_orm::DbBackend::MySql {
        return select;
    }
    let flag = log_entry::Column::ActionFlag;
    select
        .select_only()
        .columns(log_entry::Column::iter().filter(|c| !matches!(c, log_entry::Column::ActionFlag)))
        .expr_as(
            Expr::col((log_entry::Entity, flag)).cast_as(Alias::new("SIGNED")),
            "action_flag",
        )
}
