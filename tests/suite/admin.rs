//! The admin site's foundation over HTTP: login, sessions and their
//! cookies, CSRF, logout, password change, the index, custom pages and
//! template overrides, and the session accepted by the API.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge::__private::sea_orm::{EntityTrait, PaginatorTrait};
use ferrobridge::admin::models::session;
use ferrobridge_tests::{
    AdminClient, PASSWORD, TestDb, UserKind, blog_router, create_staff, create_user, db_tests,
};

db_tests!(
    login_rotates_the_session_and_sets_safe_cookies,
    only_active_staff_log_in,
    post_without_csrf_token_is_refused,
    logout_ends_the_session,
    password_change_ends_other_sessions,
    index_lists_only_permitted_models,
    api_accepts_the_session_with_csrf,
);

async fn superuser_client(db: &TestDb) -> (AdminClient, axum::Router) {
    let router = blog_router(db).await;
    create_user(&db.db, "admin", UserKind::Superuser).await;
    let mut client = AdminClient::new(router.clone());
    client.login("admin", PASSWORD).await;
    (client, router)
}

async fn login_rotates_the_session_and_sets_safe_cookies(db: &TestDb) {
    let router = blog_router(db).await;
    create_user(&db.db, "admin", UserKind::Superuser).await;
    let mut client = AdminClient::new(router);

    let page = client.get("/admin/").await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert_eq!(page.location(), "/admin/login/?next=%2Fadmin%2F");

    let page = client.get("/admin/login/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"csrfmiddlewaretoken\""));
    let csrf_before = client.csrf();
    // 32 random characters, a dot, and their HMAC-SHA256 (43 characters).
    assert_eq!(csrf_before.len(), 76);

    let page = client
        .post(
            "/admin/login/",
            &[
                ("username", "admin"),
                ("password", PASSWORD),
                ("next", "/admin/blog/"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    assert_eq!(page.location(), "/admin/blog/");
    let cookies = page.set_cookies();
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("sessionid="))
        .expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(session_cookie.contains("Path=/"), "{session_cookie}");
    assert!(
        !session_cookie.contains("Secure"),
        "Secure is opt-in: {session_cookie}"
    );
    // A new CSRF token at login: a token seen before login is useless after.
    assert_ne!(client.csrf(), csrf_before);
    assert_eq!(session::Entity::find().count(&db.db).await.unwrap(), 1);

    // Logging in again replaces the old session instead of adding one.
    let old = client.cookies["sessionid"].clone();
    client.login("admin", PASSWORD).await;
    assert_ne!(client.cookies["sessionid"], old);
    assert_eq!(session::Entity::find().count(&db.db).await.unwrap(), 1);

    let page = client.get("/admin/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Site administration"));

    // An open redirect through ?next= is not followed.
    client.get("/admin/login/").await;
    let page = client
        .post(
            "/admin/login/",
            &[
                ("username", "admin"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/admin/");
}

async fn only_active_staff_log_in(db: &TestDb) {
    let router = blog_router(db).await;
    create_user(&db.db, "reader", UserKind::Regular).await;
    create_user(&db.db, "gone", UserKind::Inactive).await;
    create_staff(&db.db, "staff", &[]).await;
    let mut client = AdminClient::new(router);
    for (name, password) in [("reader", PASSWORD), ("gone", PASSWORD), ("staff", "wrong")] {
        client.get("/admin/login/").await;
        let page = client
            .post(
                "/admin/login/",
                &[("username", name), ("password", password)],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{name}");
        assert!(
            page.body
                .contains("Please enter the correct username and password for a staff account")
        );
        assert!(!client.cookies.contains_key("sessionid"), "{name}");
    }
    client.login("staff", PASSWORD).await;
    let page = client.get("/admin/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("You don’t have permission to view or edit anything.")
    );
}

async fn post_without_csrf_token_is_refused(db: &TestDb) {
    let (mut client, router) = superuser_client(db).await;
    // No token in the form.
    let page = client
        .post_raw("/admin/password_change/", &[("old_password", PASSWORD)])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("CSRF verification failed"));
    // A wrong token.
    let page = client
        .post_raw(
            "/admin/logout/",
            &[("csrfmiddlewaretoken", "x".repeat(32).as_str())],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // A cross-site origin, even with the right token.
    let body = format!("csrfmiddlewaretoken={}", client.csrf());
    let request = Request::post("/admin/logout/")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "admin.example")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(body))
        .unwrap();
    let page = client.request(request).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // Still logged in: nothing was done.
    assert_eq!(client.get("/admin/").await.status, StatusCode::OK);
    // The login form needs the token too.
    let mut anonymous = AdminClient::new(router);
    let page = anonymous
        .post_raw(
            "/admin/login/",
            &[("username", "admin"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

async fn logout_ends_the_session(db: &TestDb) {
    let (mut client, _) = superuser_client(db).await;
    let stolen = client.cookies["sessionid"].clone();
    let page = client.post("/admin/logout/", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("You have been logged out"));
    assert!(!client.cookies.contains_key("sessionid"));
    assert_eq!(session::Entity::find().count(&db.db).await.unwrap(), 0);
    // The old cookie no longer opens anything.
    client.cookies.insert("sessionid".into(), stolen);
    assert_eq!(client.get("/admin/").await.status, StatusCode::FOUND);
}

async fn password_change_ends_other_sessions(db: &TestDb) {
    let router = blog_router(db).await;
    create_user(&db.db, "admin", UserKind::Superuser).await;
    let mut laptop = AdminClient::new(router.clone());
    laptop.login("admin", PASSWORD).await;
    let mut phone = AdminClient::new(router.clone());
    phone.login("admin", PASSWORD).await;

    let page = laptop
        .post(
            "/admin/password_change/",
            &[
                ("old_password", "wrong"),
                ("new_password1", "123"),
                ("new_password2", "456"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Your old password was entered incorrectly")
    );
    assert!(page.body.contains("didn’t match"));
    assert!(page.body.contains("too short"));

    let page = laptop
        .post(
            "/admin/password_change/",
            &[
                ("old_password", PASSWORD),
                ("new_password1", "a new long passphrase"),
                ("new_password2", "a new long passphrase"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let page = laptop.get("/admin/").await;
    assert_eq!(page.status, StatusCode::OK, "this session stays valid");
    assert!(page.body.contains("Your password was changed."));
    assert_eq!(
        phone.get("/admin/").await.status,
        StatusCode::FOUND,
        "the other session ended"
    );
    let mut fresh = AdminClient::new(router);
    fresh.login("admin", "a new long passphrase").await;
}

async fn index_lists_only_permitted_models(db: &TestDb) {
    let router = blog_router(db).await;
    create_staff(&db.db, "editor", &["view_post", "add_author"]).await;
    let mut client = AdminClient::new(router);
    client.login("editor", PASSWORD).await;
    let page = client.get("/admin/").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = page.body.replace("&#x2f;", "/");
    assert!(body.contains("href=\"/admin/blog/post/\""), "{body}");
    assert!(
        !body.contains("/admin/blog/post/add/"),
        "no add right on posts"
    );
    assert!(body.contains("href=\"/admin/blog/author/add/\""));
    assert!(
        !body.contains("href=\"/admin/blog/author/\""),
        "no view right on authors"
    );
    assert!(!body.contains("/admin/auth/"), "nothing of auth");
    assert_eq!(
        client.get("/admin/auth/").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(client.get("/admin/blog/").await.status, StatusCode::OK);
}

async fn api_accepts_the_session_with_csrf(db: &TestDb) {
    let (mut client, _) = superuser_client(db).await;
    let page = client.get("/api/auth/me").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("\"username\":\"admin\""));

    let create = |csrf: Option<String>| {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/api/authors")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(csrf) = csrf {
            request = request.header("x-csrftoken", csrf);
        }
        request.body(Body::from(r#"{"name":"Ann"}"#)).unwrap()
    };
    // Authors are open to all, so use groups, which need the session's rights.
    let group = |csrf: Option<String>| {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/api/groups")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(csrf) = csrf {
            request = request.header("x-csrftoken", csrf);
        }
        request.body(Body::from(r#"{"name":"editors"}"#)).unwrap()
    };
    let page = client.request(group(None)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("CSRF Failed"));
    let page = client.request(group(Some(client.csrf()))).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let page = client.request(create(Some(client.csrf()))).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
}

db_tests!(
    superuser_sets_a_users_password,
    superuser_adds_a_user_as_in_django,
    templates_can_be_overridden_and_pages_added,
);

async fn superuser_sets_a_users_password(db: &TestDb) {
    let (mut client, router) = superuser_client(db).await;
    let (id, _) = create_user(&db.db, "writer", UserKind::Regular).await;
    let url = format!("/admin/auth/user/{id}/password/");
    let page = client.get(&url).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Enter a new password for the user <strong>writer</strong>")
    );
    assert!(!page.body.contains("$argon2"), "the hash is never shown");
    let page = client
        .post(
            &url,
            &[("password1", "12345678"), ("password2", "12345678")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("entirely numeric"));
    let page = client
        .post(
            &url,
            &[
                ("password1", "writer's new phrase"),
                ("password2", "writer's new phrase"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    assert_eq!(page.location(), format!("/admin/auth/user/{id}/change/"));
    // The new password works (through the API's token endpoint).
    let reply = ferrobridge_tests::token_login(&router, "writer", "writer's new phrase").await;
    assert_eq!(reply.status, StatusCode::OK);
    // And it is in the history of the user.
    let entries = ferrobridge::admin::models::log_entry::Entity::find()
        .all(&db.db)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].object_id.as_deref(),
        Some(id.to_string().as_str())
    );
    assert_eq!(
        ferrobridge::admin::describe_change_message(&entries[0].change_message),
        "Changed Password."
    );

    // Without the change_user permission: 403.
    create_staff(&db.db, "helper", &["view_user"]).await;
    let mut helper = AdminClient::new(router);
    helper.login("helper", PASSWORD).await;
    assert_eq!(helper.get(&url).await.status, StatusCode::FORBIDDEN);
}

async fn superuser_adds_a_user_as_in_django(db: &TestDb) {
    use ferrobridge::__private::sea_orm::{ColumnTrait, QueryFilter};
    use ferrobridge::auth::models::user;
    let (mut client, router) = superuser_client(db).await;
    let page = client.get("/admin/auth/user/add/").await;
    assert_eq!(page.status, StatusCode::OK);
    // Username first, then the password twice, and nothing else, as
    // Django's add-user form: flags, groups and permissions are set on the
    // change form, which needs `auth.change_user`.
    let username = page.body.find("name=\"username\"").expect("username");
    let password = page.body.find("name=\"password\"").expect("password");
    let confirmation = page.body.find("name=\"password2\"").expect("confirmation");
    assert!(username < password && password < confirmation);
    assert!(page.body.contains("Password confirmation"));
    for flag in [
        "is_active",
        "is_staff",
        "is_superuser",
        "email",
        "usergroup-TOTAL_FORMS",
    ] {
        assert!(!page.body.contains(&format!("name=\"{flag}\"")), "{flag}");
    }

    let form = |password2: &'static str| {
        vec![
            ("username", "newcomer"),
            ("password", "a long passphrase"),
            ("password2", password2),
            ("email", ""),
            ("is_active", "on"),
            ("usergroup-TOTAL_FORMS", "0"),
            ("usergroup-INITIAL_FORMS", "0"),
            ("userpermission-TOTAL_FORMS", "0"),
            ("userpermission-INITIAL_FORMS", "0"),
            ("_save", "Save"),
        ]
    };
    let page = client
        .post("/admin/auth/user/add/", &form("another phrase"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("The two password fields didn’t match."));
    let mut weak = form("12345678");
    weak[1] = ("password", "12345678");
    let page = client.post("/admin/auth/user/add/", &weak).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("This password is entirely numeric."));
    assert_eq!(
        user::Entity::find()
            .filter(user::Column::Username.eq("newcomer"))
            .count(&db.db)
            .await
            .unwrap(),
        0,
        "nothing saved while the form has errors"
    );

    let page = client
        .post("/admin/auth/user/add/", &form("a long passphrase"))
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let row = user::Entity::find()
        .filter(user::Column::Username.eq("newcomer"))
        .one(&db.db)
        .await
        .unwrap()
        .expect("added");
    // On to the change form, as Django's UserAdmin.
    assert_eq!(
        page.location(),
        format!("/admin/auth/user/{}/change/", row.id)
    );
    assert!(
        row.is_active && !row.is_staff && !row.is_superuser,
        "the defaults"
    );
    assert!(
        row.password.starts_with("argon2$argon2id$"),
        "stored hashed"
    );
    let reply = ferrobridge_tests::token_login(&router, "newcomer", "a long passphrase").await;
    assert_eq!(reply.status, StatusCode::OK, "the new user can log in");
}

async fn report(mut ctx: ferrobridge::admin::AdminCtx) -> ferrobridge::admin::PageResult {
    ctx.staff()?;
    let count = ferrobridge::admin::models::log_entry::Entity::find()
        .count(&ctx.state.db)
        .await
        .unwrap_or(0);
    Ok(ctx.render(
        "report.html",
        minijinja::context! { title => "Report", count => count, note => "<b>bold</b>" },
    ))
}

async fn templates_can_be_overridden_and_pages_added(db: &TestDb) {
    let dir = std::env::temp_dir().join(format!("fb-templates-{}", std::process::id()));
    let dir = dir.join(format!("{:?}", db.backend));
    std::fs::create_dir_all(dir.join("admin")).unwrap();
    std::fs::write(
        dir.join("admin/login.html"),
        "{% extends \"admin/base.html\" %}{% block content %}<p id=\"custom\">Our own login, {{ csrf_token|length }}</p>{% endblock %}",
    )
    .unwrap();
    std::fs::write(
        dir.join("report.html"),
        "{% extends \"admin/base.html\" %}{% block content %}<p id=\"count\">{{ count }} actions</p><p>{{ note }}</p>{% endblock %}",
    )
    .unwrap();
    let app = blog::app()
        .admin_templates(&dir)
        .admin_header("Blog HQ")
        .admin_page("/admin/report/", "Report", axum::routing::get(report));
    let router = ferrobridge_tests::authed_router(&app, &db.db).await;
    create_user(&db.db, "admin", UserKind::Superuser).await;
    let mut client = AdminClient::new(router);
    let page = client.get("/admin/login/").await;
    assert!(
        page.body.contains("<p id=\"custom\">Our own login, 76</p>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Blog HQ"));

    // The overridden login page has no form: log in with a POST as the form would.
    let page = client
        .post(
            "/admin/login/",
            &[
                ("username", "admin"),
                ("password", PASSWORD),
                ("next", "/admin/report/"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/admin/report/");
    let page = client.get("/admin/report/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<p id=\"count\">0 actions</p>"));
    assert!(
        page.body.contains("&lt;b&gt;bold&lt;&#x2f;b&gt;"),
        "escaped: {}",
        page.body
    );
    // Linked from every admin page.
    let index = client.get("/admin/").await.body.replace("&#x2f;", "/");
    assert!(index.contains("href=\"/admin/report/\">Report</a>"));
    std::fs::remove_dir_all(&dir).ok();
}

db_tests!(groups_and_users_get_permissions_in_the_admin);

/// The auth admin end to end: a group is given a permission through its
/// inline rows, a user is put in the group through theirs, and the user
/// then holds the permission (in the admin and in the API).
async fn groups_and_users_get_permissions_in_the_admin(db: &TestDb) {
    use ferrobridge::__private::sea_orm::{ColumnTrait, QueryFilter};
    use ferrobridge::auth::models::{group, permission};
    let (mut client, router) = superuser_client(db).await;
    let (user_id, token) = create_user(&db.db, "editor", UserKind::Regular).await;
    let change_post = permission::Entity::find()
        .filter(permission::Column::Codename.eq("change_post"))
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    let permission_id = change_post.id.to_string();

    client.get("/admin/auth/group/add/").await;
    let page = client
        .post(
            "/admin/auth/group/add/",
            &[
                ("name", "Editors"),
                ("grouppermission-TOTAL_FORMS", "1"),
                ("grouppermission-INITIAL_FORMS", "0"),
                ("grouppermission-0-permission_id", permission_id.as_str()),
                ("_save", "Save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let editors = group::Entity::find()
        .filter(group::Column::Name.eq("Editors"))
        .one(&db.db)
        .await
        .unwrap()
        .expect("the group was added");
    let group_id = editors.id.to_string();

    // The user's change page: the password is a link, never an input or a hash.
    let url = format!("/admin/auth/user/{user_id}/change/");
    let page = client.get(&url).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Raw passwords are not stored"));
    assert!(!page.body.contains("name=\"password\""));
    assert!(!page.body.contains("$argon2"), "no hash on the page");
    let page = client
        .post(
            &url,
            &[
                ("username", "editor"),
                ("first_name", "Edie"),
                ("last_name", ""),
                ("email", "editor@example.com"),
                ("is_active", "on"),
                ("usergroup-TOTAL_FORMS", "1"),
                ("usergroup-INITIAL_FORMS", "0"),
                ("usergroup-0-group_id", group_id.as_str()),
                ("userpermission-TOTAL_FORMS", "0"),
                ("userpermission-INITIAL_FORMS", "0"),
                ("_save", "Save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let perms = ferrobridge::auth::user_permissions(&db.db, user_id)
        .await
        .unwrap();
    assert!(perms.contains("blog.change_post"), "{perms:?}");
    // The API agrees: the user's token now carries the group's permission.
    let me =
        ferrobridge_tests::call_as(&router, Some(&token), Method::GET, "/api/auth/me", None).await;
    assert!(
        me.json.to_string().contains("blog.change_post"),
        "{}",
        me.json
    );
    // The password still works: the change form did not touch it.
    let mut editor = AdminClient::new(router);
    editor.get("/admin/login/").await;
    let login = editor
        .post(
            "/admin/login/",
            &[("username", "editor"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        login.status,
        StatusCode::OK,
        "not staff, so refused, but the password matched nothing else"
    );
}

/// A model named by its own `Display` impl (a bare `#[model(display)]`).
#[derive(ferrobridge::Model, Clone, Debug)]
#[model(app = "shelf", display)]
pub struct Book {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 100)]
    pub title: String,
    pub pages: Option<i32>,
}

impl std::fmt::Display for Book {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "«{}»", self.title)
    }
}

#[test]
fn rows_are_named_by_template_display_impl_or_default() {
    use ferrobridge::Model;
    let book = book::Model {
        id: 7,
        title: "Dune".into(),
        pages: None,
    };
    assert_eq!(Book::display(&book), "«Dune»");
    let author = blog::author::Model {
        id: 1,
        name: "Ann <b>".into(),
        email: None,
    };
    assert_eq!(blog::Author::display(&author), "Ann <b>");
    let link = ferrobridge::auth::models::user_group::Model {
        id: 3,
        user_id: 1,
        group_id: 2,
    };
    assert_eq!(
        ferrobridge::auth::UserGroup::display(&link),
        "UserGroup object (3)",
        "Django's default"
    );
}
