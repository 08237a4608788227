//! The admin's change list, bulk actions, delete confirmations and history,
//! driven over HTTP with a logged-in session on the blog example.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge::__private::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::Expr,
};
use ferrobridge::admin::models::log_entry;
use ferrobridge::auth::models::{content_type, permission, user, user_permission};
use ferrobridge::db::Connection;
use ferrobridge::prelude::*;
use ferrobridge_tests::{PASSWORD, TestDb, UserKind, blog_router, call, create_user, db_tests};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

const XSS: &str = "<script>alert(1)</script>";

/// A review of an author that protects them: `on_delete` defaults to restrict.
#[derive(Model, Clone, Debug)]
#[model(app = "shelf", display = "{label}")]
#[api(policy = "allow_any")]
pub struct Review {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 50)]
    pub label: String,
    #[field(references = blog::Author)]
    pub author_id: i64,
}

/// A browser of sorts: keeps cookies, reads pages as text.
#[derive(Clone)]
struct Client {
    router: axum::Router,
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

fn encode(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in fields {
        if !out.is_empty() {
            out.push('&');
        }
        for (i, part) in [k, v].iter().enumerate() {
            if i == 1 {
                out.push('=');
            }
            for b in part.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

impl Client {
    async fn login(router: &axum::Router, username: &str) -> Client {
        let mut client = Client {
            router: router.clone(),
            cookies: BTreeMap::new(),
        };
        assert_eq!(client.get("/admin/login/").await.status, StatusCode::OK);
        let csrf = client.csrf();
        let page = client
            .post_raw(
                "/admin/login/",
                &[
                    ("username", username),
                    ("password", PASSWORD),
                    ("csrfmiddlewaretoken", &csrf),
                    ("next", "/admin/"),
                ],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::FOUND,
            "login of {username}: {}",
            page.body
        );
        client
    }

    fn csrf(&self) -> String {
        self.cookies
            .get("csrftoken")
            .cloned()
            .expect("csrftoken cookie")
    }

    async fn send(&mut self, request: axum::http::request::Builder, body: Body) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = request
            .header(header::COOKIE, cookie)
            .body(body)
            .expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().expect("cookie text");
            let pair = text.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            location,
            // minijinja escapes `/` too; pages are easier to check without that.
            body: String::from_utf8_lossy(&bytes).replace("&#x2f;", "/"),
        }
    }

    async fn get(&mut self, uri: &str) -> Page {
        self.send(
            Request::builder().method(Method::GET).uri(uri),
            Body::empty(),
        )
        .await
    }

    async fn post_raw(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.send(request, Body::from(encode(fields))).await
    }

    /// A form POST with the CSRF token added.
    async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf();
        let mut all = vec![("csrfmiddlewaretoken", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(uri, &all).await
    }
}

async fn author(router: &axum::Router, name: &str) -> i64 {
    let reply = call(
        router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": name })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    reply.json["id"].as_i64().unwrap()
}

async fn post(router: &axum::Router, title: &str, author: i64, kind: &str, published: bool) -> i64 {
    let body = json!({ "title": title, "body": "text", "author_id": author, "kind": kind, "published": published });
    let reply = call(router, Method::POST, "/api/posts", Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    reply.json["id"].as_i64().unwrap()
}

fn occurrences(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Alice has "Rust tips" (published article) and "Note to self" (note);
/// Bob has "Bob's link" (link). Returns (alice, bob).
async fn seed(router: &axum::Router) -> (i64, i64) {
    let alice = author(router, "Alice").await;
    let bob = author(router, "Bob").await;
    post(router, "Rust tips", alice, "article", true).await;
    post(router, "Note to self", alice, "note", false).await;
    post(router, "Bob's link", bob, "link", false).await;
    (alice, bob)
}

async fn list_shows_columns_search_sort_and_pages(db: &TestDb) {
    let router = blog_router(db).await;
    seed(&router).await;
    let mut admin = Client::login(&router, "root").await;
    let page = admin.get("/admin/blog/post/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    for header in [
        "ID",
        "Title",
        "Author",
        "Kind",
        "Published",
        "Likes",
        "Created at",
    ] {
        assert!(
            body.contains(&format!(">{header}</a>")),
            "header {header}: {body}"
        );
    }
    // Foreign keys show the author's display string, booleans yes/no.
    assert!(body.contains("<td class=\"\">Alice</td>"), "{body}");
    assert!(body.contains("<td class=\"\">Bob</td>"), "{body}");
    assert!(body.contains("class=\"boolean yes\">Yes"), "{body}");
    assert!(body.contains("class=\"boolean no\">No"), "{body}");
    assert!(body.contains("3 posts"), "{body}");
    assert!(body.contains("/admin/blog/post/add/"), "add button: {body}");
    assert!(body.contains("name=\"_selected_action\""), "{body}");
    assert!(body.contains("Delete selected posts"), "{body}");
    assert!(body.contains("Publish selected posts"), "{body}");
    assert!(
        body.contains("href=\"/admin/blog/post/1/change/\""),
        "{body}"
    );

    // Search: words ANDed over title and body.
    let page = admin.get("/admin/blog/post/?q=rust+TIPS").await;
    assert!(page.body.contains("Rust tips"));
    assert!(!page.body.contains("Note to self"));
    assert!(
        page.body.contains("1 result (<a href=\"?\">3 total</a>)"),
        "{}",
        page.body
    );
    let page = admin.get("/admin/blog/post/?q=rust+nothing").await;
    assert!(!page.body.contains("Rust tips"));
    assert!(page.body.contains("0 posts"));

    // Sorting by title (column 2), ascending then descending.
    let page = admin.get("/admin/blog/post/?o=2").await;
    let b = &page.body;
    let (bob, note, rust) = (
        b.find("Bob&#x27;s link").unwrap(),
        b.find("Note to self").unwrap(),
        b.find("Rust tips").unwrap(),
    );
    assert!(bob < note && note < rust, "ascending");
    assert!(b.contains("sorted ascending"), "{b}");
    assert!(b.contains("href=\"?o=-2\""), "toggle link: {b}");
    let page = admin.get("/admin/blog/post/?o=-2").await;
    let b = &page.body;
    let (bob, note, rust) = (
        b.find("Bob&#x27;s link").unwrap(),
        b.find("Note to self").unwrap(),
        b.find("Rust tips").unwrap(),
    );
    assert!(rust < note && note < bob, "descending");
    assert!(b.contains("sorted descending"));
    // Junk in the query string is ignored, never a server error.
    for junk in [
        "o=abc.-99.0",
        "p=zzz",
        "p=999",
        "published__exact=maybe",
        "created_at__gte=yesterday",
        "author_id__exact=x",
        "kind__exact=poem",
        "q=%00",
    ] {
        let page = admin.get(&format!("/admin/blog/post/?{junk}")).await;
        assert_eq!(page.status, StatusCode::OK, "{junk}: {}", page.body);
    }

    // Pagination: 105 authors at 100 a page.
    let author_meta = <blog::Author as ferrobridge::Model>::meta();
    let per_page = author_meta.admin.list_per_page;
    let existing = 2;
    for i in 0..(per_page + 5 - existing) {
        blog::author::ActiveModel {
            name: Set(format!("Writer {i:03}")),
            ..Default::default()
        }
        .insert(&db.db)
        .await
        .unwrap();
    }
    let total = per_page + 5;
    let page = admin.get("/admin/blog/author/").await;
    assert!(
        page.body.contains(&format!("{total} authors")),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<span class=\"this-page\" aria-current=\"page\">1</span>")
    );
    assert!(page.body.contains("href=\"?p=2\""));
    let page = admin.get("/admin/blog/author/?p=2").await;
    assert_eq!(occurrences(&page.body, "name=\"_selected_action\""), 5);
    assert!(
        page.body
            .contains("<span class=\"this-page\" aria-current=\"page\">2</span>")
    );
    // The search box keeps the other parameters; the author list has no filters.
    assert!(!page.body.contains("changelist-filter"));

    // A title with markup is escaped.
    blog::post::Entity::update_many()
        .col_expr(blog::post::Column::Title, Expr::value(XSS))
        .filter(blog::post::Column::Title.eq("Rust tips"))
        .exec(&db.db)
        .await
        .unwrap();
    let page = admin.get("/admin/blog/post/").await;
    assert!(!page.body.contains(XSS));
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

async fn filters_narrow_the_list(db: &TestDb) {
    let router = blog_router(db).await;
    let (alice, bob) = seed(&router).await;
    // "Bob's link" was written two years ago.
    let old = ferrobridge::__private::chrono::Utc::now()
        - ferrobridge::__private::chrono::Duration::days(800);
    blog::post::Entity::update_many()
        .col_expr(blog::post::Column::CreatedAt, Expr::value(old))
        .filter(blog::post::Column::AuthorId.eq(bob))
        .exec(&db.db)
        .await
        .unwrap();
    let mut admin = Client::login(&router, "root").await;
    let page = admin.get("/admin/blog/post/").await;
    let b = &page.body;
    for title in ["By published", "By kind", "By author", "By created at"] {
        assert!(b.contains(title), "{title}: {b}");
    }
    assert!(b.contains("href=\"?published__exact=1\""), "{b}");
    assert!(b.contains("href=\"?kind__exact=note\""), "{b}");
    assert!(
        b.contains(&format!("href=\"?author_id__exact={alice}\"")),
        "{b}"
    );
    assert!(b.contains(">Past 7 days<"), "{b}");

    let shown = |body: &str| {
        ["Rust tips", "Note to self", "Bob&#x27;s link"]
            .iter()
            .filter(|t| body.contains(*t))
            .count()
    };
    let page = admin.get("/admin/blog/post/?published__exact=1").await;
    assert_eq!(shown(&page.body), 1);
    assert!(page.body.contains("Rust tips"));
    assert!(
        page.body
            .contains("<li class=\"selected\"><a href=\"?published__exact=1\""),
        "{}",
        page.body
    );
    let page = admin.get("/admin/blog/post/?published__exact=0").await;
    assert_eq!(shown(&page.body), 2);
    let page = admin.get("/admin/blog/post/?kind__exact=link").await;
    assert_eq!(shown(&page.body), 1);
    assert!(page.body.contains("Bob&#x27;s link"));
    let page = admin
        .get(&format!("/admin/blog/post/?author_id__exact={alice}"))
        .await;
    assert_eq!(shown(&page.body), 2);
    assert!(!page.body.contains("Bob&#x27;s link"));
    // Filters combine, and the links of one keep the other.
    let page = admin
        .get(&format!(
            "/admin/blog/post/?author_id__exact={alice}&kind__exact=note"
        ))
        .await;
    assert_eq!(shown(&page.body), 1);
    assert!(page.body.contains("Note to self"));
    assert!(
        page.body.contains(&format!(
            "href=\"?author_id__exact={alice}&amp;kind__exact=article\""
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("Clear all filters"));

    // Date ranges: the links the sidebar offers.
    let today = ferrobridge::__private::chrono::Utc::now().date_naive();
    let week_start = (today - ferrobridge::__private::chrono::Duration::days(7)).format("%Y-%m-%d");
    let tomorrow = today.succ_opt().unwrap().format("%Y-%m-%d");
    let url = format!("/admin/blog/post/?created_at__gte={week_start}&created_at__lt={tomorrow}");
    let page = admin.get(&url).await;
    assert_eq!(shown(&page.body), 2, "{}", page.body);
    assert!(!page.body.contains("Bob&#x27;s link"));
    assert!(
        page.body
            .contains("class=\"selected\"><a href=\"?created_at__gte="),
        "{}",
        page.body
    );
    let page = admin
        .get("/admin/blog/post/?created_at__lt=2000-01-01")
        .await;
    assert_eq!(shown(&page.body), 0);
}

async fn bulk_delete_and_actions(db: &TestDb) {
    let router = blog_router(db).await;
    let (alice, bob) = seed(&router).await;
    let mut admin = Client::login(&router, "root").await;

    // No CSRF token: refused.
    let page = admin
        .post_raw(
            "/admin/blog/author/",
            &[
                ("action", "delete_selected"),
                ("_selected_action", &alice.to_string()),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(blog::author::Entity::find().count(&db.db).await.unwrap(), 2);

    // No selection: a warning, nothing changes.
    let page = admin
        .post("/admin/blog/author/", &[("action", "delete_selected")])
        .await;
    assert_eq!(page.status, StatusCode::FOUND);
    let page = admin.get("/admin/blog/author/").await;
    assert!(page.body.contains(
        "Items must be selected in order to perform actions on them. No items have been changed."
    ));

    // The confirmation lists the authors and the posts that go with them.
    let (a, b) = (alice.to_string(), bob.to_string());
    let selection = [
        ("action", "delete_selected"),
        ("_selected_action", a.as_str()),
        ("_selected_action", b.as_str()),
    ];
    let page = admin.post("/admin/blog/author/", &selection).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(
        body.contains("Are you sure you want to delete the selected authors?"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "Author: <a href=\"/admin/blog/author/{alice}/change/\">Alice</a>"
        )),
        "{body}"
    );
    assert!(body.contains("Post: <a href=\"/admin/blog/post/"), "{body}");
    assert!(
        body.contains("Rust tips")
            && body.contains("Note to self")
            && body.contains("Bob&#x27;s link")
    );
    assert!(
        body.contains("<li>Authors: 2</li>") && body.contains("<li>Posts: 3</li>"),
        "{body}"
    );
    assert!(body.contains("Yes, I’m sure"));
    assert_eq!(
        blog::author::Entity::find().count(&db.db).await.unwrap(),
        2,
        "nothing deleted yet"
    );

    let mut confirmed = selection.to_vec();
    confirmed.push(("post", "yes"));
    let page = admin.post("/admin/blog/author/", &confirmed).await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some("/admin/blog/author/"));
    assert_eq!(blog::author::Entity::find().count(&db.db).await.unwrap(), 0);
    assert_eq!(blog::post::Entity::find().count(&db.db).await.unwrap(), 0);
    let entries = log_entry::Entity::find()
        .filter(log_entry::Column::ActionFlag.eq(3))
        .all(&db.db)
        .await
        .unwrap();
    let mut reprs: Vec<String> = entries.iter().map(|e| e.object_repr.clone()).collect();
    reprs.sort();
    assert_eq!(reprs, ["Alice", "Bob"]);
    let page = admin.get("/admin/blog/author/").await;
    assert!(
        page.body.contains("Successfully deleted 2 authors."),
        "{}",
        page.body
    );

    // A user action: publish.
    let carol = author(&router, "Carol").await;
    let p1 = post(&router, "Draft one", carol, "article", false)
        .await
        .to_string();
    let p2 = post(&router, "Draft two", carol, "article", false)
        .await
        .to_string();
    let page = admin
        .post(
            "/admin/blog/post/?o=2",
            &[
                ("action", "publish"),
                ("_selected_action", &p1),
                ("_selected_action", &p2),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert_eq!(page.location.as_deref(), Some("/admin/blog/post/?o=2"));
    let published = blog::post::Entity::find()
        .filter(blog::post::Column::Published.eq(true))
        .count(&db.db)
        .await
        .unwrap();
    assert_eq!(published, 2);
    let page = admin.get("/admin/blog/post/").await;
    assert!(
        page.body.contains("2 post(s) were published."),
        "{}",
        page.body
    );
    // An unknown action changes nothing.
    let page = admin
        .post(
            "/admin/blog/post/",
            &[("action", "explode"), ("_selected_action", &p1)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert_eq!(blog::post::Entity::find().count(&db.db).await.unwrap(), 2);
}

async fn delete_page_and_history(db: &TestDb) {
    let router = blog_router(db).await;
    let (alice, _) = seed(&router).await;
    let mut admin = Client::login(&router, "root").await;
    let root_id = user::Entity::find()
        .filter(user::Column::Username.eq("root"))
        .one(&db.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    // A history entry written as the change form does.
    let meta = <blog::Author as ferrobridge::Model>::meta();
    ferrobridge::admin::log_action(
        &db.db,
        root_id,
        meta,
        &alice.to_string(),
        "Alice",
        ferrobridge::admin::LogAction::Addition,
        ferrobridge::admin::change_message(ferrobridge::admin::LogAction::Addition, &[]),
    )
    .await
    .unwrap();
    blog::author::Entity::update_many()
        .col_expr(blog::author::Column::Name, Expr::value(XSS))
        .filter(blog::author::Column::Id.eq(alice))
        .exec(&db.db)
        .await
        .unwrap();
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";

    let url = format!("/admin/blog/author/{alice}/delete/");
    let page = admin.get(&url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(
        body.contains(&format!(
            "Are you sure you want to delete the author “{escaped}”?"
        )),
        "{body}"
    );
    assert!(
        body.contains("Post: <a href=\"/admin/blog/post/")
            && body.contains("Rust tips")
            && body.contains("Note to self")
    );
    assert!(!body.contains("Bob&#x27;s link"));
    assert!(!body.contains(XSS));
    assert!(admin.get("/admin/blog/author/999999/delete/").await.status == StatusCode::NOT_FOUND);
    assert!(
        admin
            .get("/admin/blog/author/not-a-key/delete/")
            .await
            .status
            == StatusCode::NOT_FOUND
    );
    let page = admin.post_raw(&url, &[("post", "yes")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "no CSRF token");

    let page = admin.post(&url, &[("post", "yes")]).await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some("/admin/blog/author/"));
    assert!(
        blog::author::Entity::find_by_id(alice)
            .one(&db.db)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(blog::post::Entity::find().count(&db.db).await.unwrap(), 1);
    let page = admin.get("/admin/blog/author/").await;
    assert!(
        page.body
            .contains(&format!("The author “{escaped}” was deleted successfully.")),
        "{}",
        page.body
    );
    assert!(!page.body.contains(XSS));

    // The history outlives the object: oldest first, who and what.
    let page = admin
        .get(&format!("/admin/blog/author/{alice}/history/"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(
        body.contains(&format!("Change history: {escaped}")),
        "{body}"
    );
    assert!(!body.contains(XSS));
    let added = body.find("Added.").expect("addition");
    let deleted = body.find("Deleted.").expect("deletion");
    assert!(added < deleted);
    assert!(body.contains("<td>root</td>"));
    let page = admin.get("/admin/blog/author/424242/history/").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // A live object without entries has an empty history.
    let bob_post = blog::post::Entity::find()
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    let page = admin
        .get(&format!("/admin/blog/post/{}/history/", bob_post.id))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("doesn’t have a change history"));
    assert_eq!(
        admin.get("/admin/blog/nothing/1/history/").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn grant(db: &Connection, user_id: i32, app: &str, codename: &str) {
    let ct = content_type::Entity::find()
        .filter(content_type::Column::AppLabel.eq(app))
        .all(db)
        .await
        .unwrap();
    let perm = permission::Entity::find()
        .filter(permission::Column::ContentTypeId.is_in(ct.iter().map(|c| c.id)))
        .filter(permission::Column::Codename.eq(codename))
        .one(db)
        .await
        .unwrap()
        .expect("permission exists");
    user_permission::ActiveModel {
        user_id: Set(user_id),
        permission_id: Set(perm.id),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

async fn view_only_staff_sees_no_controls(db: &TestDb) {
    let router = blog_router(db).await;
    seed(&router).await;
    let (viewer, _) = create_user(&db.db, "viewer", UserKind::Regular).await;
    let mut staff: user::ActiveModel = user::Entity::find_by_id(viewer)
        .one(&db.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    staff.is_staff = Set(true);
    staff.update(&db.db).await.unwrap();
    grant(&db.db, viewer, "blog", "view_post").await;
    let mut client = Client::login(&router, "viewer").await;
    let page = client.get("/admin/blog/post/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Rust tips"));
    assert!(!page.body.contains("_selected_action"));
    assert!(!page.body.contains("action-toggle"));
    assert!(!page.body.contains("name=\"action\""));
    assert!(!page.body.contains("/admin/blog/post/add/"));
    let post_id = blog::post::Entity::find()
        .one(&db.db)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let url = format!("/admin/blog/post/{post_id}/delete/");
    assert_eq!(client.get(&url).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        client.post(&url, &[("post", "yes")]).await.status,
        StatusCode::FORBIDDEN
    );
    for action in ["delete_selected", "publish"] {
        let page = client
            .post(
                "/admin/blog/post/",
                &[
                    ("action", action),
                    ("_selected_action", &post_id),
                    ("post", "yes"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(blog::post::Entity::find().count(&db.db).await.unwrap(), 3);
    assert_eq!(
        blog::post::Entity::find()
            .filter(blog::post::Column::Published.eq(true))
            .count(&db.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        client
            .get(&format!("/admin/blog/post/{post_id}/history/"))
            .await
            .status,
        StatusCode::OK
    );
    // No permission on authors at all.
    assert_eq!(
        client.get("/admin/blog/author/").await.status,
        StatusCode::FORBIDDEN
    );
    // Not logged in: to the login page.
    let mut anonymous = Client {
        router: router.clone(),
        cookies: BTreeMap::new(),
    };
    let page = anonymous.get("/admin/blog/post/").await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert!(page.location.unwrap().starts_with("/admin/login/?next="));
}

async fn protected_objects_refuse_the_delete(db: &TestDb) {
    let app = blog::app().model::<Review>();
    let router = ferrobridge_tests::authed_router(&app, &db.db).await;
    let (alice, _) = seed(&router).await;
    review::ActiveModel {
        label: Set("Five stars".into()),
        author_id: Set(alice),
        ..Default::default()
    }
    .insert(&db.db)
    .await
    .unwrap();
    let mut admin = Client::login(&router, "root").await;
    let url = format!("/admin/blog/author/{alice}/delete/");
    let page = admin.get(&url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Cannot delete author"), "{}", page.body);
    assert!(
        page.body
            .contains("would require deleting the following protected related objects:")
    );
    assert!(
        page.body
            .contains("Review: <a href=\"/admin/shelf/review/1/change/\">Five stars</a>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Yes, I’m sure"));
    let page = admin.post(&url, &[("post", "yes")]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        blog::author::Entity::find_by_id(alice)
            .one(&db.db)
            .await
            .unwrap()
            .is_some()
    );
    // Bulk: the same refusal.
    let a = alice.to_string();
    let page = admin
        .post(
            "/admin/blog/author/",
            &[
                ("action", "delete_selected"),
                ("_selected_action", &a),
                ("post", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Deleting the selected authors would require deleting the following protected related objects:"));
    assert!(
        blog::author::Entity::find_by_id(alice)
            .one(&db.db)
            .await
            .unwrap()
            .is_some()
    );
}

/// The cursor a change list page was rendered at (`data-changes-since`).
fn page_cursor(body: &str) -> i64 {
    let (_, rest) = body
        .split_once("data-changes-since=\"")
        .expect("the change list embeds its cursor");
    rest.split('"')
        .next()
        .unwrap()
        .parse()
        .expect("a numeric cursor")
}

fn json_of(page: &Page) -> serde_json::Value {
    serde_json::from_str(&page.body).unwrap_or_else(|e| panic!("{e}: {}", page.body))
}

async fn changed_rows_since_the_page_was_loaded(db: &TestDb) {
    let router = blog_router(db).await;
    let (alice, _) = seed(&router).await;
    let mut admin = Client::login(&router, "root").await;
    let page = admin.get("/admin/blog/post/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("data-changes-url=\"/admin/blog/post/changes/\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"changes-notice\""));
    let first = blog::post::Entity::find()
        .filter(blog::post::Column::Title.eq("Rust tips"))
        .one(&db.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    assert!(page.body.contains(&format!("<tr data-pk=\"{first}\">")));
    let since = page_cursor(&page.body);
    assert!(since > 0, "the seed's writes are in the log");

    // Nothing changed yet: an empty answer with the same cursor.
    let url = |since: &str| format!("/admin/blog/post/changes/?since={since}&timeout=0");
    let reply = admin.get(&url(&since.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        json_of(&reply),
        json!({ "changed": [], "cursor": since.to_string() })
    );

    // Changes through the API: each changed post once, in commit order;
    // an author's change is not the post list's.
    let uri = format!("/api/posts/{first}");
    let patch = call(&router, Method::PATCH, &uri, Some(json!({ "likes": 3 }))).await;
    assert_eq!(patch.status, StatusCode::OK, "{:?}", patch.json);
    let added = post(&router, "Fresh", alice, "note", false).await;
    let patch = call(&router, Method::PATCH, &uri, Some(json!({ "likes": 4 }))).await;
    assert_eq!(patch.status, StatusCode::OK, "{:?}", patch.json);
    author(&router, "Carol").await;
    // The endpoint answers from the app's reader of the log, which follows
    // commits a moment later: ask until it has read the last post event.
    let labels = ["blog.post".to_string()];
    let latest = match ferrobridge::changes::read_since(&db.db, &labels, since, 1000)
        .await
        .unwrap()
    {
        ferrobridge::changes::Read::Events { cursor, .. } => cursor,
        expired => panic!("the log kept the test's events: {expired:?}"),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let answer = loop {
        let reply = admin.get(&url(&since.to_string())).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let answer = json_of(&reply);
        let read: i64 = answer["cursor"].as_str().unwrap().parse().unwrap();
        if read >= latest {
            break answer;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the reader never caught up: {answer}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        answer["changed"],
        json!([first.to_string(), added.to_string()])
    );
    let cursor = answer["cursor"].as_str().unwrap().to_string();
    assert!(cursor.parse::<i64>().unwrap() > since);
    // From the new cursor: nothing more (the author is another model).
    let answer = json_of(&admin.get(&url(&cursor)).await);
    assert_eq!(answer["changed"], json!([]));

    // A request that waits is answered when a post changes, not at its timeout.
    let waiting = {
        let mut client = admin.clone();
        let uri = format!(
            "/admin/blog/post/changes/?since={}&timeout=20",
            answer["cursor"].as_str().unwrap()
        );
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let page = client.get(&uri).await;
            (page, started.elapsed())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let reply = call(
        &router,
        Method::DELETE,
        &format!("/api/posts/{added}"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.json);
    let (page, waited) = waiting.await.unwrap();
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(json_of(&page)["changed"], json!([added.to_string()]));
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");

    // Bad input is a 400 that says what is wrong.
    for bad in [
        "/admin/blog/post/changes/",
        "/admin/blog/post/changes/?since=abc",
        "/admin/blog/post/changes/?since=-3",
        "/admin/blog/post/changes/?since=1&timeout=26",
    ] {
        let page = admin.get(bad).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}: {}", page.body);
        assert!(json_of(&page)["detail"].is_string(), "{bad}");
    }
    assert_eq!(
        admin
            .get("/admin/blog/nothing/changes/?since=0")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // A cursor older than the retained log: 410 with the oldest one kept.
    ferrobridge::changes::prune(&db.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    let oldest = ferrobridge::changes::oldest(&db.db).await.unwrap();
    assert!(oldest > 0);
    let page = admin.get(&url("0")).await;
    assert_eq!(page.status, StatusCode::GONE, "{}", page.body);
    assert_eq!(json_of(&page)["oldest"], json!(oldest.to_string()));
}

async fn changes_need_the_view_permission(db: &TestDb) {
    let router = blog_router(db).await;
    seed(&router).await;
    let (staff_id, _) = create_user(&db.db, "staff", UserKind::Regular).await;
    let mut staff: user::ActiveModel = user::Entity::find_by_id(staff_id)
        .one(&db.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    staff.is_staff = Set(true);
    staff.update(&db.db).await.unwrap();
    grant(&db.db, staff_id, "blog", "view_author").await;
    let mut client = Client::login(&router, "staff").await;
    let url = "/admin/blog/post/changes/?since=0&timeout=0";
    let page = client.get(url).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(!page.body.contains("changed"), "{}", page.body);
    // Authors are theirs to view: their changes too.
    let page = client
        .get("/admin/blog/author/changes/?since=0&timeout=0")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(json_of(&page)["changed"].as_array().unwrap().len(), 2);
    // Given the view permission, the post list's changes are theirs as well.
    grant(&db.db, staff_id, "blog", "view_post").await;
    let page = client.get(url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(json_of(&page)["changed"].as_array().unwrap().len(), 3);
    // Not logged in: to the login page, as every admin page.
    let mut anonymous = Client {
        router: router.clone(),
        cookies: BTreeMap::new(),
    };
    let page = anonymous.get(url).await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert!(page.location.unwrap().starts_with("/admin/login/?next="));
}

db_tests!(
    list_shows_columns_search_sort_and_pages,
    filters_narrow_the_list,
    bulk_delete_and_actions,
    delete_page_and_history,
    view_only_staff_sees_no_controls,
    protected_objects_refuse_the_delete,
    changed_rows_since_the_page_was_loaded,
    changes_need_the_view_permission,
);
