//! The admin's add and change forms, inlines and autocomplete, over HTTP
//! with a real session: validation from the API shown next to fields,
//! the three save buttons, read-only fields, conflicts, an author's posts
//! edited inline, the autocomplete endpoint over 100,000 authors, a
//! view-only staff user, and escaping.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge::__private::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use ferrobridge::admin::models::log_entry;
use ferrobridge::auth::models::{content_type, permission, user, user_permission};
use ferrobridge::db::Connection;
use ferrobridge_tests::{PASSWORD, TestDb, UserKind, blog_router, create_user, db_tests};
use http_body_util::BodyExt;
use tower::ServiceExt;

db_tests!(
    add_shows_api_errors_next_to_fields_then_saves,
    save_buttons_redirect_and_message_like_django,
    change_form_is_prefilled_and_read_only_fields_stay,
    garbage_input_is_a_field_error_never_a_500,
    unique_conflict_is_a_non_field_error,
    author_posts_are_added_edited_and_deleted_inline,
    autocomplete_serves_100k_authors_by_page_with_permission,
    view_only_staff_sees_no_save_and_gets_403,
    every_form_page_escapes_titles,
);

const XSS: &str = "<script>alert(1)</script>";

/// A page as a test reads it.
struct Page {
    status: StatusCode,
    location: Option<String>,
    /// The body with `&#x2f;` read back as `/` (minijinja escapes slashes),
    /// so URLs in attributes can be looked for as written.
    html: String,
    /// The body as sent.
    raw: String,
}

/// A browser in a test: a cookie jar over the in-process router.
struct Client {
    router: axum::Router,
    cookies: BTreeMap<String, String>,
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

impl Client {
    fn new(router: &axum::Router) -> Client {
        Client {
            router: router.clone(),
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, method: Method, uri: &str, body: Option<String>) -> Page {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        // An empty Authorization header keeps the test layer's API token
        // out: only the session speaks for the user here.
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, "")
            .header(header::COOKIE, cookie.join("; "));
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(body)
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.insert(name.trim().into(), value.trim().into());
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_string());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        Page {
            status,
            location,
            html: raw.replace("&#x2f;", "/"),
            raw,
        }
    }

    async fn get(&mut self, uri: &str) -> Page {
        self.send(Method::GET, uri, None).await
    }

    /// POSTs `fields` with the CSRF token.
    async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.cookies.get("csrftoken").cloned().unwrap_or_default();
        let mut body = format!("csrfmiddlewaretoken={}", encode(&token));
        for (k, v) in fields {
            body.push_str(&format!("&{}={}", encode(k), encode(v)));
        }
        self.send(Method::POST, uri, Some(body)).await
    }

    async fn login(router: &axum::Router, username: &str) -> Client {
        let mut client = Client::new(router);
        client.get("/admin/login/").await;
        let page = client
            .post(
                "/admin/login/",
                &[
                    ("username", username),
                    ("password", PASSWORD),
                    ("next", "/admin/"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FOUND, "login: {}", page.html);
        client
    }
}

/// A staff user with only `codenames` (e.g. `view_post`) on blog models.
async fn staff_with(db: &Connection, username: &str, codenames: &[&str]) -> i32 {
    let (id, _) = create_user(db, username, UserKind::Regular).await;
    let account = user::Entity::find_by_id(id).one(db).await.unwrap().unwrap();
    let mut active: user::ActiveModel = account.into();
    active.is_staff = Set(true);
    active.update(db).await.unwrap();
    let types: Vec<i32> = content_type::Entity::find()
        .filter(content_type::Column::AppLabel.eq("blog"))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    for codename in codenames {
        let perm = permission::Entity::find()
            .filter(permission::Column::ContentTypeId.is_in(types.clone()))
            .filter(permission::Column::Codename.eq(*codename))
            .one(db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("permission {codename}"));
        user_permission::ActiveModel {
            user_id: Set(id),
            permission_id: Set(perm.id),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    id
}

/// A new author named `name` (also the atomic-save tests' fixture).
pub(crate) async fn author(db: &Connection, name: &str) -> i64 {
    blog::author::ActiveModel {
        name: Set(name.into()),
        email: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

/// A new draft post by `author_id`, owned by the first user.
pub(crate) async fn post(db: &Connection, author_id: i64, title: &str) -> i64 {
    let owner = user::Entity::find().one(db).await.unwrap().unwrap().id;
    let now = ferrobridge::__private::chrono::Utc::now();
    blog::post::ActiveModel {
        title: Set(title.into()),
        body: Set("Body text".into()),
        author_id: Set(author_id),
        owner_id: Set(owner),
        published: Set(false),
        kind: Set(blog::models::Kind::Article),
        likes: Set(5),
        rating: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

async fn logs(db: &Connection) -> Vec<log_entry::Model> {
    log_entry::Entity::find()
        .order_by_asc(log_entry::Column::Id)
        .all(db)
        .await
        .unwrap()
}

/// The `<div class="form-row field-{name}...">` block of a field.
fn row<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!("form-row field-{name}"))
        .unwrap_or_else(|| panic!("no row for {name} in {html}"));
    let rest = &html[start..];
    let end = rest[1..].find("form-row").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

async fn add_shows_api_errors_next_to_fields_then_saves(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&db.db, "Ann").await;
    let ann_text = ann.to_string();
    let mut client = Client::login(&router, "root").await;

    let page = client.get("/admin/blog/post/add/").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.html;
    assert!(html.contains("<h1>Add post</h1>"), "{html}");
    assert!(
        row(html, "title").contains(r#"<label for="id_title" class="required">Title:</label>"#)
    );
    assert!(row(html, "title").contains(r#"maxlength="200""#));
    assert!(row(html, "title").contains("The headline."), "help text");
    assert!(row(html, "body").contains("<textarea"));
    assert!(row(html, "author_id").contains(r#"class="autocomplete""#));
    assert!(row(html, "author_id").contains(r#"data-url="/admin/blog/author/autocomplete/""#));
    assert!(row(html, "author_id").contains(">Author:</label>"));
    assert!(row(html, "published").contains(r#"type="checkbox""#));
    assert!(!row(html, "published").contains("required"));
    assert!(row(html, "kind").contains(r#"<option value="article" selected>"#));
    assert!(row(html, "rating").contains(r#"step="any""#));
    assert!(row(html, "rating").contains(r#"max="5""#));
    assert!(!row(html, "rating").contains("class=\"required\""));
    // Editors (here a superuser) set likes; see authz.rs for the others.
    assert!(row(html, "likes").contains(r#"name="likes""#));
    assert!(!html.contains("name=\"owner_id\""), "server-set owner");
    assert!(!html.contains("name=\"created_at\""));
    assert!(html.contains(r#"name="_addanother""#) && html.contains(r#"name="_continue""#));

    // Empty title: the API's min_length, shown at the title; typed values kept.
    let page = client
        .post(
            "/admin/blog/post/add/",
            &[
                ("title", ""),
                ("body", "Kept body\r\nline two"),
                ("author_id", &ann_text),
                ("kind", "note"),
                ("published", "on"),
                ("rating", "4.5"),
                ("_save", "Save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.html;
    assert!(html.contains("Please correct the error below."), "{html}");
    let title = row(html, "title");
    assert!(title.contains("form-row field-title errors"));
    assert!(
        title.contains("String should have at least 1 character"),
        "{title}"
    );
    assert!(row(html, "body").contains("Kept body\nline two</textarea>"));
    assert!(row(html, "kind").contains(r#"<option value="note" selected>"#));
    assert!(row(html, "published").contains("checked"));
    assert!(row(html, "rating").contains(r#"value="4.5""#));
    assert!(row(html, "author_id").contains(&format!(r#"value="{ann}""#)));
    assert!(
        row(html, "author_id").contains(r#"value="Ann""#),
        "current choice shown"
    );
    assert_eq!(blog::post::Entity::find().count(&db.db).await.unwrap(), 0);

    // Too long, and a missing author: both fields report, nothing saved.
    let long = "x".repeat(201);
    let page = client
        .post(
            "/admin/blog/post/add/",
            &[
                ("title", &long),
                ("body", "b"),
                ("author_id", ""),
                ("kind", "note"),
            ],
        )
        .await;
    assert!(page.html.contains("Please correct the errors below."));
    assert!(row(&page.html, "title").contains("String should have at most 200 characters"));
    assert!(row(&page.html, "title").contains(&long));
    assert!(row(&page.html, "author_id").contains("This field is required."));
    assert_eq!(blog::post::Entity::find().count(&db.db).await.unwrap(), 0);

    // Fixed: saved with the admin as owner, logged, redirected with a message.
    let page = client
        .post(
            "/admin/blog/post/add/",
            &[
                ("title", "Hello"),
                ("body", "Kept body\r\nline two"),
                ("author_id", &ann_text),
                ("kind", "note"),
                ("published", "on"),
                ("rating", "4.5"),
                ("_save", "Save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.html);
    assert_eq!(page.location.as_deref(), Some("/admin/blog/post/"));
    let saved = blog::post::Entity::find()
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.title, "Hello");
    assert_eq!(saved.body, "Kept body\nline two");
    assert_eq!(saved.author_id, ann);
    assert!(saved.published);
    assert_eq!(saved.kind, blog::models::Kind::Note);
    assert_eq!(saved.rating, Some(4.5));
    assert_eq!(saved.likes, 0, "default");
    let root = user::Entity::find()
        .filter(user::Column::Username.eq("root"))
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.owner_id, root.id);
    let entries = logs(&db.db).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action_flag, 1);
    assert_eq!(
        entries[0].object_id.as_deref(),
        Some(saved.id.to_string().as_str())
    );
    assert_eq!(entries[0].object_repr, "Hello");
    assert_eq!(entries[0].change_message, r#"[{"added":{}}]"#);
    assert_eq!(entries[0].user_id, root.id);
    let next = client.get("/admin/").await;
    assert!(
        next.html
            .contains("The post “Hello” was added successfully."),
        "{}",
        next.html
    );
}

async fn save_buttons_redirect_and_message_like_django(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&db.db, "Ann").await.to_string();
    let mut client = Client::login(&router, "root").await;
    let fields = |title: &'static str, button: &'static str| {
        vec![
            ("title", title),
            ("body", "b"),
            ("kind", "article"),
            ("likes", "0"),
            (button, "1"),
        ]
    };

    let mut form = fields("First", "_continue");
    form.push(("author_id", &ann));
    let page = client.post("/admin/blog/post/add/", &form).await;
    let first = blog::post::Entity::find()
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    let change_url = format!("/admin/blog/post/{}/change/", first.id);
    assert_eq!(page.location.as_deref(), Some(change_url.as_str()));
    let page = client.get(&change_url).await;
    assert!(
        page.html
            .contains("The post “First” was added successfully. You may edit it again below.")
    );
    assert!(page.html.contains(r#"value="First""#));
    assert!(
        page.html
            .contains(&format!(r#"href="/admin/blog/post/{}/history/""#, first.id))
    );
    assert!(
        page.html
            .contains(&format!(r#"href="/admin/blog/post/{}/delete/""#, first.id))
    );

    let mut form = fields("Second", "_addanother");
    form.push(("author_id", &ann));
    let page = client.post("/admin/blog/post/add/", &form).await;
    assert_eq!(page.location.as_deref(), Some("/admin/blog/post/add/"));
    let page = client.get("/admin/blog/post/add/").await;
    assert!(
        page.html
            .contains("The post “Second” was added successfully. You may add another post below.")
    );

    // A change: logged with the changed field's label.
    let mut form = fields("First, edited", "_save");
    form.push(("author_id", &ann));
    let page = client.post(&change_url, &form).await;
    assert_eq!(page.location.as_deref(), Some("/admin/blog/post/"));
    let page = client.get("/admin/").await;
    assert!(
        page.html
            .contains("The post “First, edited” was changed successfully.")
    );
    let entries = logs(&db.db).await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2].action_flag, 2);
    assert_eq!(
        entries[2].change_message,
        r#"[{"changed":{"fields":["Title"]}}]"#
    );

    // Saving without a change logs nothing; continue editing says so.
    let mut form = fields("First, edited", "_continue");
    form.push(("author_id", &ann));
    let page = client.post(&change_url, &form).await;
    assert_eq!(page.location.as_deref(), Some(change_url.as_str()));
    let page = client.get(&change_url).await;
    assert!(page.html.contains(
        "The post “First, edited” was changed successfully. You may edit it again below."
    ));
    assert_eq!(logs(&db.db).await.len(), 3);

    let page = client
        .post(&change_url, &{
            let mut f = fields("First, again", "_addanother");
            f.push(("author_id", &ann));
            f
        })
        .await;
    assert_eq!(page.location.as_deref(), Some("/admin/blog/post/add/"));
    let page = client.get("/admin/blog/post/add/").await;
    assert!(
        page.html
            .contains("was changed successfully. You may add another post below.")
    );
}

async fn change_form_is_prefilled_and_read_only_fields_stay(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&db.db, "Ann").await;
    let id = post(&db.db, ann, "Prefilled").await;
    let before = blog::post::Entity::find_by_id(id)
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    let mut client = Client::login(&router, "root").await;
    let url = format!("/admin/blog/post/{id}/change/");
    let page = client.get(&url).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.html;
    assert!(html.contains("<h1>Change post</h1>"));
    assert!(row(html, "title").contains(r#"value="Prefilled""#));
    assert!(row(html, "body").contains(">\nBody text</textarea>"));
    assert!(row(html, "kind").contains(r#"<option value="article" selected>"#));
    assert!(row(html, "author_id").contains(r#"value="Ann""#));
    assert!(row(html, "likes").contains(r#"value="5""#));
    assert!(row(html, "owner_id").contains(r#"class="readonly""#));
    assert!(
        !row(html, "owner_id").contains(">-<"),
        "the owner's display string"
    );
    assert!(row(html, "created_at").contains(r#"class="readonly""#));
    assert!(!html.contains(r#"name="id""#));

    // Read-only fields are not taken from the POST.
    let page = client
        .post(
            &url,
            &[
                ("title", "Changed"),
                ("body", "Body text"),
                ("author_id", &ann.to_string()),
                ("kind", "article"),
                ("likes", "5"),
                ("owner_id", "12345"),
                ("created_at", "2001-01-01T00:00"),
                ("id", "777"),
                ("_save", "Save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.html);
    let after = blog::post::Entity::find_by_id(id)
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.title, "Changed");
    assert_eq!(after.likes, 5);
    assert_eq!(after.owner_id, before.owner_id);
    assert_eq!(after.created_at, before.created_at);
    assert_eq!(blog::post::Entity::find().count(&db.db).await.unwrap(), 1);

    // Unknown keys, in any format, are the 404 page.
    for bad in [
        "999999",
        "abc",
        "-1",
        "99999999999999999999999",
        "%00",
        "1.5",
    ] {
        let page = client.get(&format!("/admin/blog/post/{bad}/change/")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
        let page = client
            .post(
                &format!("/admin/blog/post/{bad}/change/"),
                &[("title", "x")],
            )
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "POST {bad}");
    }
    let page = client.get("/admin/blog/nothing/add/").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // Logged out: the login page.
    let mut anonymous = Client::new(&router);
    let page = anonymous.get(&url).await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert!(page.location.unwrap().starts_with("/admin/login/?next="));
}

async fn garbage_input_is_a_field_error_never_a_500(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&db.db, "Ann").await.to_string();
    let mut client = Client::login(&router, "root").await;
    for (field, value) in [
        ("rating", "abc"),
        ("rating", "1e999"),
        ("rating", "NaN"),
        ("rating", "9"),
        ("author_id", "xyz"),
        ("author_id", "99999999999999999999999"),
        ("kind", "poem"),
    ] {
        let mut form = vec![
            ("title", "T"),
            ("body", "b"),
            ("kind", "article"),
            ("likes", "0"),
            ("author_id", ann.as_str()),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let page = client.post("/admin/blog/post/add/", &form).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{field}={value}: {}",
            page.html
        );
        assert!(
            row(&page.html, field).contains("errorlist"),
            "{field}={value}: {}",
            row(&page.html, field)
        );
    }
    // A NUL character: refused by the form on every backend.
    let page = client
        .post(
            "/admin/blog/post/add/",
            &[
                ("title", "nul\0byte"),
                ("body", "b"),
                ("kind", "article"),
                ("likes", "0"),
                ("author_id", ann.as_str()),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(row(&page.html, "title").contains("Null characters are not allowed."));
    // A key to no author: the database refuses it, said on the form.
    let page = client
        .post(
            "/admin/blog/post/add/",
            &[
                ("title", "T"),
                ("body", "b"),
                ("kind", "article"),
                ("likes", "0"),
                ("author_id", "424242"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("errornote"));
    assert_eq!(blog::post::Entity::find().count(&db.db).await.unwrap(), 0);
    // Broken bodies and missing CSRF are refused, not 500s.
    let page = client
        .send(
            Method::POST,
            "/admin/blog/post/add/",
            Some("%%%=&&&".into()),
        )
        .await;
    assert!(page.status.is_client_error(), "{}", page.status);
    let page = client
        .send(
            Method::POST,
            "/admin/blog/post/add/",
            Some("title=x".into()),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

async fn unique_conflict_is_a_non_field_error(db: &TestDb) {
    let router = blog_router(db).await;
    let mut client = Client::login(&router, "root").await;
    let page = client
        .post(
            "/admin/blog/author/add/",
            &[
                ("name", "Ann"),
                ("email", "ann@example.com"),
                ("post-TOTAL_FORMS", "0"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.html);
    let page = client
        .post(
            "/admin/blog/author/add/",
            &[
                ("name", "Other Ann"),
                ("email", "ann@example.com"),
                ("post-TOTAL_FORMS", "0"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("errornote"), "{}", page.html);
    assert!(page.html.contains("email"), "the conflict names the field");
    assert!(row(&page.html, "name").contains(r#"value="Other Ann""#));
    assert_eq!(blog::author::Entity::find().count(&db.db).await.unwrap(), 1);
    // An empty optional email is NULL, so two authors without one do not clash.
    for name in ["No mail 1", "No mail 2"] {
        let page = client
            .post("/admin/blog/author/add/", &[("name", name), ("email", "")])
            .await;
        assert_eq!(page.status, StatusCode::FOUND, "{}", page.html);
    }
    let none = blog::author::Entity::find()
        .filter(blog::author::Column::Email.is_null())
        .count(&db.db)
        .await
        .unwrap();
    assert_eq!(none, 2);
}

async fn author_posts_are_added_edited_and_deleted_inline(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&db.db, "Ann").await;
    let bob = author(&db.db, "Bob").await;
    let keep = post(&db.db, ann, "Keep me").await;
    let gone = post(&db.db, ann, "Delete me").await;
    let other = post(&db.db, bob, "Bob's post").await;
    let mut client = Client::login(&router, "root").await;
    let url = format!("/admin/blog/author/{ann}/change/");

    let page = client.get(&url).await;
    let html = &page.html;
    assert!(html.contains(r#"id="post-group""#), "{html}");
    assert!(html.contains(r#"name="post-TOTAL_FORMS" value="5""#));
    assert!(html.contains(r#"name="post-INITIAL_FORMS" value="2""#));
    assert!(html.contains(r#"value="Keep me""#) && html.contains(r#"value="Delete me""#));
    assert!(!html.contains("Bob&#x27;s post") && !html.contains("Bob's post"));
    assert!(html.contains(r#"name="post-0-DELETE""#));
    assert!(
        !html.contains(r#"name="post-0-author_id""#),
        "the key to the parent is fixed"
    );
    assert!(html.contains(r#"name="post-4-title""#));
    // Which existing row is first depends on the ordering; find them by key.
    let index = |pk: i64| {
        let needle = format!(r#"value="{pk}">"#);
        let at = html.find(&needle).unwrap();
        let name_at = html[..at].rfind("name=\"post-").unwrap();
        html[name_at + 11..].split('-').next().unwrap().to_string()
    };
    let (k, g) = (index(keep), index(gone));
    let keep_s = keep.to_string();
    let gone_s = gone.to_string();
    let base = |title_k: &'static str| -> Vec<(String, String)> {
        let mut f = vec![
            ("name".to_string(), "Ann".to_string()),
            ("email".into(), String::new()),
            ("post-TOTAL_FORMS".into(), "5".into()),
            ("post-INITIAL_FORMS".into(), "2".into()),
        ];
        for (i, pk, title) in [(&k, &keep_s, title_k), (&g, &gone_s, "Delete me")] {
            f.push((format!("post-{i}-id"), pk.clone()));
            f.push((format!("post-{i}-title"), title.to_string()));
            f.push((format!("post-{i}-body"), "Body text".into()));
            f.push((format!("post-{i}-kind"), "article".into()));
            // As stored: editors see likes as a field, unchanged here.
            f.push((format!("post-{i}-likes"), "5".into()));
            f.push((format!("post-{i}-rating"), String::new()));
        }
        for i in 2..5 {
            f.push((format!("post-{i}-title"), String::new()));
            f.push((format!("post-{i}-body"), String::new()));
            f.push((format!("post-{i}-kind"), "article".into()));
            f.push((format!("post-{i}-likes"), "0".into()));
            f.push((format!("post-{i}-rating"), String::new()));
        }
        f
    };
    let send = |fields: Vec<(String, String)>| fields;

    // An invalid new row: its error shows in place and nothing is written,
    // not even the parent's change.
    let mut form = send(base("Kept, edited"));
    form[0].1 = "Ann renamed".into();
    set(&mut form, "post-2-body", "A body but no title");
    let refs: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let page = client.post(&url, &refs).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(
        page.html.contains("Please correct the error below."),
        "{}",
        page.html
    );
    assert!(
        !page.html.contains("errorlist\"><li>This field"),
        "{}",
        page.html
    );
    let cell = &page.html[page.html.find("field-post-2-title").unwrap()..];
    assert!(
        cell[..400].contains("String should have at least 1 character"),
        "{cell}"
    );
    assert!(
        page.html.contains("A body but no title"),
        "typed inline value kept"
    );
    assert!(page.html.contains(r#"value="Kept, edited""#));
    assert!(page.html.contains(r#"value="Ann renamed""#));
    let unchanged = blog::author::Entity::find_by_id(ann)
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.name, "Ann");
    let titles = post_titles(&db.db, ann).await;
    assert_eq!(titles, vec!["Delete me", "Keep me"]);

    // Valid: edit one, delete one, add one; another author's post is untouchable.
    let mut form = send(base("Kept, edited"));
    set(&mut form, &format!("post-{g}-DELETE"), "on");
    set(&mut form, "post-2-title", "New inline");
    set(&mut form, "post-2-body", "Fresh");
    form.push(("post-3-id".into(), other.to_string()));
    form.push(("_continue".into(), "1".into()));
    let refs: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let page = client.post(&url, &refs).await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.html);
    assert_eq!(
        post_titles(&db.db, ann).await,
        vec!["Kept, edited", "New inline"]
    );
    let bobs = blog::post::Entity::find_by_id(other)
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((bobs.title.as_str(), bobs.author_id), ("Bob's post", bob));
    let added = blog::post::Entity::find()
        .filter(blog::post::Column::Title.eq("New inline"))
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(added.body, "Fresh");
    let entries = logs(&db.db).await;
    assert_eq!(entries.len(), 1);
    let message: serde_json::Value = serde_json::from_str(&entries[0].change_message).unwrap();
    let parts = message.as_array().unwrap();
    assert!(
        parts.contains(&serde_json::json!({"added": {"name": "post", "object": "New inline"}})),
        "{message}"
    );
    assert!(
        parts.contains(&serde_json::json!({"deleted": {"name": "post", "object": "Delete me"}})),
        "{message}"
    );
    assert!(parts.contains(&serde_json::json!({"changed": {"name": "post", "object": "Kept, edited", "fields": ["Title"]}})), "{message}");
    assert_eq!(entries[0].object_repr, "Ann");

    // The add page takes inline rows too, written with the new author.
    let page = client
        .post(
            "/admin/blog/author/add/",
            &[
                ("name", "Cat"),
                ("email", ""),
                ("post-TOTAL_FORMS", "3"),
                ("post-INITIAL_FORMS", "0"),
                ("post-0-title", "Cat's first"),
                ("post-0-body", "Hi"),
                ("post-0-kind", "note"),
                ("post-1-title", ""),
                ("post-1-kind", "article"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.html);
    let cat = blog::author::Entity::find()
        .filter(blog::author::Column::Name.eq("Cat"))
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(post_titles(&db.db, cat.id).await, vec!["Cat's first"]);
    // An invalid inline row on the add page: no author is created either.
    let page = client
        .post(
            "/admin/blog/author/add/",
            &[
                ("name", "Dan"),
                ("post-TOTAL_FORMS", "1"),
                ("post-0-body", "no title"),
                ("post-0-kind", "article"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        blog::author::Entity::find()
            .filter(blog::author::Column::Name.eq("Dan"))
            .count(&db.db)
            .await
            .unwrap(),
        0
    );
}

fn set(form: &mut Vec<(String, String)>, key: &str, value: &str) {
    match form.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value.to_string(),
        None => form.push((key.to_string(), value.to_string())),
    }
}

async fn post_titles(db: &Connection, author_id: i64) -> Vec<String> {
    let mut titles: Vec<String> = blog::post::Entity::find()
        .filter(blog::post::Column::AuthorId.eq(author_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.title)
        .collect();
    titles.sort();
    titles
}

async fn autocomplete_serves_100k_authors_by_page_with_permission(db: &TestDb) {
    let router = blog_router(db).await;
    // 100,000 authors in ten multi-row INSERTs: `Writer 1` has id 1, and so on.
    for chunk in 0..10 {
        let values: Vec<String> = (chunk * 10_000 + 1..=(chunk + 1) * 10_000)
            .map(|i| format!("('Writer {i}')"))
            .collect();
        db.db
            .execute_unprepared(&format!(
                "INSERT INTO blog_author (name) VALUES {}",
                values.join(",")
            ))
            .await
            .unwrap();
    }
    assert_eq!(
        blog::author::Entity::find().count(&db.db).await.unwrap(),
        100_000
    );
    let mut client = Client::login(&router, "root").await;
    let json = |page: &Page| -> serde_json::Value {
        serde_json::from_str(&page.html).unwrap_or_else(|_| panic!("not JSON: {}", page.html))
    };

    let page = client
        .get("/admin/blog/author/autocomplete/?term=Writer+99999")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let body = json(&page);
    assert_eq!(
        body,
        serde_json::json!({"results": [{"id": "99999", "text": "Writer 99999"}], "pagination": {"more": false}})
    );
    // Case-insensitive, every word must match.
    let body = json(
        &client
            .get("/admin/blog/author/autocomplete/?term=writer%201234")
            .await,
    );
    let texts: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 20, "1234, x1234 and 1234x: {texts:?}");
    assert!(texts.iter().all(|t| t.contains("1234")));
    assert_eq!(body["pagination"]["more"], false);

    // Paging: 20 at a time, the next page different, the last page ends it.
    let first = json(
        &client
            .get("/admin/blog/author/autocomplete/?term=123")
            .await,
    );
    let second = json(
        &client
            .get("/admin/blog/author/autocomplete/?term=123&page=2")
            .await,
    );
    assert_eq!(first["results"].as_array().unwrap().len(), 20);
    assert_eq!(first["pagination"]["more"], true);
    assert_eq!(second["results"].as_array().unwrap().len(), 20);
    assert_ne!(first["results"], second["results"]);
    let last = json(
        &client
            .get("/admin/blog/author/autocomplete/?page=5000")
            .await,
    );
    assert_eq!(last["results"].as_array().unwrap().len(), 20);
    assert_eq!(last["pagination"]["more"], false);
    let past = json(
        &client
            .get("/admin/blog/author/autocomplete/?page=5001")
            .await,
    );
    assert_eq!(past["results"], serde_json::json!([]));
    for odd in [
        "?page=abc",
        "?page=-1",
        "?page=0",
        "?page=99999999999999999999999",
        "?term=%25%5F'%22",
        "?term=a%00b",
    ] {
        let page = client
            .get(&format!("/admin/blog/author/autocomplete/{odd}"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{odd}");
        json(&page);
    }

    // The post form stays small: a search box, not 100,000 options.
    let page = client.get("/admin/blog/post/add/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html.matches("<option").count() < 50,
        "options: {}",
        page.html.matches("<option").count()
    );
    assert!(page.html.len() < 100_000);
    // And the author of an existing post shows by name.
    let id = post(&db.db, 77_777, "Late").await;
    let page = client.get(&format!("/admin/blog/post/{id}/change/")).await;
    assert!(row(&page.html, "author_id").contains(r#"value="Writer 77777""#));
    assert!(page.html.matches("<option").count() < 50);

    // Permissions: a staff session with view on the target model.
    let mut anonymous = Client::new(&router);
    let page = anonymous
        .get("/admin/blog/author/autocomplete/?term=a")
        .await;
    assert_eq!(page.status, StatusCode::FOUND);
    staff_with(&db.db, "nobody", &["view_post"]).await;
    let mut nobody = Client::login(&router, "nobody").await;
    let page = nobody.get("/admin/blog/author/autocomplete/?term=a").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(json(&page)["detail"].is_string());
    staff_with(&db.db, "viewer", &["view_author"]).await;
    let mut viewer = Client::login(&router, "viewer").await;
    let page = viewer
        .get("/admin/blog/author/autocomplete/?term=Writer+5")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(json(&page)["results"].as_array().unwrap().len(), 20);
    let page = client.get("/admin/blog/nothing/autocomplete/").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

async fn view_only_staff_sees_no_save_and_gets_403(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&db.db, "Ann").await;
    let id = post(&db.db, ann, "Look only").await;
    staff_with(&db.db, "viewer", &["view_post", "view_author"]).await;
    let mut client = Client::login(&router, "viewer").await;
    let url = format!("/admin/blog/post/{id}/change/");
    let page = client.get(&url).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.html;
    assert!(html.contains("<h1>View post</h1>"), "{html}");
    assert!(html.contains("Look only"));
    assert!(!html.contains(r#"type="submit" value="Save""#));
    assert!(!html.contains("_continue") && !html.contains("_addanother"));
    assert!(!html.contains("/delete/"));
    assert!(!html.contains(r#"name="title""#));
    assert!(html.contains("/history/"));
    // A choice reads as its label, as on the change list.
    assert!(
        html.contains(r#"<div class="readonly" id="id_kind">Article</div>"#),
        "{html}"
    );
    let list = client.get("/admin/blog/post/").await;
    assert!(
        list.html.contains("<h1>Select post to view</h1>"),
        "{}",
        list.html
    );
    let page = client
        .post(&url, &[("title", "Hacked"), ("body", "x")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = client.get("/admin/blog/post/add/").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = client
        .post("/admin/blog/post/add/", &[("title", "Sneaky")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let saved = blog::post::Entity::find_by_id(id)
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.title, "Look only");
    assert_eq!(blog::post::Entity::find().count(&db.db).await.unwrap(), 1);
    // Inline posts on a view-only author page are read-only too.
    let page = client
        .get(&format!("/admin/blog/author/{ann}/change/"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Look only"));
    assert!(!page.html.contains(r#"name="post-0-title""#));
    assert!(!page.html.contains("DELETE"));
    // No permission at all on the model: 403.
    staff_with(&db.db, "stranger", &[]).await;
    let mut stranger = Client::login(&router, "stranger").await;
    assert_eq!(stranger.get(&url).await.status, StatusCode::FORBIDDEN);
}

async fn every_form_page_escapes_titles(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&db.db, XSS).await;
    let id = post(&db.db, ann, XSS).await;
    let mut client = Client::login(&router, "root").await;
    let escaped = "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;";
    let mut pages = vec![
        client.get(&format!("/admin/blog/post/{id}/change/")).await,
        client
            .get(&format!("/admin/blog/author/{ann}/change/"))
            .await,
        client.get("/admin/blog/post/add/").await,
    ];
    // Typed back after an error, and in the success message.
    pages.push(
        client
            .post(
                "/admin/blog/post/add/",
                &[("title", XSS), ("body", XSS), ("author_id", "")],
            )
            .await,
    );
    let page = client
        .post(
            &format!("/admin/blog/post/{id}/change/"),
            &[
                ("title", XSS),
                ("body", "changed"),
                ("author_id", &ann.to_string()),
                ("kind", "article"),
                ("likes", "0"),
                ("_continue", "1"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.html);
    pages.push(client.get(&format!("/admin/blog/post/{id}/change/")).await);
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(page.status, StatusCode::OK, "page {i}");
        assert!(
            !page.raw.contains(XSS),
            "page {i} has raw script: {}",
            page.raw
        );
        assert!(!page.raw.contains("<script>"), "page {i}");
        if i != 2 {
            assert!(page.raw.contains(escaped), "page {i}: {}", page.raw);
        }
    }
    let page = client
        .get(&format!("/admin/blog/author/autocomplete/?term={ann}"))
        .await;
    let body: serde_json::Value = serde_json::from_str(&page.html).unwrap();
    assert_eq!(
        body["results"][0]["text"], XSS,
        "JSON carries text; the widget inserts it as text"
    );
}
