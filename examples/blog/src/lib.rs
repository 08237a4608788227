//! The blog example: authors and their posts, served by ferrobridge.
//!
//! `cargo run -p blog -- serve` starts it on `blog.sqlite3` (created and
//! migrated on first start); `DATABASE_URL=postgres://...` moves it to PostgreSQL.

pub mod migrations;
pub mod models;

use axum::extract::Path;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use ferrobridge::prelude::*;
use ferrobridge::query::{self, Filter, ListQuery, OrderTerm, make_total};
use ferrobridge::write::UnitOfWork;
use serde::Serialize;

pub use models::{Author, Post, PostRead, author, post};

/// The blog application with its models and hand-written routes registered.
pub fn app() -> ferrobridge::App {
    ferrobridge::App::new("blog")
        .model::<Author>()
        .model::<Post>()
        .admin_action::<Post, _, _>("publish", "Publish selected posts", publish_selected)
        // Written by `cargo run -p blog -- makemigrations` into src/migrations.
        .migrations(migrations::all())
        .handle(
            Method::POST,
            "/api/posts/{pk}/publish",
            "Publish a post (editors only)",
            publish,
        )
        .handle(
            Method::GET,
            "/api/my/posts",
            "The current user's posts",
            my_posts,
        )
        // The live page is for people, not API clients: no OpenAPI operations.
        .route_with_docs("/live", get(live_page), RouteDocs::new())
        .route_with_docs("/live.js", get(live_script), RouteDocs::new())
        .route_with_docs("/live.css", get(live_stylesheet), RouteDocs::new())
        .route_with_docs(
            "/api/stats",
            get(stats),
            RouteDocs::new().get(
                Operation::new("Blog statistics")
                    .description("How many authors, posts and published posts there are.")
                    .operation_id("blog_stats")
                    .tag("Stats")
                    .response::<Stats>(200, "The counts"),
            ),
        )
}

/// The live page's Content-Security-Policy: its own script, stylesheet and
/// API only, so no other site's code runs in it and it cannot be framed.
pub const LIVE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// One of the live page's files, with its type and the page's CSP.
fn live_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, LIVE_CSP),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /live`: a page that follows posts through the change feed
/// (`GET /api/posts/events`) and lists each change as it arrives. Plain
/// HTML and JavaScript shipped in the binary (`static/`), nothing from
/// another site.
pub async fn live_page() -> Response {
    live_file(
        "text/html; charset=utf-8",
        include_str!("../static/live.html"),
    )
}

/// `GET /live.js`: the live page's script.
pub async fn live_script() -> Response {
    live_file(
        "text/javascript; charset=utf-8",
        include_str!("../static/live.js"),
    )
}

/// `GET /live.css`: the live page's stylesheet.
pub async fn live_stylesheet() -> Response {
    live_file(
        "text/css; charset=utf-8",
        include_str!("../static/live.css"),
    )
}

/// What `GET /api/stats` answers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Stats {
    /// How many authors there are.
    pub authors: u64,
    /// How many posts there are.
    pub posts: u64,
    /// How many of them are published.
    pub published: u64,
}

/// `GET /api/stats`: a hand-written handler beside the generated ones,
/// using the same `Db` extractor and error type.
pub async fn stats(db: Db) -> ApiResult<Json<Stats>> {
    let authors = author::Entity::find()
        .count(&*db)
        .await
        .map_err(ApiError::internal)?;
    let posts = post::Entity::find()
        .count(&*db)
        .await
        .map_err(ApiError::internal)?;
    let published = post::Entity::find()
        .filter(post::Column::Published.eq(true))
        .count(&*db)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(Stats {
        authors,
        posts,
        published,
    }))
}

/// `POST /api/posts/{pk}/publish`: marks a post published. Needs the
/// `blog.change_post` permission, whoever owns the post. Written through
/// the write path ([`UnitOfWork`]), as the generated endpoints and the admin
/// write: one transaction, constraint errors as 409/422.
pub async fn publish(
    db: Db,
    Perm(user, ..): Perm<post::perms::Change>,
    Path(pk): Path<i64>,
) -> ApiResult<Json<PostRead>> {
    let work = UnitOfWork::begin_as(&db, Some(user.id)).await?;
    let row = post::Entity::find_by_id(pk)
        .one(work.tx())
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound)?;
    let mut active: post::ActiveModel = row.clone().into();
    active.published = ferrobridge::__private::sea_orm::ActiveValue::Set(true);
    let row = work.update::<Post>(row, active).await?;
    work.commit().await?;
    Ok(Json(PostRead::from(row)))
}

/// The admin's "Publish selected posts" bulk action: every selected post
/// in one unit of work, so either all are published or none. `db` acts
/// for the admin user, whom the change events name.
pub async fn publish_selected(
    db: ferrobridge::db::Connection,
    pks: Vec<String>,
) -> Result<ferrobridge::admin::ActionOutcome, ApiError> {
    let ids: Vec<i64> = pks.iter().filter_map(|pk| pk.parse().ok()).collect();
    let work = UnitOfWork::begin(&db).await?;
    let rows = post::Entity::find()
        .filter(post::Column::Id.is_in(ids))
        .all(work.tx())
        .await
        .map_err(ApiError::internal)?;
    let mut published = 0;
    for row in rows.into_iter().filter(|row| !row.published) {
        let mut active: post::ActiveModel = row.clone().into();
        active.published = ferrobridge::__private::sea_orm::ActiveValue::Set(true);
        work.update::<Post>(row, active).await?;
        published += 1;
    }
    work.commit().await?;
    Ok(ferrobridge::admin::ActionOutcome::message(format!(
        "{published} post(s) were published."
    )))
}

/// `GET /api/my/posts`: the posts the current user created, newest first,
/// read through the query layer the generated list and the admin use.
pub async fn my_posts(db: Db, user: CurrentUser) -> ApiResult<Json<Vec<PostRead>>> {
    let meta = Post::meta();
    let field = |name| meta.field(name).ok_or_else(|| ApiError::internal(name));
    let newest_first = OrderTerm {
        field: field("created_at")?,
        related: None,
        descending: true,
    };
    let mut query = ListQuery::all(meta).filter(Filter::exact(field("owner_id")?, user.id.into()));
    query.ordering = make_total(meta, vec![newest_first]);
    let fetched = query::fetch::<Post>(&db, &query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(fetched.rows.into_iter().map(PostRead::from).collect()))
}
