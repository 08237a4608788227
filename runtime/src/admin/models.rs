//! The admin's tables, in Django's layout so a database shared with a
//! Django project keeps one history and one session store:
//! `django_session` and `django_admin_log`.

use crate::Model;
use crate::auth::models::{ContentType, User};
use sea_orm::prelude::DateTimeUtc;

/// A login session of the admin site (Django's `django_session`). The
/// cookie holds only the key; the data stays in the database, so any
/// instance can serve any request.
#[derive(Model, Clone, PartialEq)]
#[model(app = "sessions", table = "django_session")]
#[admin(hidden)]
pub struct Session {
    /// The random key the `sessionid` cookie carries.
    #[field(primary_key, max_length = 40)]
    pub session_key: String,
    /// JSON: the user, their password's fingerprint and pending messages.
    #[field(text, write_only)]
    pub session_data: String,
    /// After this the session is gone.
    #[field(index)]
    pub expire_date: DateTimeUtc,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("expire_date", &self.expire_date)
            .finish_non_exhaustive()
    }
}

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
