//! The admin site at `/admin/`: Django's admin for every registered model,
//! server-rendered and permission-aware.
//!
//! - Sessions live in `django_session` and CSRF uses Django's cookie and
//!   form field ([`session`]); only active staff users log in.
//! - Each model gets a change list, add and change forms, a delete
//!   confirmation and a history, shaped by `#[admin(...)]` on the struct.
//! - Every add, change and delete is recorded in `django_admin_log`
//!   ([`models::LogEntry`]), Django's own table.
//! - Templates are minijinja with auto-escaping, embedded in the binary and
//!   overridable from a directory ([`templates`]).
//!
//! The app adds its own pages and bulk actions:
//!
//! ```no_run
//! use ferrobridge::admin::{ActionOutcome, AdminCtx, PageResult};
//! use ferrobridge::prelude::*;
//! # #[derive(Model, Clone, Debug)] #[model(app = "blog")]
//! # pub struct Post { #[field(primary_key)] pub id: i64 }
//!
//! async fn report(mut ctx: AdminCtx) -> PageResult {
//!     ctx.staff()?;
//!     Ok(ctx.render("report.html", minijinja::context! { title => "Report" }))
//! }
//!
//! ferrobridge::App::new("blog")
//!     .model::<Post>()
//!     .admin_templates("templates") // templates/report.html extends "admin/base.html"
//!     .admin_page("/admin/report/", "Report", get(report))
//!     .admin_action::<Post, _, _>("archive", "Archive selected posts", |db, pks| async move {
//!         let _ = (db, &pks);
//!         Ok(ActionOutcome::message(format!("{} posts archived.", pks.len())))
//!     });
//! ```

// Page handlers return `Result<Response, Reject>`: the error is a ready page
// (redirect, 403, 404) on a path taken once per request, so its size costs nothing.
#![allow(clippy::result_large_err)]

mod auth_admin;
mod autocomplete;
mod changelist;
mod context;
mod delete;
pub mod forms;
mod list_query;
pub mod models;
pub mod ops;
pub mod session;
pub mod templates;
mod views;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use crate::db::Connection;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{MethodRouter, get};
use tower_http::set_header::SetResponseHeaderLayer;

pub use context::{AdminCtx, PageResult, Reject, redirect, safe_next, server_error};
pub(crate) use delete::{DeleteRights, collect_with};
pub use models::{LogEntry, Session};
pub use ops::{AdminOps, AdminRow, LoadLabels, Ops, load_labels};
pub use session::SessionAuthenticator;

use crate::app::{AppState, Router};
use crate::error::ApiError;

/// Settings of the admin site, set through [`App`](crate::App) methods.
#[derive(Clone, Debug)]
pub struct SiteSettings {
    /// The `<title>` suffix ("Ferrobridge site admin").
    pub title: String,
    /// The header at the top of every page.
    pub header: String,
    /// Session and CSRF cookie attributes.
    pub cookies: session::CookiePolicy,
    /// Custom pages, linked from the header.
    pub pages: Vec<AdminPage>,
}

impl Default for SiteSettings {
    fn default() -> Self {
        SiteSettings {
            title: "Site administration".into(),
            header: "Ferrobridge administration".into(),
            cookies: session::CookiePolicy::default(),
            pages: Vec::new(),
        }
    }
}

/// A custom page of the admin, added with [`App::admin_page`](crate::App::admin_page).
#[derive(Clone, Debug)]
pub struct AdminPage {
    /// Where it is served (`/admin/report/`).
    pub path: String,
    /// Its link text.
    pub title: String,
}

/// What a bulk action reports back, shown as a message on the change list.
#[derive(Clone, Debug)]
pub struct ActionOutcome {
    /// The message ("3 posts were published.").
    pub message: String,
}

impl ActionOutcome {
    /// An outcome with this success message.
    pub fn message(text: impl Into<String>) -> Self {
        ActionOutcome {
            message: text.into(),
        }
    }
}

/// A bulk action's code: the database and the selected primary keys.
pub type ActionFn = Arc<
    dyn Fn(Connection, Vec<String>) -> ops::BoxFut<'static, Result<ActionOutcome, ApiError>>
        + Send
        + Sync,
>;

/// A bulk action of a change list, registered with
/// [`App::admin_action`](crate::App::admin_action). It needs the model's
/// `change` permission.
#[derive(Clone)]
pub struct AdminAction {
    /// The name sent by the form (`publish`).
    pub name: String,
    /// The label in the action menu ("Publish selected posts").
    pub description: String,
    /// The code.
    pub run: ActionFn,
}

impl std::fmt::Debug for AdminAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAction")
            .field("name", &self.name)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl AdminAction {
    /// An action from an async function of the database and selected keys.
    pub fn new<F, Fut>(name: &str, description: &str, run: F) -> Self
    where
        F: Fn(Connection, Vec<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ActionOutcome, ApiError>> + Send + 'static,
    {
        AdminAction {
            name: name.to_string(),
            description: description.to_string(),
            run: Arc::new(move |db, pks| Box::pin(run(db, pks))),
        }
    }
}

/// What the admin keeps while serving: templates, models and settings.
pub struct AdminState {
    /// The template environment.
    pub env: minijinja::Environment<'static>,
    /// Every model in the admin, in registration order.
    pub models: Vec<Arc<dyn AdminOps>>,
    /// Bulk actions by table.
    pub actions: HashMap<&'static str, Vec<AdminAction>>,
    /// Site settings.
    pub site: SiteSettings,
}

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState")
            .field("models", &self.models.len())
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}

impl AdminState {
    /// The admin state of an app.
    pub fn new(
        templates: Option<PathBuf>,
        models: Vec<Arc<dyn AdminOps>>,
        actions: HashMap<&'static str, Vec<AdminAction>>,
        site: SiteSettings,
    ) -> Self {
        AdminState {
            env: templates::environment(templates),
            models,
            actions,
            site,
        }
    }

    /// The model `app_label.model_name`, if it is in the admin.
    pub fn find(&self, app: &str, model: &str) -> Option<Arc<dyn AdminOps>> {
        self.models
            .iter()
            .find(|ops| ops.meta().app_label == app && ops.meta().model_name == model)
            .cloned()
    }

    /// The admin model of table `table`.
    pub fn by_table(&self, table: &str) -> Option<Arc<dyn AdminOps>> {
        self.models
            .iter()
            .find(|ops| ops.meta().table == table)
            .cloned()
    }
}

/// The paths and methods [`router`] routes (custom pages aside), for the
/// clash check that runs before any router is built.
pub(crate) const ROUTES: &[(&str, &[&str])] = &[
    ("/admin", &["get"]),
    ("/admin/", &["get"]),
    ("/admin/login/", &["get", "post"]),
    ("/admin/logout/", &["get", "post"]),
    ("/admin/password_change/", &["get", "post"]),
    ("/admin/static/admin.css", &["get"]),
    ("/admin/static/admin.js", &["get"]),
    ("/admin/{app}/", &["get"]),
    ("/admin/auth/user/{pk}/password/", &["get", "post"]),
    ("/admin/{app}/{model}/", &["get", "post"]),
    ("/admin/{app}/{model}/{pk}/delete/", &["get", "post"]),
    ("/admin/{app}/{model}/{pk}/history/", &["get"]),
    ("/admin/{app}/{model}/add/", &["get", "post"]),
    ("/admin/{app}/{model}/{pk}/change/", &["get", "post"]),
    ("/admin/{app}/{model}/autocomplete/", &["get"]),
];

/// The admin's routes, under `/admin/`.
pub(crate) fn router(pages: Vec<(String, MethodRouter<AppState>)>) -> Router {
    let mut router = Router::new()
        .route("/admin", get(|| async { redirect("/admin/") }))
        .route("/admin/", get(views::index))
        .route("/admin/login/", get(views::login_form).post(views::login))
        .route("/admin/logout/", get(views::logout_get).post(views::logout))
        .route(
            "/admin/password_change/",
            get(views::password_change_form).post(views::password_change),
        )
        .route("/admin/static/admin.css", get(views::stylesheet))
        .route("/admin/static/admin.js", get(views::script))
        .route("/admin/{app}/", get(views::app_index))
        .route(
            "/admin/auth/user/{pk}/password/",
            get(auth_admin::set_password_form).post(auth_admin::set_password),
        )
        .route(
            "/admin/{app}/{model}/",
            get(changelist::changelist).post(changelist::changelist_action),
        )
        .route(
            "/admin/{app}/{model}/{pk}/delete/",
            get(delete::delete_view).post(delete::delete_post),
        )
        .route("/admin/{app}/{model}/{pk}/history/", get(delete::history))
        .route(
            "/admin/{app}/{model}/add/",
            get(forms::add_form).post(forms::add),
        )
        .route(
            "/admin/{app}/{model}/{pk}/change/",
            get(forms::change_form).post(forms::change),
        )
        .route(
            "/admin/{app}/{model}/autocomplete/",
            get(autocomplete::autocomplete),
        );
    for (path, method_router) in pages {
        router = router.route(&path, method_router);
    }
    // Every admin answer (pages, redirects, assets, custom pages) may not be
    // framed and runs only the admin's own script and stylesheet.
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(crate::security::ADMIN_CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
}

/// The model's plural name in words (`posts`), from its URL plural.
pub fn verbose_name_plural(meta: &crate::model::ModelMeta) -> String {
    meta.plural.replace('_', " ")
}

/// A primary key as one URL path segment.
pub fn quote_pk(pk: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(pk, SEGMENT).to_string()
}

/// Django's `LogEntry.action_flag` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogAction {
    /// 1: an object was added.
    Addition = 1,
    /// 2: an object was changed.
    Change = 2,
    /// 3: an object was deleted.
    Deletion = 3,
}

/// Records an admin action in `django_admin_log`, as Django's admin does:
/// `message` is Django's JSON change message (see [`change_message`]).
pub async fn log_action(
    db: &Connection,
    user_id: i32,
    meta: &crate::model::ModelMeta,
    object_id: &str,
    object_repr: &str,
    action: LogAction,
    message: serde_json::Value,
) -> Result<(), sea_orm::DbErr> {
    use crate::auth::models::content_type;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    let content_type_id = content_type::Entity::find()
        .filter(content_type::Column::AppLabel.eq(meta.app_label))
        .filter(content_type::Column::Model.eq(meta.model_name))
        .one(db)
        .await?
        .map(|t| t.id);
    let repr: String = object_repr.chars().take(200).collect();
    models::log_entry::ActiveModel {
        action_time: Set(chrono::Utc::now()),
        user_id: Set(user_id),
        content_type_id: Set(content_type_id),
        object_id: Set(Some(object_id.to_string())),
        object_repr: Set(repr),
        action_flag: Set(action as i16),
        change_message: Set(message.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Django's change message: `[{"added": {}}]`, `[{"changed": {"fields":
/// ["Title"]}}]` or `[{"deleted": {}}]`; inline rows add
/// `{"added": {"name": "post", "object": "..."}}` entries.
pub fn change_message(action: LogAction, changed_fields: &[String]) -> serde_json::Value {
    match action {
        LogAction::Addition => serde_json::json!([{ "added": {} }]),
        LogAction::Deletion => serde_json::json!([{ "deleted": {} }]),
        LogAction::Change if changed_fields.is_empty() => serde_json::json!([]),
        LogAction::Change => serde_json::json!([{ "changed": { "fields": changed_fields } }]),
    }
}

/// A change message as a sentence ("Changed Title and Body."), as
/// Django's `LogEntry.get_change_message`.
pub fn describe_change_message(message: &str) -> String {
    let Ok(serde_json::Value::Array(parts)) = serde_json::from_str::<serde_json::Value>(message)
    else {
        return message.to_string();
    };
    let mut sentences = Vec::new();
    for part in parts {
        let Some((kind, detail)) = part.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        let object = match (detail.get("name"), detail.get("object")) {
            (Some(name), Some(object)) => format!(
                " {} “{}”",
                name.as_str().unwrap_or(""),
                object.as_str().unwrap_or("")
            ),
            _ => String::new(),
        };
        match kind.as_str() {
            "added" => sentences.push(format!("Added{object}.")),
            "deleted" => sentences.push(format!("Deleted{object}.")),
            "changed" => {
                let fields: Vec<&str> = detail
                    .get("fields")
                    .and_then(|f| f.as_array())
                    .map(|f| f.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                let list = match fields.as_slice() {
                    [] => String::new(),
                    [one] => (*one).to_string(),
                    [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
                };
                let on = if object.is_empty() {
                    String::new()
                } else {
                    format!(" for{object}")
                };
                sentences.push(format!("Changed {list}{on}."));
            }
            _ => {}
        }
    }
    if sentences.is_empty() {
        "No fields changed.".to_string()
    } else {
        sentences.join(" ")
    }
}

/// Checks what the derive could not: each `#[admin(inlines(...))]` model is
/// registered and has a foreign key to the model it is inlined in.
pub fn check_inlines(models: &[Arc<dyn AdminOps>]) -> Result<(), String> {
    for ops in models {
        let meta = ops.meta();
        for inline in meta.admin.inlines {
            let inline = inline();
            if !models.iter().any(|m| std::ptr::eq(m.meta(), inline)) {
                return Err(format!(
                    "{}: #[admin(inlines({}))] names a model that is not registered: add `.model::<{}>()`",
                    meta.object_name, inline.object_name, inline.object_name
                ));
            }
            if inline_key(meta, inline).is_none() {
                return Err(format!(
                    "{}: #[admin(inlines({}))]: {} has no foreign key to {}",
                    meta.object_name, inline.object_name, inline.object_name, meta.object_name
                ));
            }
        }
    }
    Ok(())
}

/// The foreign key of `inline` that references `parent`.
pub fn inline_key(
    parent: &crate::model::ModelMeta,
    inline: &crate::model::ModelMeta,
) -> Option<&'static crate::model::FieldMeta> {
    inline
        .fields
        .iter()
        .find(|f| f.references.is_some_and(|r| r().table == parent.table))
}
