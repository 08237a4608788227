//! Every row change records a change event in the same transaction (issue
//! #16): the API's POST, PUT, PATCH and DELETE, the admin's add and change
//! forms with inlines, its delete page and bulk actions, the runtime's
//! model helpers (`auth::create_superuser`) and a unit of work in user
//! code; what the database deletes (`on_delete = "cascade"`) or empties
//! (`on_delete = "set_null"`) with a delete too. A write that changes
//! nothing and a failed request record nothing; events name the caller and
//! carry the `Read` representation, so write-only fields never show.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use ferrobridge::__private::sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use ferrobridge::auth::models::user;
use ferrobridge::changes::{self, ChangeEvent, Read};
use ferrobridge::db::Connection;
use ferrobridge::query::{DynRows, ModelRows, Models};
use ferrobridge::write::UnitOfWork;
use ferrobridge_tests::{
    AdminClient, PASSWORD, TestDb, authed_router, blog_router, call, create, db_tests,
};
use serde_json::{Value, json};

use super::admin_forms::{author, post};

/// Shelves of books of leaves (each deleted with its parent), and tags
/// that outlive their shelf (set to NULL).
mod library {
    use ferrobridge::prelude::*;

    /// A shelf.
    #[derive(Model, Clone, Debug)]
    #[model(app = "library", plural = "shelves", display = "{name}")]
    pub struct Shelf {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 50)]
        pub name: String,
    }

    /// A book, gone with its shelf; its code is never read back.
    #[derive(Model, Clone, Debug)]
    #[model(app = "library", display = "{title}")]
    pub struct Book {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 50)]
        pub title: String,
        #[field(references = Shelf, on_delete = "cascade")]
        pub shelf_id: i64,
        /// Write-only: in no response and in no event.
        #[field(write_only, max_length = 50)]
        pub code: String,
    }

    /// A leaf of a book, gone with it.
    #[derive(Model, Clone, Debug)]
    #[model(app = "library", plural = "leaves", display = "{text}")]
    pub struct Leaf {
        #[field(primary_key)]
        pub id: i64,
        #[field(references = Book, on_delete = "cascade")]
        pub book_id: i64,
        #[field(max_length = 50)]
        pub text: String,
    }

    /// A tag that stays when its shelf goes, unattached.
    #[derive(Model, Clone, Debug)]
    #[model(app = "library", display = "{label}")]
    pub struct Tag {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 50)]
        pub label: String,
        #[field(references = Shelf, on_delete = "set_null")]
        pub shelf_id: Option<i64>,
    }
}

use library::{Book, Leaf, Shelf, Tag};

db_tests!(
    api_writes_record_one_event_each_as_the_caller,
    failed_and_empty_writes_record_nothing,
    a_delete_records_its_cascade_and_set_null_rows,
    a_unit_of_work_in_user_code_records_on_commit_only,
    admin_forms_and_inlines_record_events,
    admin_deletes_and_actions_record_events,
    a_failing_admin_save_records_nothing,
    create_superuser_records_the_user_without_its_password,
);

fn library_app() -> ferrobridge::App {
    ferrobridge::App::new("library")
        .model::<Shelf>()
        .model::<Book>()
        .model::<Leaf>()
        .model::<Tag>()
}

/// The events every model of `app` recorded after cursor `since`, oldest first.
async fn events_since(db: &Connection, app: &ferrobridge::App, since: i64) -> Vec<ChangeEvent> {
    let labels: Vec<String> = app.models().map(changes::model_label).collect();
    match changes::read_since(db, &labels, since, 10_000)
        .await
        .unwrap()
    {
        Read::Events { events, .. } => events,
        Read::Expired { oldest } => panic!("cursor {since} expired (oldest {oldest})"),
    }
}

/// `(model, pk, action, user)` of each event.
fn summary(events: &[ChangeEvent]) -> Vec<(String, String, &'static str, Option<i32>)> {
    events
        .iter()
        .map(|e| (e.model.clone(), e.pk.clone(), e.action.as_str(), e.user))
        .collect()
}

fn ev(
    model: &str,
    pk: impl ToString,
    action: &'static str,
    user: Option<i32>,
) -> (String, String, &'static str, Option<i32>) {
    (model.to_string(), pk.to_string(), action, user)
}

/// The events after `since`, sorted by model and key: for the events of
/// one commit, whose order among rows is not the point.
fn sorted(
    mut events: Vec<(String, String, &'static str, Option<i32>)>,
) -> Vec<(String, String, &'static str, Option<i32>)> {
    events.sort();
    events
}

async fn user_id(db: &Connection, username: &str) -> i32 {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("user {username}"))
        .id
}

async fn api_writes_record_one_event_each_as_the_caller(db: &TestDb) {
    let app = blog::app();
    let router = blog_router(db).await;
    let root = Some(user_id(&db.db, "root").await);

    let since = changes::latest(&db.db).await.unwrap();
    let reply = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({"name": "Ann", "email": "ann@example.com"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let ann = reply.json["id"].as_i64().unwrap();
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(summary(&events), [ev("blog.author", ann, "create", root)]);
    assert_eq!(events[0].data, reply.json, "the Read representation");

    let since = changes::latest(&db.db).await.unwrap();
    let reply = call(
        &router,
        Method::PUT,
        &format!("/api/authors/{ann}"),
        Some(json!({"name": "Ann B", "email": null})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(summary(&events), [ev("blog.author", ann, "update", root)]);
    assert_eq!(
        events[0].data,
        json!({"id": ann, "name": "Ann B", "email": null})
    );

    let since = changes::latest(&db.db).await.unwrap();
    let uri = format!("/api/authors/{ann}");
    let reply = call(&router, Method::PATCH, &uri, Some(json!({"name": "Ann C"}))).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(summary(&events), [ev("blog.author", ann, "update", root)]);
    assert_eq!(events[0].data["name"], "Ann C");

    let since = changes::latest(&db.db).await.unwrap();
    let reply = call(
        &router,
        Method::POST,
        "/api/posts",
        Some(json!({"title": "Hello", "body": "World", "author_id": ann})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let hello = reply.json["id"].as_i64().unwrap();
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(summary(&events), [ev("blog.post", hello, "create", root)]);
    assert_eq!(events[0].data, reply.json);
    assert_eq!(
        events[0].data["owner_id"],
        json!(root),
        "owner set before the event"
    );
    let post_before = call(&router, Method::GET, &format!("/api/posts/{hello}"), None).await;
    let author_before = call(&router, Method::GET, &uri, None).await;

    // The author's delete takes the post with it: both are recorded, each
    // as it was last.
    let since = changes::latest(&db.db).await.unwrap();
    let reply = call(&router, Method::DELETE, &uri, None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.json);
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(
        summary(&events),
        [
            ev("blog.author", ann, "delete", root),
            ev("blog.post", hello, "delete", root),
        ]
    );
    assert_eq!(events[0].data, author_before.json);
    assert_eq!(events[1].data, post_before.json);
    assert!(
        events
            .iter()
            .all(|e| e.cursor.parse::<i64>().unwrap() > since)
    );
}

async fn failed_and_empty_writes_record_nothing(db: &TestDb) {
    let app = blog::app();
    let router = blog_router(db).await;
    let reply = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({"name": "Ann", "email": "ann@example.com"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let ann = reply.json["id"].as_i64().unwrap();
    let uri = format!("/api/authors/{ann}");
    let since = changes::latest(&db.db).await.unwrap();

    // Nothing to change: no write, no event.
    for body in [
        json!({}),
        json!({"name": "Ann"}),
        json!({"name": "Ann", "email": "ann@example.com"}),
    ] {
        let reply = call(&router, Method::PATCH, &uri, Some(body.clone())).await;
        assert_eq!(reply.status, StatusCode::OK, "{body}: {:?}", reply.json);
    }
    let reply = call(
        &router,
        Method::PUT,
        &uri,
        Some(json!({"name": "Ann", "email": "ann@example.com"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    // Refused: a duplicate email (409), an invalid name (422), a missing
    // author (422 on the foreign key), a missing row (404).
    let reply = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({"name": "Other", "email": "ann@example.com"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.json);
    let reply = call(&router, Method::PATCH, &uri, Some(json!({"name": ""}))).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        reply.json
    );
    let reply = call(
        &router,
        Method::POST,
        "/api/posts",
        Some(json!({"title": "Orphan", "body": "x", "author_id": ann + 1000})),
    )
    .await;
    assert!(reply.status.is_client_error(), "{:?}", reply.json);
    let reply = call(&router, Method::DELETE, "/api/authors/999999", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    let events = events_since(&db.db, &app, since).await;
    assert_eq!(summary(&events), [], "{events:?}");
    // And the log is where the next change continues.
    let reply = call(&router, Method::PATCH, &uri, Some(json!({"name": "Ann B"}))).await;
    assert_eq!(reply.status, StatusCode::OK);
    let events = events_since(&db.db, &app, since).await;
    let root = Some(user_id(&db.db, "root").await);
    assert_eq!(summary(&events), [ev("blog.author", ann, "update", root)]);
}

async fn a_delete_records_its_cascade_and_set_null_rows(db: &TestDb) {
    let app = library_app();
    let router = authed_router(&app, &db.db).await;
    let root = Some(user_id(&db.db, "root").await);

    let since = changes::latest(&db.db).await.unwrap();
    let shelf = create(&router, "shelves", json!({"name": "Top"})).await;
    let other = create(&router, "shelves", json!({"name": "Bottom"})).await;
    let (s, o) = (shelf["id"].as_i64().unwrap(), other["id"].as_i64().unwrap());
    let book = create(
        &router,
        "books",
        json!({"title": "Dune", "shelf_id": s, "code": "SECRET-1"}),
    )
    .await;
    // Write-only: neither in the response nor in the event.
    assert_eq!(book.get("code"), None, "{book}");
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].data, book);
    assert!(!events.iter().any(|e| e.data.to_string().contains("SECRET")));

    let b = book["id"].as_i64().unwrap();
    let book2 = create(
        &router,
        "books",
        json!({"title": "Emma", "shelf_id": s, "code": "c"}),
    )
    .await;
    let b2 = book2["id"].as_i64().unwrap();
    let kept = create(
        &router,
        "books",
        json!({"title": "Kept", "shelf_id": o, "code": "c"}),
    )
    .await;
    let l1 = create(&router, "leaves", json!({"book_id": b, "text": "one"})).await;
    let l2 = create(&router, "leaves", json!({"book_id": b2, "text": "two"})).await;
    let t1 = create(&router, "tags", json!({"label": "red", "shelf_id": s})).await;
    let t2 = create(&router, "tags", json!({"label": "blue", "shelf_id": o})).await;
    let (l1, l2) = (l1["id"].as_i64().unwrap(), l2["id"].as_i64().unwrap());
    let t1_id = t1["id"].as_i64().unwrap();

    let since = changes::latest(&db.db).await.unwrap();
    let reply = call(&router, Method::DELETE, &format!("/api/shelves/{s}"), None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.json);
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(
        summary(&events),
        [
            ev("library.shelf", s, "delete", root),
            ev("library.book", b, "delete", root),
            ev("library.book", b2, "delete", root),
            ev("library.leaf", l1, "delete", root),
            ev("library.leaf", l2, "delete", root),
            ev("library.tag", t1_id, "update", root),
        ]
    );
    assert_eq!(events[0].data, shelf);
    assert_eq!(events[1].data, book, "a cascaded row's last representation");
    assert_eq!(events[2].data, book2);
    assert_eq!(
        events[3].data,
        json!({"id": l1, "book_id": b, "text": "one"})
    );
    assert_eq!(
        events[5].data,
        json!({"id": t1_id, "label": "red", "shelf_id": null}),
        "a set-null row's new representation"
    );
    // The rows of the other shelf are untouched, and recorded nowhere.
    let reply = call(
        &router,
        Method::GET,
        &format!("/api/tags/{}", t2["id"]),
        None,
    )
    .await;
    assert_eq!(reply.json, t2);
    let reply = call(
        &router,
        Method::GET,
        &format!("/api/books/{}", kept["id"]),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);

    // A delete with nothing below it records its row alone.
    let since = changes::latest(&db.db).await.unwrap();
    let reply = call(
        &router,
        Method::DELETE,
        &format!("/api/books/{}", kept["id"]),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(
        summary(&events),
        [ev(
            "library.book",
            kept["id"].as_i64().unwrap(),
            "delete",
            root
        )]
    );
}

/// The registry of the library's models, as the app builds it.
fn library_models() -> Models {
    let rows: Vec<Arc<dyn DynRows>> = vec![
        Arc::new(ModelRows::<Shelf>::default()),
        Arc::new(ModelRows::<Book>::default()),
        Arc::new(ModelRows::<Leaf>::default()),
        Arc::new(ModelRows::<Tag>::default()),
    ];
    Models::new(rows)
}

async fn a_unit_of_work_in_user_code_records_on_commit_only(db: &TestDb) {
    let app = library_app();
    let router = authed_router(&app, &db.db).await;
    let models = library_models();
    let shelf = create(&router, "shelves", json!({"name": "Top"})).await;
    let s = shelf["id"].as_i64().unwrap();
    let tag = create(&router, "tags", json!({"label": "red", "shelf_id": s})).await;
    let t = tag["id"].as_i64().unwrap();
    let since = changes::latest(&db.db).await.unwrap();

    // A book created and its shelf deleted in one unit of work, rolled
    // back (dropped): no row changes, no event.
    for commit in [false, true] {
        let work = UnitOfWork::begin_as(&db.db, Some(7)).await.unwrap();
        let active = library::book::ActiveModel {
            title: Set("Draft".into()),
            shelf_id: Set(s),
            code: Set("x".into()),
            ..Default::default()
        };
        let book = work.create::<Book>(active, None).await.unwrap();
        // Read in the transaction: the walk finds the book written in it.
        let gone = work.delete::<Shelf>(&models, vec![s.into()]).await.unwrap();
        assert_eq!(gone, 1);
        // (No read of the log here: on SQLite the pool's one connection is
        // the open transaction's.)
        if commit {
            work.commit().await.unwrap();
            let events = events_since(&db.db, &app, since).await;
            assert_eq!(
                summary(&events),
                [
                    ev("library.book", book.id, "create", Some(7)),
                    ev("library.shelf", s, "delete", Some(7)),
                    ev("library.book", book.id, "delete", Some(7)),
                    ev("library.tag", t, "update", Some(7)),
                ]
            );
            assert_eq!(events[3].data["shelf_id"], Value::Null);
        } else {
            drop(work);
            let events = events_since(&db.db, &app, since).await;
            assert_eq!(
                summary(&events),
                [],
                "a rolled-back unit of work leaves no event"
            );
            let reply = call(&router, Method::GET, &format!("/api/tags/{t}"), None).await;
            assert_eq!(
                reply.json["shelf_id"], s,
                "the set null was rolled back too"
            );
        }
    }

    // `delete_key` records the same; without the registry only the row named.
    let shelf = create(&router, "shelves", json!({"name": "Again"})).await;
    let s = shelf["id"].as_i64().unwrap();
    let tag = create(&router, "tags", json!({"label": "blue", "shelf_id": s})).await;
    let since = changes::latest(&db.db).await.unwrap();
    let work = UnitOfWork::begin(&db.db).await.unwrap();
    assert_eq!(work.delete_key::<Shelf>(&models, s).await.unwrap(), 1);
    assert_eq!(
        work.delete_key::<Shelf>(&models, s).await.unwrap(),
        0,
        "already gone"
    );
    work.commit().await.unwrap();
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(
        summary(&events),
        [
            ev("library.shelf", s, "delete", None),
            ev("library.tag", tag["id"].as_i64().unwrap(), "update", None),
        ]
    );
}

/// An admin client logged in as the blog router's superuser.
async fn admin(router: &axum::Router) -> AdminClient {
    let mut client = AdminClient::new(router.clone());
    client.login("root", PASSWORD).await;
    client
}

/// One inline post row of the author forms.
fn inline(i: usize, id: Option<i64>, title: &str) -> Vec<(String, String)> {
    let mut fields = vec![
        (format!("post-{i}-title"), title.to_string()),
        (format!("post-{i}-body"), "Body text".into()),
        (format!("post-{i}-kind"), "article".into()),
        (format!("post-{i}-likes"), "5".into()),
        (format!("post-{i}-rating"), String::new()),
    ];
    if let Some(id) = id {
        fields.push((format!("post-{i}-id"), id.to_string()));
    }
    fields
}

async fn post_id(db: &Connection, title: &str) -> i64 {
    blog::post::Entity::find()
        .filter(blog::post::Column::Title.eq(title))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("post {title}"))
        .id
}

async fn admin_forms_and_inlines_record_events(db: &TestDb) {
    let app = blog::app();
    let router = blog_router(db).await;
    let root = Some(user_id(&db.db, "root").await);
    let mut client = admin(&router).await;

    // The add form with an inline row: the author and the post.
    let since = changes::latest(&db.db).await.unwrap();
    let mut form: Vec<(String, String)> = vec![
        ("name".into(), "Ann".into()),
        ("email".into(), String::new()),
        ("post-TOTAL_FORMS".into(), "1".into()),
        ("post-INITIAL_FORMS".into(), "0".into()),
    ];
    form.extend(inline(0, None, "First"));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = client.post("/admin/blog/author/add/", &fields).await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let ann = blog::author::Entity::find()
        .filter(blog::author::Column::Name.eq("Ann"))
        .one(&db.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let first = post_id(&db.db, "First").await;
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(
        summary(&events),
        [
            ev("blog.author", ann, "create", root),
            ev("blog.post", first, "create", root),
        ]
    );
    assert_eq!(
        events[0].data,
        json!({"id": ann, "name": "Ann", "email": null})
    );
    assert_eq!(events[1].data["title"], "First");
    assert_eq!(events[1].data["author_id"], ann);

    // The change form: the author renamed, one inline row edited, one
    // deleted, one added.
    let second = post(&db.db, ann, "Second").await;
    let since = changes::latest(&db.db).await.unwrap();
    let mut form: Vec<(String, String)> = vec![
        ("name".into(), "Ann B".into()),
        ("email".into(), String::new()),
        ("post-TOTAL_FORMS".into(), "3".into()),
        ("post-INITIAL_FORMS".into(), "2".into()),
    ];
    form.extend(inline(0, Some(first), "First, edited"));
    form.extend(inline(1, Some(second), "Second"));
    form.push(("post-1-DELETE".into(), "on".into()));
    form.extend(inline(2, None, "Third"));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = client
        .post(&format!("/admin/blog/author/{ann}/change/"), &fields)
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let third = post_id(&db.db, "Third").await;
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(
        sorted(summary(&events)),
        sorted(vec![
            ev("blog.author", ann, "update", root),
            ev("blog.post", first, "update", root),
            ev("blog.post", second, "delete", root),
            ev("blog.post", third, "create", root),
        ])
    );
    let by_pk = |pk: i64| {
        events
            .iter()
            .find(|e| e.pk == pk.to_string() && e.model == "blog.post")
            .unwrap()
    };
    assert_eq!(by_pk(first).data["title"], "First, edited");
    assert_eq!(
        by_pk(second).data["title"],
        "Second",
        "the deleted row as it was"
    );

    // Saving the form again unchanged records nothing.
    let since = changes::latest(&db.db).await.unwrap();
    let mut form: Vec<(String, String)> = vec![
        ("name".into(), "Ann B".into()),
        ("email".into(), String::new()),
        ("post-TOTAL_FORMS".into(), "2".into()),
        ("post-INITIAL_FORMS".into(), "2".into()),
    ];
    form.extend(inline(0, Some(first), "First, edited"));
    form.extend(inline(1, Some(third), "Third"));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = client
        .post(&format!("/admin/blog/author/{ann}/change/"), &fields)
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(summary(&events), [], "{events:?}");
}

async fn admin_deletes_and_actions_record_events(db: &TestDb) {
    let app = blog::app();
    let router = blog_router(db).await;
    let root = Some(user_id(&db.db, "root").await);
    let mut client = admin(&router).await;
    let ann = author(&db.db, "Ann").await;
    let bob = author(&db.db, "Bob").await;
    let cat = author(&db.db, "Cat").await;
    let a1 = post(&db.db, ann, "Ann one").await;
    let b1 = post(&db.db, bob, "Bob one").await;
    let b2 = post(&db.db, bob, "Bob two").await;
    let c1 = post(&db.db, cat, "Cat one").await;

    // "Publish selected posts": one update per post it changes, made by
    // the admin user (the action's unit of work names no user itself).
    let since = changes::latest(&db.db).await.unwrap();
    let (p1, p2) = (a1.to_string(), c1.to_string());
    let page = client
        .post(
            "/admin/blog/post/",
            &[
                ("action", "publish"),
                ("_selected_action", &p1),
                ("_selected_action", &p2),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(
        summary(&events),
        [
            ev("blog.post", a1, "update", root),
            ev("blog.post", c1, "update", root),
        ]
    );
    assert!(events.iter().all(|e| e.data["published"] == true));

    // "Delete selected": the authors and their posts.
    let since = changes::latest(&db.db).await.unwrap();
    let (a, b) = (ann.to_string(), bob.to_string());
    let page = client
        .post(
            "/admin/blog/author/",
            &[
                ("action", "delete_selected"),
                ("_selected_action", &a),
                ("_selected_action", &b),
                ("post", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(
        sorted(summary(&events)),
        sorted(vec![
            ev("blog.author", ann, "delete", root),
            ev("blog.author", bob, "delete", root),
            ev("blog.post", a1, "delete", root),
            ev("blog.post", b1, "delete", root),
            ev("blog.post", b2, "delete", root),
        ])
    );
    let ann_one = events
        .iter()
        .find(|e| e.pk == a1.to_string() && e.model == "blog.post")
        .unwrap();
    assert_eq!(ann_one.data["published"], true, "as it was last");

    // The delete page.
    let since = changes::latest(&db.db).await.unwrap();
    let page = client
        .post(
            &format!("/admin/blog/author/{cat}/delete/"),
            &[("post", "yes")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(
        summary(&events),
        [
            ev("blog.author", cat, "delete", root),
            ev("blog.post", c1, "delete", root),
        ]
    );
    assert_eq!(
        events[0].data,
        json!({"id": cat, "name": "Cat", "email": null})
    );
}

async fn a_failing_admin_save_records_nothing(db: &TestDb) {
    let app = blog::app();
    let router = blog_router(db).await;
    // Titles unique in the database only (as in the atomic-save tests):
    // the form validates, the second inline INSERT fails.
    db.db
        .execute_unprepared("CREATE UNIQUE INDEX change_events_title ON blog_post (title)")
        .await
        .unwrap();
    let bob = author(&db.db, "Bob").await;
    post(&db.db, bob, "Taken").await;
    let ann = author(&db.db, "Ann").await;
    let keep = post(&db.db, ann, "Keep me").await;
    let mut client = admin(&router).await;
    let since = changes::latest(&db.db).await.unwrap();

    let mut form: Vec<(String, String)> = vec![
        ("name".into(), "Ann renamed".into()),
        ("email".into(), String::new()),
        ("post-TOTAL_FORMS".into(), "2".into()),
        ("post-INITIAL_FORMS".into(), "1".into()),
    ];
    form.extend(inline(0, Some(keep), "Kept, edited"));
    form.extend(inline(1, None, "Taken"));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = client
        .post(&format!("/admin/blog/author/{ann}/change/"), &fields)
        .await;
    assert_eq!(page.status, StatusCode::OK, "the form again: {}", page.body);
    let mut form: Vec<(String, String)> = vec![
        ("name".into(), "Dan".into()),
        ("email".into(), String::new()),
        ("post-TOTAL_FORMS".into(), "1".into()),
        ("post-INITIAL_FORMS".into(), "0".into()),
    ];
    form.extend(inline(0, None, "Taken"));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = client.post("/admin/blog/author/add/", &fields).await;
    assert_eq!(page.status, StatusCode::OK, "the form again: {}", page.body);

    let events = events_since(&db.db, &app, since).await;
    assert_eq!(summary(&events), [], "{events:?}");
}

async fn create_superuser_records_the_user_without_its_password(db: &TestDb) {
    let app = blog::app();
    app.create_tables(&db.db).await.unwrap();
    let since = changes::latest(&db.db).await.unwrap();
    let admin = ferrobridge::auth::create_superuser(&db.db, "boss", "boss@example.com", PASSWORD)
        .await
        .unwrap();
    let id = user_id(&db.db, "boss").await;
    let events = events_since(&db.db, &app, since).await;
    assert_eq!(summary(&events), [ev("auth.user", id, "create", None)]);
    let data = &events[0].data;
    assert_eq!(data["username"], "boss");
    assert_eq!(data["is_superuser"], true);
    assert_eq!(data.get("password"), None, "write-only: {data}");
    assert_eq!(admin.id, id);
}
