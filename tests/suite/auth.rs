//! Authentication and permissions end to end: the OAuth2 password flow,
//! tokens (expiry, tampering, revocation), the permission matrix of the
//! generated endpoints, owners, throttling, JWTs from an external issuer,
//! Django's own tables and hashes, and `createsuperuser`.

use axum::http::{Method, StatusCode, header};
use ferrobridge::__private::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use ferrobridge::auth::models::{
    content_type, group, group_permission, permission, token, user, user_group, user_permission,
};
use ferrobridge::db::Connection;
use ferrobridge_tests::{
    PASSWORD, TestDb, UserKind, call_as, create_user, db_tests, token_login as login,
};
use serde_json::{Value, json};

db_tests!(
    password_flow_issues_tokens_that_expire_and_revoke,
    generated_endpoints_enforce_model_permissions,
    owners_edit_their_rows_and_others_need_permissions,
    hand_written_guards_and_their_openapi,
    password_hashes_never_leave_the_server,
    failed_logins_are_throttled,
    jwts_from_an_external_issuer_are_checked_against_its_jwks,
    external_identities_map_to_accounts_only_through_links,
    a_django_database_is_served_as_it_is,
);

async fn blog(db: &TestDb) -> axum::Router {
    let app = blog::app();
    app.create_tables(&db.db).await.unwrap();
    app.router(db.db.clone())
}

/// Grants `codenames` of `app.model` to a user directly or through a new group.
async fn grant(db: &Connection, user_id: i32, app: &str, codenames: &[&str], via_group: bool) {
    let ct = content_type::Entity::find()
        .filter(content_type::Column::AppLabel.eq(app))
        .all(db)
        .await
        .unwrap();
    let ids: Vec<i32> = permission::Entity::find()
        .filter(permission::Column::ContentTypeId.is_in(ct.iter().map(|c| c.id)))
        .filter(permission::Column::Codename.is_in(codenames.iter().copied()))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(
        ids.len(),
        codenames.len(),
        "permissions exist: {codenames:?}"
    );
    if via_group {
        let g = group::ActiveModel {
            name: Set(format!("group-of-{user_id}")),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        for id in ids {
            group_permission::ActiveModel {
                group_id: Set(g.id),
                permission_id: Set(id),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
        }
        user_group::ActiveModel {
            user_id: Set(user_id),
            group_id: Set(g.id),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    } else {
        for id in ids {
            user_permission::ActiveModel {
                user_id: Set(user_id),
                permission_id: Set(id),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
        }
    }
}

async fn password_flow_issues_tokens_that_expire_and_revoke(db: &TestDb) {
    let router = blog(db).await;
    create_user(&db.db, "ann", UserKind::Regular).await;
    let reply = login(&router, "ann", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["token_type"], json!("bearer"));
    assert_eq!(reply.json["expires_in"], json!(3600));
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let token = reply.json["access_token"].as_str().unwrap().to_string();

    let me = call_as(&router, Some(&token), Method::GET, "/api/auth/me", None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["username"], json!("ann"));
    assert_eq!(me.json["permissions"], json!([]));
    assert!(me.json.get("password").is_none());
    let user_row = user::Entity::find()
        .filter(user::Column::Username.eq("ann"))
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert!(user_row.last_login.is_some(), "login records last_login");

    // Wrong credentials, unknown users and inactive users get the same 400.
    for (name, password) in [("ann", "nope"), ("nobody", PASSWORD)] {
        let bad = login(&router, name, password).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(bad.json["error"], json!("invalid_grant"));
    }
    create_user(&db.db, "gone", UserKind::Inactive).await;
    assert_eq!(
        login(&router, "gone", PASSWORD).await.status,
        StatusCode::BAD_REQUEST
    );
    // JSON is not the OAuth2 form.
    let json_body = ferrobridge_tests::call(
        &router,
        Method::POST,
        "/api/auth/token",
        Some(json!({ "username": "ann" })),
    )
    .await;
    assert_eq!(json_body.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Missing, tampered and unknown tokens: 401 with WWW-Authenticate.
    let mut tampered = token.clone();
    tampered.replace_range(0..1, if tampered.starts_with('A') { "B" } else { "A" });
    for bad in [None, Some(tampered.as_str()), Some("not-a-token")] {
        let reply = call_as(&router, bad, Method::GET, "/api/auth/me", None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{bad:?}");
        assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer");
    }

    // Expiry.
    let (_, expiring) = create_user(&db.db, "bob", UserKind::Regular).await;
    token::Entity::update_many()
        .col_expr(
            token::Column::ExpiresAt,
            ferrobridge::__private::sea_orm::sea_query::Expr::value(
                ferrobridge::__private::chrono::Utc::now()
                    - ferrobridge::__private::chrono::Duration::seconds(1),
            ),
        )
        .filter(token::Column::Digest.eq(ferrobridge::auth::token_digest(&expiring)))
        .exec(&db.db)
        .await
        .unwrap();
    let expired = call_as(&router, Some(&expiring), Method::GET, "/api/auth/me", None).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);

    // Revocation.
    let out = call_as(
        &router,
        Some(&token),
        Method::POST,
        "/api/auth/logout",
        None,
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = call_as(&router, Some(&token), Method::GET, "/api/auth/me", None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    // Only the digest is stored.
    let stored: Vec<String> = token::Entity::find()
        .all(&db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.digest)
        .collect();
    assert!(stored.iter().all(|d| d.len() == 64 && *d != token));
}

async fn generated_endpoints_enforce_model_permissions(db: &TestDb) {
    // Groups use the default policy: Django's model permissions.
    let router = blog(db).await;
    let (_, root) = create_user(&db.db, "root", UserKind::Superuser).await;
    let (_, plain) = create_user(&db.db, "plain", UserKind::Regular).await;
    let (direct_id, direct) = create_user(&db.db, "direct", UserKind::Regular).await;
    let (grouped_id, grouped) = create_user(&db.db, "grouped", UserKind::Regular).await;
    let all = ["view_group", "add_group", "change_group", "delete_group"];
    grant(&db.db, direct_id, "auth", &all, false).await;
    grant(&db.db, grouped_id, "auth", &all, true).await;

    for (who, token) in [
        ("superuser", &root),
        ("direct", &direct),
        ("group", &grouped),
    ] {
        let created = call_as(
            &router,
            Some(token),
            Method::POST,
            "/api/groups",
            Some(json!({ "name": who })),
        )
        .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{who}: {:?}",
            created.json
        );
        let uri = format!("/api/groups/{}", created.json["id"]);
        assert_eq!(
            call_as(&router, Some(token), Method::GET, "/api/groups", None)
                .await
                .status,
            StatusCode::OK,
            "{who}"
        );
        assert_eq!(
            call_as(&router, Some(token), Method::GET, &uri, None)
                .await
                .status,
            StatusCode::OK,
            "{who}"
        );
        assert_eq!(
            call_as(
                &router,
                Some(token),
                Method::PUT,
                &uri,
                Some(json!({ "name": format!("{who}-x") }))
            )
            .await
            .status,
            StatusCode::OK,
            "{who}"
        );
        assert_eq!(
            call_as(
                &router,
                Some(token),
                Method::PATCH,
                &uri,
                Some(json!({ "name": format!("{who}-y") }))
            )
            .await
            .status,
            StatusCode::OK,
            "{who}"
        );
        assert_eq!(
            call_as(&router, Some(token), Method::DELETE, &uri, None)
                .await
                .status,
            StatusCode::NO_CONTENT,
            "{who}"
        );
    }

    let target = call_as(
        &router,
        Some(&root),
        Method::POST,
        "/api/groups",
        Some(json!({ "name": "kept" })),
    )
    .await;
    let uri = format!("/api/groups/{}", target.json["id"]);
    let requests: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::GET, "/api/groups", None),
        (Method::GET, &uri, None),
        (Method::POST, "/api/groups", Some(json!({ "name": "n" }))),
        (Method::PUT, &uri, Some(json!({ "name": "n" }))),
        (Method::PATCH, &uri, Some(json!({ "name": "n" }))),
        (Method::DELETE, &uri, None),
    ];
    for (method, path, body) in requests {
        let anonymous = call_as(&router, None, method.clone(), path, body.clone()).await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}"
        );
        assert_eq!(anonymous.headers[header::WWW_AUTHENTICATE], "Bearer");
        let forbidden = call_as(&router, Some(&plain), method.clone(), path, body.clone()).await;
        assert_eq!(
            forbidden.status,
            StatusCode::FORBIDDEN,
            "no permission {method} {path}"
        );
        // Permission is checked before the body is looked at.
        if body.is_some() {
            let invalid = call_as(
                &router,
                Some(&plain),
                method.clone(),
                path,
                Some(json!({ "name": 5 })),
            )
            .await;
            assert_eq!(invalid.status, StatusCode::FORBIDDEN);
        }
    }
    let still = call_as(&router, Some(&root), Method::GET, &uri, None).await;
    assert_eq!(
        still.json["name"],
        json!("kept"),
        "refused requests changed nothing"
    );

    // `policy = "public_read"` (the blog's authors): anyone reads, writes
    // need the model permission.
    let open = call_as(&router, None, Method::GET, "/api/authors", None).await;
    assert_eq!(open.status, StatusCode::OK);
    let write = call_as(
        &router,
        None,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "Anyone" })),
    )
    .await;
    assert_eq!(write.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        call_as(&router, Some(&plain), Method::GET, "/api/users", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call_as(&router, Some(&root), Method::GET, "/api/users", None)
            .await
            .status,
        StatusCode::OK
    );
    // Four permissions per model, created at start-up, once.
    blog::app().create_tables(&db.db).await.unwrap();
    let perms = call_as(
        &router,
        Some(&root),
        Method::GET,
        "/api/permissions?codename__in=add_post,change_post,delete_post,view_post",
        None,
    )
    .await;
    assert_eq!(perms.json["total"], json!(4));
    let names: Vec<&str> = perms.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Can change post"), "{names:?}");
}

async fn owners_edit_their_rows_and_others_need_permissions(db: &TestDb) {
    let router = blog(db).await;
    let (_, root) = create_user(&db.db, "root", UserKind::Superuser).await;
    let (ann_id, ann) = create_user(&db.db, "ann", UserKind::Regular).await;
    let (_, bob) = create_user(&db.db, "bob", UserKind::Regular).await;
    let (editor_id, editor) = create_user(&db.db, "editor", UserKind::Regular).await;
    grant(&db.db, editor_id, "blog", &["change_post"], false).await;
    let author = call_as(
        &router,
        Some(&root),
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "A" })),
    )
    .await;
    let body = json!({ "title": "mine", "body": "b", "author_id": author.json["id"] });

    assert_eq!(
        call_as(&router, None, Method::GET, "/api/posts", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let sneaky = call_as(
        &router,
        Some(&ann),
        Method::POST,
        "/api/posts",
        Some(json!({ "title": "t", "body": "b", "author_id": author.json["id"], "owner_id": 999 })),
    )
    .await;
    assert_eq!(
        sneaky.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the owner is not the client's to set"
    );
    let post = call_as(&router, Some(&ann), Method::POST, "/api/posts", Some(body)).await;
    assert_eq!(post.status, StatusCode::CREATED, "{:?}", post.json);
    assert_eq!(
        post.json["owner_id"],
        json!(ann_id),
        "the owner is the creator"
    );
    let uri = format!("/api/posts/{}", post.json["id"]);

    assert_eq!(
        call_as(&router, Some(&bob), Method::GET, &uri, None)
            .await
            .status,
        StatusCode::OK,
        "authenticated reads"
    );
    let patch = json!({ "title": "edited" });
    assert_eq!(
        call_as(
            &router,
            Some(&bob),
            Method::PATCH,
            &uri,
            Some(patch.clone())
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call_as(&router, Some(&bob), Method::DELETE, &uri, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call_as(
            &router,
            Some(&ann),
            Method::PATCH,
            &uri,
            Some(patch.clone())
        )
        .await
        .status,
        StatusCode::OK,
        "owner"
    );
    assert_eq!(
        call_as(
            &router,
            Some(&editor),
            Method::PATCH,
            &uri,
            Some(json!({ "title": "by editor" }))
        )
        .await
        .status,
        StatusCode::OK,
        "change permission"
    );
    assert_eq!(
        call_as(&router, Some(&editor), Method::DELETE, &uri, None)
            .await
            .status,
        StatusCode::FORBIDDEN,
        "no delete permission"
    );
    let fetched = call_as(&router, Some(&root), Method::GET, &uri, None).await;
    assert_eq!(fetched.json["title"], json!("by editor"));
    assert_eq!(
        fetched.json["owner_id"],
        json!(ann_id),
        "editing keeps the owner"
    );
    assert_eq!(
        call_as(&router, Some(&ann), Method::DELETE, &uri, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

async fn hand_written_guards_and_their_openapi(db: &TestDb) {
    let router = blog(db).await;
    let (_, root) = create_user(&db.db, "root", UserKind::Superuser).await;
    let (ann_id, ann) = create_user(&db.db, "ann", UserKind::Regular).await;
    let author = call_as(
        &router,
        Some(&root),
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "A" })),
    )
    .await;
    let post = call_as(
        &router,
        Some(&ann),
        Method::POST,
        "/api/posts",
        Some(json!({ "title": "t", "body": "b", "author_id": author.json["id"] })),
    )
    .await;
    let publish = format!("/api/posts/{}/publish", post.json["id"]);

    assert_eq!(
        call_as(&router, None, Method::POST, &publish, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call_as(&router, Some(&ann), Method::POST, &publish, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    grant(&db.db, ann_id, "blog", &["change_post"], true).await;
    let published = call_as(&router, Some(&ann), Method::POST, &publish, None).await;
    assert_eq!(published.status, StatusCode::OK);
    assert_eq!(published.json["published"], json!(true));

    assert_eq!(
        call_as(&router, None, Method::GET, "/api/my/posts", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let mine = call_as(&router, Some(&ann), Method::GET, "/api/my/posts", None).await;
    assert_eq!(mine.json.as_array().unwrap().len(), 1);

    // The extractors documented themselves: security and 401/403, no annotation.
    let document = blog::app().openapi();
    for (path, method) in [
        ("/api/posts/{pk}/publish", "post"),
        ("/api/my/posts", "get"),
        ("/api/auth/me", "get"),
        ("/api/groups", "get"),
    ] {
        let operation = &document["paths"][path][method];
        assert_eq!(
            operation["security"],
            json!([{ "OAuth2PasswordBearer": [] }]),
            "{method} {path}"
        );
        assert!(operation["responses"]["401"].is_object(), "{method} {path}");
        assert!(operation["responses"]["403"].is_object(), "{method} {path}");
    }
    assert!(
        document["paths"]["/api/posts/{pk}/publish"]["post"]["description"]
            .as_str()
            .unwrap()
            .contains("blog.change_post")
    );
    assert!(document["paths"]["/api/my/posts"]["get"]["responses"]["200"]["content"].is_object());
    assert!(
        document["paths"]["/api/stats"]["get"]["security"].is_null(),
        "public"
    );
    assert_eq!(
        document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"],
        json!("/api/auth/token")
    );
}

async fn password_hashes_never_leave_the_server(db: &TestDb) {
    let router = blog(db).await;
    let (_, root) = create_user(&db.db, "root", UserKind::Superuser).await;
    let created = call_as(
        &router,
        Some(&root),
        Method::POST,
        "/api/users",
        Some(json!({ "username": "newbie", "password": "s3cret-pass", "email": "n@example.com" })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    let row = user::Entity::find()
        .filter(user::Column::Username.eq("newbie"))
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.password.starts_with("argon2$argon2id$"),
        "stored as a hash, in Django's format"
    );
    assert!(
        !format!("{row:?}").contains(&row.password),
        "Debug hides the hash"
    );
    let model = ferrobridge::auth::User::from(row.clone());
    assert!(!format!("{model:?}").contains(&row.password));
    let id = created.json["id"].clone();
    let bodies = [
        created.json.to_string(),
        call_as(&router, Some(&root), Method::GET, "/api/users", None)
            .await
            .json
            .to_string(),
        call_as(
            &router,
            Some(&root),
            Method::GET,
            &format!("/api/users/{id}"),
            None,
        )
        .await
        .json
        .to_string(),
        call_as(
            &router,
            Some(&root),
            Method::PATCH,
            &format!("/api/users/{id}"),
            Some(json!({ "first_name": "N" })),
        )
        .await
        .json
        .to_string(),
        call_as(&router, Some(&root), Method::GET, "/api/auth/me", None)
            .await
            .json
            .to_string(),
        call_as(
            &router,
            Some(&root),
            Method::GET,
            "/api/users?expand=",
            None,
        )
        .await
        .json
        .to_string(),
    ];
    for body in &bodies {
        assert!(
            !body.contains("$argon2")
                && !body.contains("s3cret-pass")
                && !body.contains("\"password\":"),
            "{body}"
        );
    }
    // The new user logs in with the password given through the API.
    assert_eq!(
        login(&router, "newbie", "s3cret-pass").await.status,
        StatusCode::OK
    );
    // Changing it through PATCH hashes the new one.
    call_as(
        &router,
        Some(&root),
        Method::PATCH,
        &format!("/api/users/{id}"),
        Some(json!({ "password": "another-pass" })),
    )
    .await;
    assert_eq!(
        login(&router, "newbie", "s3cret-pass").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        login(&router, "newbie", "another-pass").await.status,
        StatusCode::OK
    );
}

async fn failed_logins_are_throttled(db: &TestDb) {
    let router = blog(db).await;
    create_user(&db.db, "ann", UserKind::Regular).await;
    for _ in 0..5 {
        assert_eq!(
            login(&router, "ann", "wrong").await.status,
            StatusCode::BAD_REQUEST
        );
    }
    let blocked = login(&router, "ann", PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = blocked.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&wait));
    // Other users are not locked out by ann's attempts.
    create_user(&db.db, "bob", UserKind::Regular).await;
    assert_eq!(login(&router, "bob", PASSWORD).await.status, StatusCode::OK);
}

mod keys {
    //! Keys made by the test, as an identity provider would publish them.
    use base64::Engine;
    use p256::pkcs8::EncodePrivateKey;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    use serde_json::{Value, json};

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn es256(kid: &str) -> (jsonwebtoken::EncodingKey, Value) {
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
            &secret.public_key(),
            false,
        );
        let pem = secret.to_pkcs8_pem(Default::default()).unwrap();
        let jwk = json!({ "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
                          "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()) });
        (
            jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            jwk,
        )
    }

    pub fn rs256(kid: &str) -> (jsonwebtoken::EncodingKey, Value) {
        let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let pem = private.to_pkcs1_pem(Default::default()).unwrap();
        let jwk = json!({ "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                          "n": b64(&private.n().to_bytes_be()), "e": b64(&private.e().to_bytes_be()) });
        (
            jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            jwk,
        )
    }
}

async fn jwts_from_an_external_issuer_are_checked_against_its_jwks(db: &TestDb) {
    use jsonwebtoken::{Algorithm, Header, encode};
    let dir = std::env::temp_dir().join(format!("fb-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jwks_path = dir.join(format!("{}.json", db.url.len() + rand_suffix()));
    let (es_key, es_jwk) = keys::es256("es-1");
    let (rs_key, rs_jwk) = keys::rs256("rs-1");
    std::fs::write(&jwks_path, json!({ "keys": [es_jwk, rs_jwk] }).to_string()).unwrap();

    let jwt = ferrobridge::auth::JwtAuthenticator::new(ferrobridge::auth::JwksSource::File(
        jwks_path.clone(),
    ))
    .issuer("https://id.example.com/")
    .audience("blog-api")
    .create_users(true)
    .min_refresh(std::time::Duration::ZERO);
    let app = blog::app().authenticator(jwt);
    app.create_tables(&db.db).await.unwrap();
    let router = app.router(db.db.clone());

    let now = ferrobridge::__private::chrono::Utc::now().timestamp();
    let claims = |sub: &str, iss: &str, aud: &str, exp: i64| json!({ "sub": sub, "iss": iss, "aud": aud, "exp": exp, "iat": now, "email": format!("{sub}@example.com") });
    let sign = |alg: Algorithm, kid: &str, key: &jsonwebtoken::EncodingKey, body: &Value| {
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        encode(&header, body, key).unwrap()
    };
    let good = sign(
        Algorithm::ES256,
        "es-1",
        &es_key,
        &claims("carol", "https://id.example.com/", "blog-api", now + 300),
    );
    let me = call_as(&router, Some(&good), Method::GET, "/api/auth/me", None).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
    assert_eq!(
        me.json["username"],
        json!("carol"),
        "created on first sight"
    );
    let rs = sign(
        Algorithm::RS256,
        "rs-1",
        &rs_key,
        &claims("carol", "https://id.example.com/", "blog-api", now + 300),
    );
    assert_eq!(
        call_as(&router, Some(&rs), Method::GET, "/api/auth/me", None)
            .await
            .status,
        StatusCode::OK
    );

    let bad_tokens = [
        (
            "wrong issuer",
            sign(
                Algorithm::ES256,
                "es-1",
                &es_key,
                &claims("carol", "https://evil.example.com/", "blog-api", now + 300),
            ),
        ),
        (
            "wrong audience",
            sign(
                Algorithm::ES256,
                "es-1",
                &es_key,
                &claims("carol", "https://id.example.com/", "other", now + 300),
            ),
        ),
        (
            "expired",
            sign(
                Algorithm::ES256,
                "es-1",
                &es_key,
                &claims("carol", "https://id.example.com/", "blog-api", now - 3600),
            ),
        ),
        (
            "unknown key",
            sign(
                Algorithm::ES256,
                "es-9",
                &es_key,
                &claims("carol", "https://id.example.com/", "blog-api", now + 300),
            ),
        ),
        ("tampered", {
            let mut parts: Vec<String> = good.split('.').map(String::from).collect();
            parts[1] = base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                claims("root", "https://id.example.com/", "blog-api", now + 300).to_string(),
            );
            parts.join(".")
        }),
    ];
    for (what, token) in &bad_tokens {
        let reply = call_as(&router, Some(token), Method::GET, "/api/auth/me", None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
    }

    // Key rotation: the provider publishes a new key; tokens signed with it
    // work once the cached set is refreshed for the unknown kid.
    let (new_key, new_jwk) = keys::es256("es-2");
    std::fs::write(&jwks_path, json!({ "keys": [new_jwk] }).to_string()).unwrap();
    let rotated = sign(
        Algorithm::ES256,
        "es-2",
        &new_key,
        &claims("carol", "https://id.example.com/", "blog-api", now + 300),
    );
    assert_eq!(
        call_as(&router, Some(&rotated), Method::GET, "/api/auth/me", None)
            .await
            .status,
        StatusCode::OK
    );
    let _ = std::fs::remove_file(&jwks_path);
}

async fn external_identities_map_to_accounts_only_through_links(db: &TestDb) {
    use ferrobridge::auth::{JwksSource, JwtAuthenticator, link_identity, unlink_identity};
    use jsonwebtoken::{Algorithm, Header, encode};
    let dir = std::env::temp_dir().join(format!("fb-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jwks_path = dir.join(format!("links-{}.json", db.url.len() + rand_suffix()));
    let (key, jwk) = keys::rs256("rs-1");
    std::fs::write(&jwks_path, json!({ "keys": [jwk] }).to_string()).unwrap();
    let jwt = || JwtAuthenticator::new(JwksSource::File(jwks_path.clone())).audience("blog-api");
    blog::app().create_tables(&db.db).await.unwrap();
    let router_with = |jwt: JwtAuthenticator| blog::app().authenticator(jwt).router(db.db.clone());
    let strict = router_with(jwt());
    let creating = router_with(jwt().create_users(true));
    let by_email = router_with(jwt().link_verified_email(true));

    let (root_id, _) = create_user(&db.db, "root", UserKind::Superuser).await;
    let (dora_id, _) = create_user(&db.db, "dora", UserKind::Regular).await;
    let (ed_id, _) = create_user(&db.db, "ed", UserKind::Regular).await;
    let now = ferrobridge::__private::chrono::Utc::now().timestamp();
    let token = |claims: Value| {
        let mut claims = claims;
        claims["aud"] = json!("blog-api");
        claims["exp"] = json!(now + 300);
        claims["iss"] = claims
            .get("iss")
            .cloned()
            .unwrap_or(json!("https://id.example.com/"));
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rs-1".into());
        encode(&header, &claims, &key).unwrap()
    };
    let me = |router: &axum::Router, token: String| {
        let router = router.clone();
        async move { call_as(&router, Some(&token), Method::GET, "/api/auth/me", None).await }
    };

    // A `sub` equal to a superuser's username is not that superuser.
    let named_root =
        token(json!({ "sub": "root", "email": "root@example.com", "email_verified": true }));
    assert_eq!(
        me(&strict, named_root.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me(&by_email, named_root.clone()).await.status,
        StatusCode::UNAUTHORIZED,
        "staff are never linked by email"
    );
    let created = me(&creating, named_root.clone()).await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.json);
    assert_eq!(
        created.json["username"],
        json!("root-2"),
        "a new account, named apart"
    );
    assert_eq!(created.json["is_superuser"], json!(false));
    assert_eq!(created.json["is_staff"], json!(false));
    assert_ne!(created.json["id"], json!(root_id));
    let again = me(&creating, named_root.clone()).await;
    assert_eq!(again.json["id"], created.json["id"], "the link is reused");
    assert_eq!(
        me(&strict, named_root).await.json["id"],
        created.json["id"],
        "linked now"
    );

    // Email links only when opted in, verified, and to a non-staff account.
    let unverified =
        token(json!({ "sub": "idp-dora", "email": "dora@example.com", "email_verified": false }));
    assert_eq!(
        me(&by_email, unverified).await.status,
        StatusCode::UNAUTHORIZED
    );
    let unsaid = token(json!({ "sub": "idp-dora", "email": "dora@example.com" }));
    assert_eq!(me(&by_email, unsaid).await.status, StatusCode::UNAUTHORIZED);
    let verified_ed =
        token(json!({ "sub": "idp-ed", "email": "ed@example.com", "email_verified": true }));
    assert_eq!(
        me(&strict, verified_ed).await.status,
        StatusCode::UNAUTHORIZED,
        "not opted in"
    );
    let verified =
        token(json!({ "sub": "idp-dora", "email": "dora@example.com", "email_verified": true }));
    let dora = me(&by_email, verified).await;
    assert_eq!(dora.status, StatusCode::OK, "{:?}", dora.json);
    assert_eq!(dora.json["id"], json!(dora_id));
    let no_email = token(json!({ "sub": "idp-dora" }));
    assert_eq!(
        me(&strict, no_email).await.json["id"],
        json!(dora_id),
        "linked by (iss, sub)"
    );
    let _ = ed_id;

    // An explicit link attaches an identity to a privileged account; the
    // same subject at another issuer is another identity.
    link_identity(&db.db, root_id, "https://id.example.com/", "idp-root")
        .await
        .unwrap();
    let linked = token(json!({ "sub": "idp-root" }));
    let root = me(&strict, linked.clone()).await;
    assert_eq!(root.json["id"], json!(root_id));
    assert_eq!(root.json["is_superuser"], json!(true));
    let elsewhere = token(json!({ "sub": "idp-root", "iss": "https://other.example/" }));
    assert_eq!(
        me(&strict, elsewhere).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        link_identity(&db.db, dora_id, "https://id.example.com/", "idp-root")
            .await
            .is_err(),
        "one account per identity"
    );
    assert!(
        unlink_identity(&db.db, "https://id.example.com/", "idp-root")
            .await
            .unwrap()
    );
    assert_eq!(me(&strict, linked).await.status, StatusCode::UNAUTHORIZED);

    // The `linkidentity` command does the same.
    let issuer = "https://id.example.com/";
    ferrobridge::cli::link_identity(&db.db, "root", issuer, "idp-root-2", false)
        .await
        .unwrap();
    let linked = token(json!({ "sub": "idp-root-2" }));
    assert_eq!(me(&strict, linked.clone()).await.json["id"], json!(root_id));
    assert!(
        ferrobridge::cli::link_identity(&db.db, "dora", issuer, "idp-root-2", true)
            .await
            .is_err(),
        "not dora's to unlink"
    );
    ferrobridge::cli::link_identity(&db.db, "root", issuer, "idp-root-2", true)
        .await
        .unwrap();
    assert_eq!(me(&strict, linked).await.status, StatusCode::UNAUTHORIZED);
    let _ = std::fs::remove_file(&jwks_path);
}

fn rand_suffix() -> usize {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as usize)
        .unwrap_or(0)
}

/// The tables exactly as Django 5's migrations create them on SQLite,
/// PostgreSQL and MySQL / MariaDB, with rows Django would write, then served
/// by ferrobridge.
async fn a_django_database_is_served_as_it_is(db: &TestDb) {
    let sqlite = db.backend == ferrobridge_tests::Backend::Sqlite;
    let mysql = db.backend == ferrobridge_tests::Backend::Mysql;
    let (serial, datetime) = if sqlite {
        ("integer NOT NULL PRIMARY KEY AUTOINCREMENT", "datetime")
    } else {
        (
            "integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY",
            "timestamp with time zone",
        )
    };
    let deferred = "DEFERRABLE INITIALLY DEFERRED";
    let ddl = if mysql {
        django_mysql_ddl()
    } else {
        vec![
        format!(r#"CREATE TABLE "django_content_type" ("id" {serial}, "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL)"#),
        r#"CREATE UNIQUE INDEX "django_content_type_app_label_model_76bd3d3b_uniq" ON "django_content_type" ("app_label", "model")"#.to_string(),
        format!(r#"CREATE TABLE "auth_permission" ("id" {serial}, "content_type_id" integer NOT NULL REFERENCES "django_content_type" ("id") {deferred}, "codename" varchar(100) NOT NULL, "name" varchar(255) NOT NULL)"#),
        format!(r#"CREATE TABLE "auth_group" ("id" {serial}, "name" varchar(150) NOT NULL UNIQUE)"#),
        format!(r#"CREATE TABLE "auth_group_permissions" ("id" {serial}, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") {deferred}, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") {deferred})"#),
        format!(r#"CREATE TABLE "auth_user" ("id" {serial}, "password" varchar(128) NOT NULL, "last_login" {datetime} NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" {datetime} NOT NULL, "first_name" varchar(150) NOT NULL)"#),
        format!(r#"CREATE TABLE "auth_user_groups" ("id" {serial}, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") {deferred}, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") {deferred})"#),
        format!(r#"CREATE TABLE "auth_user_user_permissions" ("id" {serial}, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") {deferred}, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") {deferred})"#),
        format!(r#"CREATE TABLE "django_admin_log" ("id" {serial}, "action_time" {datetime} NOT NULL, "object_id" text NULL, "object_repr" varchar(200) NOT NULL, "action_flag" smallint{} NOT NULL CHECK ("action_flag" >= 0), "change_message" text NOT NULL, "content_type_id" integer NULL REFERENCES "django_content_type" ("id") {deferred}, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") {deferred})"#, if sqlite { " unsigned" } else { "" }),
    ]
    };
    for statement in &ddl {
        db.db.execute_unprepared(statement).await.unwrap();
    }
    let (t, f) = if sqlite {
        ("1", "0")
    } else {
        ("true", "false")
    };
    // Django writes naive UTC on SQLite and MySQL, an offset on PostgreSQL.
    let utc = if sqlite || mysql { "" } else { "+00" };
    let rows = [
        r#"INSERT INTO "django_content_type" ("app_label", "model") VALUES ('auth', 'group'), ('blog', 'post')"#.to_string(),
        r#"INSERT INTO "auth_permission" ("content_type_id", "codename", "name") VALUES (1, 'add_group', 'Can add group'), (1, 'change_group', 'Can change group'), (1, 'delete_group', 'Can delete group'), (1, 'view_group', 'Can view group')"#.to_string(),
        r#"INSERT INTO "auth_group" ("name") VALUES ('readers')"#.to_string(),
        r#"INSERT INTO "auth_group_permissions" ("group_id", "permission_id") VALUES (1, 4)"#.to_string(),
        format!(r#"INSERT INTO "auth_user" ("password", "last_login", "is_superuser", "username", "last_name", "email", "is_staff", "is_active", "date_joined", "first_name") VALUES ('pbkdf2_sha256$1000$seasalt1234$JlBQ/OWmu3PcCFg2koQd315wDykzd702rqDsH8M7iWI=', NULL, {f}, 'django_user', '', 'd@example.com', {f}, {t}, '2024-01-02 03:04:05.678901{utc}', '')"#),
        r#"INSERT INTO "auth_user_groups" ("user_id", "group_id") VALUES (1, 1)"#.to_string(),
        // What Django's admin writes when a group is renamed.
        format!(r#"INSERT INTO "django_admin_log" ("action_time", "object_id", "object_repr", "action_flag", "change_message", "content_type_id", "user_id") VALUES ('2024-01-03 10:00:00{utc}', '1', 'readers', 2, '[{{"changed": {{"fields": ["Name"]}}}}]', 1, 1)"#),
    ];
    let rows = rows.map(|row| if mysql { backticks(&row) } else { row });
    for statement in &rows {
        db.db.execute_unprepared(statement).await.unwrap();
    }

    // ferrobridge starts on that database: nothing is recreated, missing
    // permissions are added beside Django's.
    let router = blog(db).await;
    let reply = login(&router, "django_user", PASSWORD).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "Django's pbkdf2 hash verifies: {:?}",
        reply.json
    );
    let token = reply.json["access_token"].as_str().unwrap().to_string();
    let me = call_as(&router, Some(&token), Method::GET, "/api/auth/me", None).await;
    assert_eq!(
        me.json["permissions"],
        json!(["auth.view_group"]),
        "through Django's group"
    );
    assert_eq!(me.json["date_joined"], json!("2024-01-02T03:04:05.678901Z"));
    assert_eq!(
        call_as(&router, Some(&token), Method::GET, "/api/groups", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call_as(
            &router,
            Some(&token),
            Method::POST,
            "/api/groups",
            Some(json!({ "name": "x" }))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let row = user::Entity::find()
        .filter(user::Column::Username.eq("django_user"))
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.password.starts_with("argon2$argon2id$"),
        "re-hashed at login, in Django's format"
    );
    assert_eq!(
        login(&router, "django_user", PASSWORD).await.status,
        StatusCode::OK,
        "and still logs in"
    );
    let authors = content_type::Entity::find()
        .filter(content_type::Column::Model.eq("group"))
        .all(&db.db)
        .await
        .unwrap();
    assert_eq!(
        authors.len(),
        1,
        "Django's content type reused, not duplicated"
    );
    let author_perms = permission::Entity::find()
        .filter(permission::Column::ContentTypeId.eq(authors[0].id))
        .all(&db.db)
        .await
        .unwrap();
    assert_eq!(author_perms.len(), 4, "Django's permissions reused");

    // One history for both admins: Django's entries show in ours, and ours
    // are written in Django's layout, against Django's content type.
    let promote = format!(
        r#"UPDATE "auth_user" SET "is_staff" = {t}, "is_superuser" = {t} WHERE "username" = 'django_user'"#
    );
    let promote = if mysql { backticks(&promote) } else { promote };
    db.db.execute_unprepared(&promote).await.unwrap();
    let mut admin = ferrobridge_tests::AdminClient::new(router.clone());
    admin.login("django_user", PASSWORD).await;
    let history = admin.get("/admin/auth/group/1/history/").await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    assert!(history.body.contains("Changed Name."), "{}", history.body);
    assert!(history.body.contains("django_user"));
    let page = admin
        .post(
            "/admin/auth/group/1/change/",
            &[
                ("name", "Readers"),
                ("grouppermission-TOTAL_FORMS", "0"),
                ("grouppermission-INITIAL_FORMS", "0"),
                ("_save", "Save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    // Django's `action_flag` is `smallint UNSIGNED` on MySQL.
    let entries = ferrobridge::admin::models::find_log_entries(db.db.get_database_backend())
        .all(&db.db)
        .await
        .unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let ours = &entries[1];
    assert_eq!(
        (
            ours.content_type_id,
            ours.object_id.as_deref(),
            ours.action_flag
        ),
        (Some(authors[0].id), Some("1"), 2)
    );
    assert_eq!(ours.object_repr, "Readers");
    assert_eq!(ours.change_message, r#"[{"changed":{"fields":["Name"]}}]"#);
    let history = admin.get("/admin/auth/group/1/history/").await;
    assert!(history.body.contains("Changed Name."));
    assert_eq!(history.body.matches("Changed Name.").count(), 2);
}

/// What Django 5.2's `sqlmigrate` prints on MariaDB 10.11 for the tables
/// above plus `django_session`, with each column's `ALTER TABLE ... MODIFY`
/// of later migrations folded into its `CREATE TABLE` (as `migrate` leaves
/// it; the stock project's `BigAutoField` gives the link tables `bigint`
/// ids). Django names no collation: the tables take the database's, which
/// is made the server default Django meets, `utf8mb4_general_ci`.
fn django_mysql_ddl() -> Vec<String> {
    [
        "ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
        "CREATE TABLE `django_content_type` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `app_label` varchar(100) NOT NULL, `model` varchar(100) NOT NULL)",
        "ALTER TABLE `django_content_type` ADD CONSTRAINT `django_content_type_app_label_model_76bd3d3b_uniq` UNIQUE (`app_label`, `model`)",
        "CREATE TABLE `auth_permission` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `name` varchar(255) NOT NULL, `content_type_id` integer NOT NULL, `codename` varchar(100) NOT NULL)",
        "CREATE TABLE `auth_group` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `name` varchar(150) NOT NULL UNIQUE)",
        "CREATE TABLE `auth_group_permissions` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, `group_id` integer NOT NULL, `permission_id` integer NOT NULL)",
        "CREATE TABLE `auth_user` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `password` varchar(128) NOT NULL, `last_login` datetime(6) NULL, `is_superuser` bool NOT NULL, `username` varchar(150) NOT NULL UNIQUE, `first_name` varchar(150) NOT NULL, `last_name` varchar(150) NOT NULL, `email` varchar(254) NOT NULL, `is_staff` bool NOT NULL, `is_active` bool NOT NULL, `date_joined` datetime(6) NOT NULL)",
        "CREATE TABLE `auth_user_groups` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, `user_id` integer NOT NULL, `group_id` integer NOT NULL)",
        "CREATE TABLE `auth_user_user_permissions` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, `user_id` integer NOT NULL, `permission_id` integer NOT NULL)",
        "ALTER TABLE `auth_permission` ADD CONSTRAINT `auth_permission_content_type_id_codename_01ab375a_uniq` UNIQUE (`content_type_id`, `codename`)",
        "ALTER TABLE `auth_permission` ADD CONSTRAINT `auth_permission_content_type_id_2f476e4b_fk_django_co` FOREIGN KEY (`content_type_id`) REFERENCES `django_content_type` (`id`)",
        "ALTER TABLE `auth_group_permissions` ADD CONSTRAINT `auth_group_permissions_group_id_permission_id_0cd325b0_uniq` UNIQUE (`group_id`, `permission_id`)",
        "ALTER TABLE `auth_group_permissions` ADD CONSTRAINT `auth_group_permissions_group_id_b120cbf9_fk_auth_group_id` FOREIGN KEY (`group_id`) REFERENCES `auth_group` (`id`)",
        "ALTER TABLE `auth_group_permissions` ADD CONSTRAINT `auth_group_permissio_permission_id_84c5c92e_fk_auth_perm` FOREIGN KEY (`permission_id`) REFERENCES `auth_permission` (`id`)",
        "ALTER TABLE `auth_user_groups` ADD CONSTRAINT `auth_user_groups_user_id_group_id_94350c0c_uniq` UNIQUE (`user_id`, `group_id`)",
        "ALTER TABLE `auth_user_groups` ADD CONSTRAINT `auth_user_groups_user_id_6a12ed8b_fk_auth_user_id` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)",
        "ALTER TABLE `auth_user_groups` ADD CONSTRAINT `auth_user_groups_group_id_97559544_fk_auth_group_id` FOREIGN KEY (`group_id`) REFERENCES `auth_group` (`id`)",
        "ALTER TABLE `auth_user_user_permissions` ADD CONSTRAINT `auth_user_user_permissions_user_id_permission_id_14a6b632_uniq` UNIQUE (`user_id`, `permission_id`)",
        "ALTER TABLE `auth_user_user_permissions` ADD CONSTRAINT `auth_user_user_permissions_user_id_a95ead1b_fk_auth_user_id` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)",
        "ALTER TABLE `auth_user_user_permissions` ADD CONSTRAINT `auth_user_user_permi_permission_id_1fbb5f2c_fk_auth_perm` FOREIGN KEY (`permission_id`) REFERENCES `auth_permission` (`id`)",
        "CREATE TABLE `django_admin_log` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `action_time` datetime(6) NOT NULL, `object_id` longtext NULL, `object_repr` varchar(200) NOT NULL, `action_flag` smallint UNSIGNED NOT NULL CHECK (`action_flag` >= 0), `change_message` longtext NOT NULL, `content_type_id` integer NULL, `user_id` integer NOT NULL)",
        "ALTER TABLE `django_admin_log` ADD CONSTRAINT `django_admin_log_content_type_id_c4bce8eb_fk_django_co` FOREIGN KEY (`content_type_id`) REFERENCES `django_content_type` (`id`)",
        "ALTER TABLE `django_admin_log` ADD CONSTRAINT `django_admin_log_user_id_c564eba6_fk_auth_user_id` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)",
        "CREATE TABLE `django_session` (`session_key` varchar(40) NOT NULL PRIMARY KEY, `session_data` longtext NOT NULL, `expire_date` datetime(6) NOT NULL)",
        "CREATE INDEX `django_session_expire_date_a5c62663` ON `django_session` (`expire_date`)",
    ]
    .map(String::from)
    .to_vec()
}

/// `statement` with its double-quoted identifiers in MySQL's backticks;
/// single-quoted literals are left as they are.
fn backticks(statement: &str) -> String {
    let mut in_literal = false;
    statement
        .chars()
        .map(|c| match c {
            '\'' => {
                in_literal = !in_literal;
                c
            }
            '"' if !in_literal => '`',
            _ => c,
        })
        .collect()
}
