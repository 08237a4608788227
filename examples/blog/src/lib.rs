//! The blog example: authors and their posts, served by ferrobridge.
//!
//! `cargo run -p blog -- serve` starts it on `blog.sqlite3` (created and
//! migrated on first start); `DATABASE_URL=postgres://...` moves it to PostgreSQL.

pub mod migrations;
pub mod models;

use axum::extract::Path;
use axum::http::Method;
use ferrobridge::prelude::*;
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
/// `blog.change_post` permission, whoever owns the post.
pub async fn publish(
    db: Db,
    Perm(_user, ..): Perm<post::perms::Change>,
    Path(pk): Path<i64>,
) -> ApiResult<Json<PostRead>> {
    let row = post::Entity::find_by_id(pk)
        .one(&*db)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound)?;
    let mut active: post::ActiveModel = row.into();
    active.published = ferrobridge::__private::sea_orm::ActiveValue::Set(true);
    let row = active.update(&*db).await.map_err(ApiError::internal)?;
    Ok(Json(PostRead::from(row)))
}

/// The admin's "Publish selected posts" bulk action.
pub async fn publish_selected(
    db: ferrobridge::db::Connection,
    pks: Vec<String>,
) -> Result<ferrobridge::admin::ActionOutcome, ApiError> {
    let ids: Vec<i64> = pks.iter().filter_map(|pk| pk.parse().ok()).collect();
    let result = post::Entity::update_many()
        .col_expr(
            post::Column::Published,
            ferrobridge::__private::sea_orm::sea_query::Expr::value(true),
        )
        .filter(post::Column::Id.is_in(ids))
        .exec(&db)
        .await
        .map_err(ApiError::internal)?;
    Ok(ferrobridge::admin::ActionOutcome::message(format!(
        "{} post(s) were published.",
        result.rows_affected
    )))
}

/// `GET /api/my/posts`: the posts the current user created, newest first.
pub async fn my_posts(db: Db, user: CurrentUser) -> ApiResult<Json<Vec<PostRead>>> {
    let rows = post::Entity::find()
        .filter(post::Column::OwnerId.eq(user.id))
        .order_by_desc(post::Column::CreatedAt)
        .all(&*db)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(rows.into_iter().map(PostRead::from).collect()))
}
