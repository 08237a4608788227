//! The admin site at `/admin/`: Django's admin for every registered model,
//! server-rendered and permission-aware.
//!
//! - Sessions live in `django_session` and CSRF uses Django's cookie and
//!   form field (auth's [`session`] store, which the API shares); only
//!   active staff users log in.
//! - Each model gets a change list, add and change forms, a delete
//!   confirmation and a history, shaped by `#[admin(...)]` on the struct.
//! - Every add, change and delete is recorded in `django_admin_log`
//!   ([`models::LogEntry`]), Django's own table.
//! - A change list says which rows changed after it was loaded: it
//!   follows the change log ([`crate::changes`]) from the cursor it was
//!   rendered at, through `/admin/{app}/{model}/changes/` and the admin's
//!   script.
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
mod history;
mod list_query;
mod login;
pub mod model_admin;
pub mod models;
mod objects;
pub mod ops;
mod recent;
mod site;
pub mod templates;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use crate::db::Connection;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{MethodRouter, get};
use tower_http::set_header::SetResponseHeaderLayer;

pub use auth_admin::UserAdmin;
pub use context::{AdminCtx, PageResult, Reject, redirect, safe_next, server_error};
pub use history::{LogAction, change_message, describe_change_message, log_action};
pub use model_admin::{Confirmation, DefaultAdmin, ModelAdmin, OwnPage};
pub use models::{LogEntry, Session};
pub use ops::{AdminOps, AdminRow, DynRows, LoadLabels, Ops, load_labels};

use crate::auth::session;
use crate::error::ApiError;
use crate::state::{AppState, Router};

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
    /// Form hooks by table; models not here get [`DefaultAdmin`].
    pub model_admins: HashMap<&'static str, Arc<dyn ModelAdmin>>,
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
            model_admins: HashMap::from([(
                <crate::auth::User as crate::model::Model>::meta().table,
                Arc::new(UserAdmin) as Arc<dyn ModelAdmin>,
            )]),
        }
    }

    /// Registers the form hooks of the model on `table`, replacing any.
    pub fn register_model_admin(&mut self, table: &'static str, hooks: Arc<dyn ModelAdmin>) {
        self.model_admins.insert(table, hooks);
    }

    /// The form hooks of `meta`'s model.
    pub fn model_admin(&self, meta: &crate::model::ModelMeta) -> Arc<dyn ModelAdmin> {
        match self.model_admins.get(meta.table) {
            Some(hooks) => hooks.clone(),
            None => Arc::new(DefaultAdmin),
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

/// What a state without the admin's slot answers: an admin of no model.
static NO_ADMIN: std::sync::LazyLock<Arc<AdminState>> = std::sync::LazyLock::new(|| {
    Arc::new(AdminState::new(
        None,
        Vec::new(),
        HashMap::new(),
        SiteSettings::default(),
    ))
});

impl AppState {
    /// The admin's templates, models and settings, installed when the app
    /// is built; a state built without them has an admin of no model.
    pub fn admin(&self) -> &Arc<AdminState> {
        self.layer::<Arc<AdminState>>().unwrap_or(&NO_ADMIN)
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
    ("/admin/{app}/{model}/changes/", &["get"]),
];

/// The admin's routes, under `/admin/`.
pub(crate) fn router(pages: Vec<(String, MethodRouter<AppState>)>) -> Router {
    let mut router = Router::new()
        .route("/admin", get(|| async { redirect("/admin/") }))
        .route("/admin/", get(site::index))
        .route("/admin/login/", get(login::login_form).post(login::login))
        .route("/admin/logout/", get(login::logout_get).post(login::logout))
        .route(
            "/admin/password_change/",
            get(login::password_change_form).post(login::password_change),
        )
        .route("/admin/static/admin.css", get(site::stylesheet))
        .route("/admin/static/admin.js", get(site::script))
        .route("/admin/{app}/", get(site::app_index))
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
        .route("/admin/{app}/{model}/{pk}/history/", get(history::history))
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
        )
        .route("/admin/{app}/{model}/changes/", get(recent::recent_changes));
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
