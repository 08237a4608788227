//! Passwords and credentials: one password policy (Django's validators,
//! configurable) on every path that sets a password, and a password change
//! revoking the account's bearer tokens and other sessions.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge::__private::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter,
};
use ferrobridge::auth::models::{token, user};
use ferrobridge::auth::{PasswordContext, PasswordPolicy, PasswordProblem, PasswordValidator};
use ferrobridge::error::ErrorKind;
use ferrobridge_tests::{
    AdminClient, PASSWORD, TestDb, UserKind, call_as, create_user, db_tests, token_login,
};
use serde_json::{Value, json};

db_tests!(
    the_api_applies_the_password_policy_to_users,
    the_password_policy_is_configurable,
    api_password_changes_revoke_tokens,
    admin_password_forms_apply_the_policy_and_revoke_tokens,
    the_command_line_applies_the_policy_and_revokes_tokens,
    logins_are_throttled_per_address_without_locking_out_trusted_users,
);

async fn blog_with(db: &TestDb, app: ferrobridge::App) -> axum::Router {
    app.create_tables(&db.db).await.unwrap();
    app.router(db.db.clone())
}

/// The `(loc, type)` pairs of a 422.
fn problems(reply: &Value) -> Vec<(Value, String)> {
    reply["detail"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["loc"].clone(),
                d["type"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn tokens_of(db: &TestDb, user_id: i32) -> u64 {
    token::Entity::find()
        .filter(token::Column::UserId.eq(user_id))
        .count(&db.db)
        .await
        .unwrap()
}

async fn the_api_applies_the_password_policy_to_users(db: &TestDb) {
    let router = blog_with(db, blog::app()).await;
    let (_, root) = create_user(&db.db, "root", UserKind::Superuser).await;
    let post = |body: Value| call_as(&router, Some(&root), Method::POST, "/api/users", Some(body));

    let zero = post(json!({ "username": "newbie", "password": "0" })).await;
    assert_eq!(
        zero.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        zero.json
    );
    let loc = json!(["body", "password"]);
    assert_eq!(
        problems(&zero.json),
        [
            (loc.clone(), "password_too_short".to_string()),
            (loc.clone(), "password_too_common".to_string()),
            (loc.clone(), "password_entirely_numeric".to_string())
        ]
    );
    assert_eq!(
        zero.json["detail"][0]["msg"],
        json!("This password is too short. It must contain at least 8 characters.")
    );
    let common = post(json!({ "username": "newbie", "password": "Password1" })).await;
    assert_eq!(
        problems(&common.json),
        [(loc.clone(), "password_too_common".to_string())]
    );
    let similar = post(json!({ "username": "annabelle", "password": "Annabelle9" })).await;
    assert_eq!(
        similar.json["detail"][0]["msg"],
        json!("The password is too similar to the username.")
    );
    assert_eq!(
        user::Entity::find().count(&db.db).await.unwrap(),
        1,
        "nothing created"
    );
    let created = post(json!({ "username": "newbie", "password": "tulip-orbit-canyon" })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["id"].clone();

    // PUT and PATCH: the same rules, compared with the row as it will be.
    let put = call_as(
        &router,
        Some(&root),
        Method::PUT,
        &format!("/api/users/{id}"),
        Some(json!({ "username": "newbie", "password": "12345678" })),
    )
    .await;
    assert_eq!(put.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problems(&put.json),
        [
            (loc.clone(), "password_too_common".to_string()),
            (loc.clone(), "password_entirely_numeric".to_string())
        ]
    );
    let user_path = format!("/api/users/{id}");
    let patch = |body: Value| call_as(&router, Some(&root), Method::PATCH, &user_path, Some(body));
    let x = patch(json!({ "password": "x" })).await;
    assert_eq!(
        problems(&x.json),
        [
            (loc.clone(), "password_too_short".to_string()),
            (loc.clone(), "password_too_common".to_string())
        ]
    );
    // Similar to the stored email address's local part.
    let email = patch(json!({ "email": "wanda.maximoff@example.com" })).await;
    assert_eq!(email.status, StatusCode::OK);
    let similar = patch(json!({ "password": "maximoff!" })).await;
    assert_eq!(
        similar.json["detail"][0]["msg"],
        json!("The password is too similar to the email address.")
    );
    // ... and to a name sent in the same body.
    let similar = patch(json!({ "first_name": "Quicksilver", "password": "quicksilver7" })).await;
    assert_eq!(
        similar.json["detail"][0]["msg"],
        json!("The password is too similar to the first name.")
    );
    assert_eq!(
        token_login(&router, "newbie", "tulip-orbit-canyon")
            .await
            .status,
        StatusCode::OK,
        "no refused write changed the password"
    );
}

/// A rule of the app's own.
struct NoSpaces;

impl PasswordValidator for NoSpaces {
    fn validate(&self, password: &str, _: &PasswordContext) -> Result<(), PasswordProblem> {
        if password.contains(' ') {
            return Err(PasswordProblem::new(
                ErrorKind::Custom("password_has_spaces".into()),
                "This password contains spaces.",
            ));
        }
        Ok(())
    }
    fn help_text(&self) -> String {
        "No spaces.".into()
    }
}

async fn the_password_policy_is_configurable(db: &TestDb) {
    let router = blog_with(db, blog::app().password_policy(PasswordPolicy::none())).await;
    let (_, root) = create_user(&db.db, "root", UserKind::Superuser).await;
    let created = call_as(
        &router,
        Some(&root),
        Method::POST,
        "/api/users",
        Some(json!({ "username": "lax", "password": "0" })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "no validators");

    let custom = blog::app().password_policy(
        PasswordPolicy::none()
            .with(ferrobridge::auth::MinimumLength(4))
            .with(NoSpaces),
    );
    let router = custom.router(db.db.clone());
    let refused = call_as(
        &router,
        Some(&root),
        Method::POST,
        "/api/users",
        Some(json!({ "username": "spacey", "password": "a b" })),
    )
    .await;
    assert_eq!(
        problems(&refused.json),
        [
            (
                json!(["body", "password"]),
                "password_too_short".to_string()
            ),
            (
                json!(["body", "password"]),
                "password_has_spaces".to_string()
            )
        ]
    );
    assert_eq!(
        refused.json["detail"][0]["msg"],
        json!("This password is too short. It must contain at least 4 characters.")
    );
    let accepted = call_as(
        &router,
        Some(&root),
        Method::POST,
        "/api/users",
        Some(json!({ "username": "spacey", "password": "1234" })),
    )
    .await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.json);
}

async fn api_password_changes_revoke_tokens(db: &TestDb) {
    let router = blog_with(db, blog::app()).await;
    let (_, root) = create_user(&db.db, "root", UserKind::Superuser).await;
    let (ann, ann_token) = create_user(&db.db, "ann", UserKind::Regular).await;
    let issued = token_login(&router, "ann", PASSWORD).await;
    assert_eq!(issued.status, StatusCode::OK);
    let issued = issued.json["access_token"].as_str().unwrap().to_string();
    let (_, bob_token) = create_user(&db.db, "bob", UserKind::Regular).await;
    let me = |token: String| {
        let router = router.clone();
        async move {
            call_as(&router, Some(&token), Method::GET, "/api/auth/me", None)
                .await
                .status
        }
    };
    assert_eq!(me(ann_token.clone()).await, StatusCode::OK);

    // A PATCH that does not touch the password keeps the tokens.
    let patched = call_as(
        &router,
        Some(&root),
        Method::PATCH,
        &format!("/api/users/{ann}"),
        Some(json!({ "first_name": "Ann" })),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(tokens_of(db, ann).await, 2);

    let patched = call_as(
        &router,
        Some(&root),
        Method::PATCH,
        &format!("/api/users/{ann}"),
        Some(json!({ "password": "tulip-orbit-canyon" })),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
    assert_eq!(me(ann_token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(issued).await, StatusCode::UNAUTHORIZED);
    assert_eq!(tokens_of(db, ann).await, 0);
    assert_eq!(
        me(bob_token).await,
        StatusCode::OK,
        "other users keep theirs"
    );

    // PUT too.
    let fresh = token_login(&router, "ann", "tulip-orbit-canyon").await.json["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(me(fresh.clone()).await, StatusCode::OK);
    let put = call_as(
        &router,
        Some(&root),
        Method::PUT,
        &format!("/api/users/{ann}"),
        Some(json!({ "username": "ann", "password": "velvet-harbor-lantern" })),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.json);
    assert_eq!(me(fresh).await, StatusCode::UNAUTHORIZED);

    // A login that re-hashes a Django hash is not a password change.
    let django_hash = "pbkdf2_sha256$1000$seasalt1234$JlBQ/OWmu3PcCFg2koQd315wDykzd702rqDsH8M7iWI=";
    let (carl, carl_token) = create_user(&db.db, "carl", UserKind::Regular).await;
    let mut row = user::Entity::find_by_id(carl)
        .one(&db.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    row.password = Set(django_hash.into());
    row.update(&db.db).await.unwrap();
    assert_eq!(
        token_login(&router, "carl", PASSWORD).await.status,
        StatusCode::OK
    );
    let rehashed = user::Entity::find_by_id(carl)
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert!(rehashed.password.starts_with("argon2$argon2id$"));
    assert_eq!(me(carl_token).await, StatusCode::OK);
}

async fn admin_password_forms_apply_the_policy_and_revoke_tokens(db: &TestDb) {
    let router = blog_with(db, blog::app()).await;
    let (admin, admin_token) = create_user(&db.db, "admin", UserKind::Superuser).await;
    let (ann, ann_token) = create_user(&db.db, "ann", UserKind::Regular).await;
    let mut client = AdminClient::new(router.clone());
    client.login("admin", PASSWORD).await;
    let mut other_session = AdminClient::new(router.clone());
    other_session.login("admin", PASSWORD).await;

    // The set-password form: Django's messages, then the change revokes ann's tokens.
    let path = format!("/admin/auth/user/{ann}/password/");
    let page = client
        .post(
            &path,
            &[
                ("password1", "Ann@Example.com1"),
                ("password2", "Ann@Example.com1"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("The password is too similar to the email address."),
        "{}",
        page.body
    );
    let page = client
        .post(&path, &[("password1", "qwerty"), ("password2", "qwerty")])
        .await;
    assert!(page.body.contains("This password is too common."));
    assert!(page.body.contains("This password is too short."));
    assert_eq!(
        tokens_of(db, ann).await,
        1,
        "a refused form changes nothing"
    );
    let page = client
        .post(
            &path,
            &[
                ("password1", "tulip-orbit-canyon"),
                ("password2", "tulip-orbit-canyon"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    assert_eq!(
        call_as(&router, Some(&ann_token), Method::GET, "/api/auth/me", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // The password change form: the policy, then the admin's own tokens and
    // other sessions end while this session stays.
    let page = client
        .post(
            "/admin/password_change/",
            &[
                ("old_password", PASSWORD),
                ("new_password1", "admin"),
                ("new_password2", "admin"),
            ],
        )
        .await;
    assert!(page.body.contains("This password is too short."));
    assert!(page.body.contains("too similar to the username"));
    let page = client
        .post(
            "/admin/password_change/",
            &[
                ("old_password", PASSWORD),
                ("new_password1", "velvet-harbor-lantern"),
                ("new_password2", "velvet-harbor-lantern"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    assert_eq!(tokens_of(db, admin).await, 0);
    assert_eq!(
        call_as(
            &router,
            Some(&admin_token),
            Method::GET,
            "/api/auth/me",
            None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(client.get("/admin/").await.status, StatusCode::OK);
    assert_eq!(
        other_session.get("/admin/").await.status,
        StatusCode::FOUND,
        "other sessions are logged out"
    );

    // The add-user form applies the same policy, with the other fields typed.
    let page = client
        .post(
            "/admin/auth/user/add/",
            &[
                ("username", "newcomer"),
                ("password", "Newcomer-1"),
                ("password2", "Newcomer-1"),
                ("email", ""),
                ("is_active", "on"),
                ("usergroup-TOTAL_FORMS", "0"),
                ("usergroup-INITIAL_FORMS", "0"),
                ("userpermission-TOTAL_FORMS", "0"),
                ("userpermission-INITIAL_FORMS", "0"),
                ("_save", "Save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("The password is too similar to the username."),
        "{}",
        page.body
    );
}

async fn the_command_line_applies_the_policy_and_revokes_tokens(db: &TestDb) {
    let app = blog::app();
    app.create_tables(&db.db).await.unwrap();
    let weak = ferrobridge::cli::create_superuser_noinput(&app, &db.db, "bossman", "", "bossman1")
        .await
        .expect_err("a weak password is refused with --noinput");
    assert!(
        weak.to_string()
            .contains("The password is too similar to the username."),
        "{weak}"
    );
    assert_eq!(user::Entity::find().count(&db.db).await.unwrap(), 0);
    ferrobridge::cli::create_superuser_noinput(&app, &db.db, "bossman", "", "tulip-orbit-canyon")
        .await
        .unwrap();
    let lax = blog::app().password_policy(PasswordPolicy::none());
    ferrobridge::cli::create_superuser_noinput(&lax, &db.db, "lax", "", "1")
        .await
        .unwrap();

    let (ann, ann_token) = create_user(&db.db, "ann", UserKind::Regular).await;
    let short = ferrobridge::cli::set_user_password(&app, &db.db, "ann", "short")
        .await
        .expect_err("changepassword refuses it");
    assert!(short.to_string().contains("too short"), "{short}");
    assert_eq!(tokens_of(db, ann).await, 1);
    ferrobridge::cli::set_user_password(&app, &db.db, "ann", "velvet-harbor-lantern")
        .await
        .unwrap();
    assert_eq!(tokens_of(db, ann).await, 0);
    let router = app.router(db.db.clone());
    assert_eq!(
        call_as(&router, Some(&ann_token), Method::GET, "/api/auth/me", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_login(&router, "ann", "velvet-harbor-lantern")
            .await
            .status,
        StatusCode::OK
    );
}

/// `POST /api/auth/token` as a client at `addr` (what the server's
/// `ConnectInfo` says about a TCP peer).
async fn api_login_from(
    router: &axum::Router,
    addr: &str,
    username: &str,
    password: &str,
) -> ferrobridge_tests::Reply {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("username", username), ("password", password)])
        .finish();
    let mut request = Request::post("/api/auth/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(addr.parse::<SocketAddr>().unwrap()));
    ferrobridge_tests::send(router, request).await
}

/// The admin's login form posted by `client` from `addr`.
async fn admin_login_from(
    client: &mut AdminClient,
    addr: &str,
    username: &str,
    password: &str,
) -> ferrobridge_tests::Page {
    client.get("/admin/login/").await;
    let csrf = client.csrf();
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrfmiddlewaretoken", csrf.as_str()),
            ("username", username),
            ("password", password),
            ("next", "/admin/"),
        ])
        .finish();
    let mut request = Request::post("/admin/login/")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(addr.parse::<SocketAddr>().unwrap()));
    client.request(request).await
}

async fn logins_are_throttled_per_address_without_locking_out_trusted_users(db: &TestDb) {
    let app = blog::app();
    app.create_tables(&db.db).await.unwrap();
    let router = app.router(db.db.clone());
    create_user(&db.db, "bob", UserKind::Regular).await;
    create_user(&db.db, "carol", UserKind::Regular).await;
    create_user(&db.db, "boss", UserKind::Superuser).await;
    let office = "127.0.0.2:40000";

    // The API: bob logs in from the office, then someone there sprays.
    assert_eq!(
        api_login_from(&router, office, "bob", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    for i in 0..8 {
        let name = format!("sprayed{i}");
        let reply = api_login_from(&router, office, &name, "Summer2024!").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "attempt {i}");
    }
    let refused = api_login_from(&router, office, "sprayed8", "Summer2024!").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&wait));
    // A name never logged in from there cannot be told from the next guess...
    assert_eq!(
        api_login_from(&router, office, "carol", PASSWORD)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...but bob, who logged in from there before, still gets in,
    assert_eq!(
        api_login_from(&router, office, "bob", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    // and other addresses are not affected.
    assert_eq!(
        api_login_from(&router, "127.0.0.3:40000", "carol", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );

    // The admin shares the throttle: the office is refused there too.
    let mut client = AdminClient::new(router.clone());
    let page = admin_login_from(&mut client, office, "sprayed9", "Summer2024!").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        page.body.contains("Too many failed logins"),
        "{}",
        page.body
    );
    assert!(page.headers.contains_key(header::RETRY_AFTER));

    // The admin alone: spraying from another address is refused after eight
    // usernames, while the superuser who logged in from there gets in.
    let branch = "127.0.0.4:40000";
    let mut boss = AdminClient::new(router.clone());
    assert_eq!(
        admin_login_from(&mut boss, branch, "boss", PASSWORD)
            .await
            .status,
        StatusCode::FOUND
    );
    let mut attacker = AdminClient::new(router.clone());
    for i in 0..8 {
        let page =
            admin_login_from(&mut attacker, branch, &format!("staff{i}"), "Summer2024!").await;
        assert_eq!(page.status, StatusCode::OK, "attempt {i}");
        assert!(
            page.body
                .contains("Please enter the correct username and password")
        );
    }
    let page = admin_login_from(&mut attacker, branch, "staff8", "Summer2024!").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("Too many failed logins"));
    let mut boss_again = AdminClient::new(router.clone());
    assert_eq!(
        admin_login_from(&mut boss_again, branch, "boss", PASSWORD)
            .await
            .status,
        StatusCode::FOUND,
        "a trusted pair passes the address lock"
    );
    assert_eq!(
        api_login_from(&router, branch, "bob", PASSWORD)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS,
        "the same address is refused on the API"
    );
}
