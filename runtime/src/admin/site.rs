//! The site's own pages: the index of apps and models (with the user's
//! recent actions), an app's index and the static assets; and the small
//! helpers every admin page uses (form fields, headings).

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::context::{AdminCtx, PageResult, Reject};
use super::history::recent_actions;
use crate::model::Action;

/// The form fields of a POST, in order (a key may repeat).
pub type FormFields = Vec<(String, String)>;

/// The first value of the form field `name`.
pub(super) fn field<'a>(form: &'a FormFields, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// One model's entry on the index.
#[derive(serde::Serialize)]
struct ModelLink {
    name: String,
    object_name: &'static str,
    url: Option<String>,
    add_url: Option<String>,
}

/// The apps and models the user may see, each model once.
async fn app_list(ctx: &AdminCtx, only: Option<&str>) -> Vec<minijinja::Value> {
    let mut apps: BTreeMap<&'static str, Vec<ModelLink>> = BTreeMap::new();
    for ops in &ctx.admin().models {
        let meta = ops.meta();
        if meta.admin.hidden || only.is_some_and(|a| a != meta.app_label) {
            continue;
        }
        let view = ctx.can_view(meta).await;
        let add = ctx.has_perm(meta, Action::Add).await;
        if !view && !add {
            continue;
        }
        let base = format!("/admin/{}/{}/", meta.app_label, meta.model_name);
        apps.entry(meta.app_label).or_default().push(ModelLink {
            name: capitalize(&super::verbose_name_plural(meta)),
            object_name: meta.object_name,
            url: view.then(|| base.clone()),
            add_url: add.then(|| format!("{base}add/")),
        });
    }
    apps.into_iter()
        .map(|(label, models)| {
            context! {
                app_label => label,
                name => app_title(label),
                url => format!("/admin/{label}/"),
                models => models,
            }
        })
        .collect()
}

/// An app label as a heading (`blog` -> `Blog`; Django's names for its own apps).
pub fn app_title(label: &str) -> String {
    match label {
        "auth" => "Authentication and Authorization".into(),
        "contenttypes" => "Content Types".into(),
        other => capitalize(&other.replace('_', " ")),
    }
}

/// The first letter in upper case.
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `GET /admin/`: the apps and models the user may use, and their recent actions.
pub async fn index(mut ctx: AdminCtx) -> PageResult {
    let me = ctx.staff()?;
    let apps = app_list(&ctx, None).await;
    let recent = recent_actions(&ctx, me.id).await?;
    Ok(ctx.render(
        "admin/index.html",
        context! { title => "Site administration", app_list => apps, recent_actions => recent },
    ))
}

/// `GET /admin/{app}/`: one app's models.
pub async fn app_index(mut ctx: AdminCtx, Path(app): Path<String>) -> PageResult {
    ctx.staff()?;
    let apps = app_list(&ctx, Some(&app)).await;
    if apps.is_empty() {
        return Err(Reject(ctx.not_found()));
    }
    Ok(ctx.render(
        "admin/app_index.html",
        context! { title => format!("{} administration", app_title(&app)), app_list => apps, app_label => app },
    ))
}

/// `GET /admin/static/admin.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        super::templates::STYLESHEET,
    )
        .into_response()
}

/// `GET /admin/static/admin.js`.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        super::templates::SCRIPT,
    )
        .into_response()
}
