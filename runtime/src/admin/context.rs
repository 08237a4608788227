//! [`AdminCtx`]: what every admin page starts from — the session, the
//! logged-in user, the CSRF token — and how pages answer: rendered
//! templates, redirects with a message, 403 and 404 pages.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Value as Ctx, context};

use super::{AdminState, ops::AdminOps};
use crate::auth::AuthUser;
use crate::auth::session::{self, CSRF_COOKIE, Message, SessionData};
use crate::model::{Action, ModelMeta};
use crate::state::AppState;

/// The admin's view of a request.
pub struct AdminCtx {
    /// The app's state (database, settings).
    pub state: AppState,
    /// The session's key, once there is one.
    pub session_key: Option<String>,
    /// The session's data (empty for visitors without one).
    pub session: SessionData,
    /// The logged-in user (active, with a valid session).
    pub user: Option<Arc<AuthUser>>,
    /// The CSRF token forms must send back.
    pub csrf: String,
    csrf_is_new: bool,
    key: crate::security::SecretKey,
    /// The request's path and query, for `?next=` after login.
    pub path: String,
    /// The request's headers (for the CSRF origin check).
    pub headers: HeaderMap,
}

/// A page that is not a normal answer: a redirect to the login page, a 403
/// or 404 page, or a failure. Handlers return `Result<Response, Reject>`.
pub struct Reject(pub Response);

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        self.0
    }
}

/// What admin handlers return.
pub type PageResult = Result<Response, Reject>;

impl FromRequestParts<AppState> for AdminCtx {
    type Rejection = Reject;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Reject> {
        let db = &state.db;
        let loaded = session::load(db, &parts.headers)
            .await
            .map_err(|e| Reject(server_error(e)))?;
        let (session_key, data) = match loaded {
            Some((key, data)) => (Some(key), data),
            None => (None, SessionData::default()),
        };
        let user = session::session_user(db, &data)
            .await
            .map_err(|e| Reject(server_error(e)))?
            .map(|u| Arc::new(AuthUser::new(u)));
        let key = session::secret_key(parts);
        // A cookie signed for another session (or key) is replaced, so the
        // page's forms carry a token that will pass.
        let cookie = session::cookie(&parts.headers, CSRF_COOKIE)
            .filter(|c| session::csrf_token_valid(&key, session_key.as_deref(), c));
        let (csrf, csrf_is_new) = match cookie {
            Some(token) => (token, false),
            None => (
                session::new_csrf_token(&key, session_key.as_deref())
                    .map_err(|e| Reject(server_error(e)))?,
                true,
            ),
        };
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/admin/".into());
        Ok(AdminCtx {
            state: state.clone(),
            session_key,
            session: data,
            user,
            csrf,
            csrf_is_new,
            key,
            path,
            headers: parts.headers.clone(),
        })
    }
}

/// A logged 500 page that says nothing about the cause; a 503 page with
/// `Retry-After` when the cause is an unreachable database
/// ([`is_unavailable`](crate::error::is_unavailable)).
pub fn server_error(error: impl std::fmt::Display + 'static) -> Response {
    if crate::error::is_unavailable_cause(&error) {
        tracing::warn!(%error, "admin request failed: database unavailable");
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            Html(
                "<h1>Service unavailable</h1><p>The database cannot be reached right now; \
                 try again in a moment.</p>",
            ),
        )
            .into_response();
        crate::error::unavailable_headers(response.headers_mut());
        return response;
    }
    tracing::error!(%error, "admin request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html("<h1>Server error</h1><p>Something went wrong; it has been logged.</p>"),
    )
        .into_response()
}

impl AdminCtx {
    /// The admin's shared state.
    pub fn admin(&self) -> &Arc<AdminState> {
        self.state.admin()
    }

    /// The logged-in staff user, or a redirect to the login page.
    pub fn staff(&self) -> Result<Arc<AuthUser>, Reject> {
        match &self.user {
            Some(user) if user.is_staff && user.is_active => Ok(user.clone()),
            _ => {
                let next: String = form_urlencoded::byte_serialize(self.path.as_bytes()).collect();
                Err(Reject(redirect(&format!("/admin/login/?next={next}"))))
            }
        }
    }

    /// Whether the user may `action` (`view`, `add`, `change`, `delete`) on `meta`.
    pub async fn has_perm(&self, meta: &ModelMeta, action: Action) -> bool {
        let Some(user) = &self.user else {
            return false;
        };
        let code = meta.permission_code(action);
        user.has_perm(&self.state.db, &code).await.unwrap_or(false)
    }

    /// Whether the user may see rows of `meta`: its `view` or `change`
    /// permission, as Django's `has_view_or_change_permission`.
    pub async fn can_view(&self, meta: &ModelMeta) -> bool {
        self.has_perm(meta, Action::View).await || self.has_perm(meta, Action::Change).await
    }

    /// Ok when the user may `action` on `meta`, else the 403 page.
    pub async fn require_perm(&mut self, meta: &ModelMeta, action: Action) -> Result<(), Reject> {
        if self.has_perm(meta, action).await {
            Ok(())
        } else {
            Err(Reject(
                self.forbidden("You don't have permission to do this."),
            ))
        }
    }

    /// The registered admin model `app_label.model_name`, or the 404 page.
    pub fn model(&mut self, app: &str, model: &str) -> Result<Arc<dyn AdminOps>, Reject> {
        match self.admin().find(app, model) {
            Some(ops) => Ok(ops),
            None => Err(Reject(self.not_found())),
        }
    }

    /// Refuses a POST whose CSRF token does not match the cookie (403).
    pub fn check_csrf(&mut self, form: &[(String, String)]) -> Result<(), Reject> {
        let sent = form
            .iter()
            .find(|(k, _)| k == session::CSRF_FIELD)
            .map(|(_, v)| v.as_str());
        match session::csrf_failure(&self.headers, sent, &self.key, self.session_key.as_deref()) {
            None => Ok(()),
            Some(reason) => {
                let mut response = self.render_status(
                    StatusCode::FORBIDDEN,
                    "admin/error.html",
                    context! {
                        title => "Forbidden (403)",
                        message => format!("CSRF verification failed. Request aborted. {reason}"),
                    },
                );
                response.headers_mut().remove(header::SET_COOKIE);
                Err(Reject(response))
            }
        }
    }

    /// The app's secret key.
    pub fn secret_key(&self) -> &crate::security::SecretKey {
        &self.key
    }

    /// Ends this request's session in the CSRF sense: the page rendered
    /// next carries (and sets) a new token for `session_key`.
    pub fn rotate_csrf(&mut self, session_key: Option<&str>) -> Result<(), Reject> {
        self.csrf =
            session::new_csrf_token(&self.key, session_key).map_err(|e| Reject(server_error(e)))?;
        self.csrf_is_new = true;
        Ok(())
    }

    /// Queues a message for the next page the user sees.
    pub async fn message(&mut self, level: &str, text: impl Into<String>) {
        self.session.messages.push(Message {
            level: level.to_string(),
            text: text.into(),
        });
        self.save_session().await;
    }

    async fn save_session(&mut self) {
        if let Some(key) = &self.session_key
            && let Err(e) = session::save(&self.state.db, key, &self.session).await
        {
            tracing::error!(error = %e, "cannot save the admin session");
        }
    }

    /// Renders `template` with `extra` and the site's common context
    /// (`site_title`, `user`, `csrf_token`, `messages`, `nav`).
    pub fn render(&mut self, template: &str, extra: Ctx) -> Response {
        self.render_status(StatusCode::OK, template, extra)
    }

    /// As [`AdminCtx::render`], with another status code.
    pub fn render_status(&mut self, status: StatusCode, template: &str, extra: Ctx) -> Response {
        let before = self.session.clone();
        let messages = std::mem::take(&mut self.session.messages);
        if !messages.is_empty()
            && let Some(key) = self.session_key.clone()
        {
            // Shown once: forget them now; a failure only means showing them
            // again. Only if the session is as read: this write runs after
            // the page is sent, and must not drop a message the user's next
            // request (a form posted at once) queued meanwhile.
            let db = self.state.db.clone();
            let data = self.session.clone();
            tokio::spawn(async move {
                let _ = session::save_if_unchanged(&db, &key, &before, &data).await;
            });
        }
        let user = self.user.as_ref().map(|u| {
            context! {
                username => u.username.clone(),
                is_superuser => u.is_superuser,
                id => u.id,
            }
        });
        let admin = self.admin().clone();
        let common = context! {
            site_title => admin.site.title.clone(),
            site_header => admin.site.header.clone(),
            user => user,
            csrf_token => self.csrf.clone(),
            messages => messages.iter().map(|m| context! { level => m.level.clone(), text => m.text.clone() }).collect::<Vec<_>>(),
            custom_pages => admin.site.pages.iter().map(|p| context! { url => p.path.clone(), title => p.title.clone() }).collect::<Vec<_>>(),
            request_path => self.path.clone(),
        };
        let rendered = admin
            .env
            .get_template(template)
            .and_then(|t| t.render(context! { ..extra, ..common }));
        let mut response = match rendered {
            Ok(html) => (status, Html(html)).into_response(),
            Err(error) => return server_error(format!("template {template}: {error:#}")),
        };
        self.finish(&mut response);
        response
    }

    /// Adds the cookies this request created to `response`.
    pub fn finish(&self, response: &mut Response) {
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-cache, no-store, must-revalidate, private"),
        );
        headers.insert(
            header::HeaderName::from_static("x-frame-options"),
            header::HeaderValue::from_static("DENY"),
        );
        headers.insert(
            header::HeaderName::from_static("x-content-type-options"),
            header::HeaderValue::from_static("nosniff"),
        );
        if self.csrf_is_new {
            session::add_cookie(
                headers,
                session::set_cookie(
                    CSRF_COOKIE,
                    &self.csrf,
                    Some(chrono::Duration::weeks(52)),
                    false,
                    self.admin().site.cookies,
                ),
            );
        }
    }

    /// The 403 page.
    pub fn forbidden(&mut self, message: &str) -> Response {
        self.render_status(
            StatusCode::FORBIDDEN,
            "admin/error.html",
            context! { title => "403 Forbidden", message => message },
        )
    }

    /// The 404 page.
    pub fn not_found(&mut self) -> Response {
        self.render_status(
            StatusCode::NOT_FOUND,
            "admin/error.html",
            context! { title => "Not found", message => "The page you asked for does not exist." },
        )
    }

    /// A redirect (302 after a form, as Django) keeping this request's cookies.
    pub fn redirect(&self, to: &str) -> Response {
        let mut response = redirect(to);
        self.finish(&mut response);
        response
    }
}

/// A 302 redirect to `to`, a same-site path (see
/// [`same_site_path`](crate::security::same_site_path)); anything else
/// redirects to `/admin/`, so no caller can send a browser to another site.
pub fn redirect(to: &str) -> Response {
    let to = crate::security::same_site_path(to).unwrap_or_else(|| "/admin/".to_string());
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

/// Where to go after a login (`?next=/admin/...`): the same-site path
/// `next` names, normalised, or `/admin/` when it is missing or could lead
/// a browser elsewhere (`//evil`, `/\t/evil`, `https:evil`, `/\\evil`).
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(crate::security::same_site_path)
        .unwrap_or_else(|| "/admin/".to_string())
}
