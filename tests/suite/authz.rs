//! Authorization regressions of issue #12: no single permission reaches
//! more than Django grants it — `?expand=`, the add-user flags, the auth
//! link tables, cascading deletes and field-level write rules, through the
//! API and the admin alike. The generated matrix is in `authz_matrix.rs`.

use axum::http::{Method, StatusCode};
use ferrobridge::__private::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter,
};
use ferrobridge::auth::models::{permission, user, user_permission};
use ferrobridge::db::Connection;
use ferrobridge_tests::{
    AdminClient, PASSWORD, TestDb, UserKind, blog_router, call, call_as, create_user, db_tests,
};
use serde_json::{Value, json};

db_tests!(
    expand_needs_view_permission_on_the_target,
    add_user_alone_cannot_set_flags,
    link_tables_follow_the_parents_permissions,
    link_tables_refuse_duplicate_pairs,
    cascading_deletes_need_rights_on_every_row,
    write_perm_fields_need_change_on_every_path,
    admin_hides_labels_of_unviewable_targets,
    expand_embeds_null_for_rows_the_row_policy_hides,
);

/// A clip of a memo: anyone logged in reads clips, but memos are private
/// (`own_rows_only`), so a clip's memo is embedded only for its owner.
#[derive(ferrobridge::Model, Clone, Debug)]
#[model(app = "clips")]
#[api(policy = "authenticated")]
pub struct Clip {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = crate::edge_models::Memo, on_delete = "cascade")]
    pub memo_id: i64,
}

async fn expand_embeds_null_for_rows_the_row_policy_hides(db: &TestDb) {
    let app = ferrobridge::App::new("clips")
        .model::<crate::edge_models::Memo>()
        .model::<Clip>();
    let router = ferrobridge_tests::authed_router(&app, &db.db).await;
    let (_, ann) = create_user(&db.db, "ann", UserKind::Regular).await;
    let (_, bob) = create_user(&db.db, "bob", UserKind::Regular).await;
    let mut memos = Vec::new();
    for (token, text) in [(&ann, "ann's secret"), (&bob, "bob's secret")] {
        let memo = call_as(
            &router,
            Some(token),
            Method::POST,
            "/api/memos",
            Some(json!({ "text": text })),
        )
        .await;
        assert_eq!(memo.status, StatusCode::CREATED, "{:?}", memo.json);
        let id = memo.json["id"].as_i64().unwrap();
        let clip = call_as(
            &router,
            Some(&ann),
            Method::POST,
            "/api/clips",
            Some(json!({ "memo_id": id })),
        )
        .await;
        assert_eq!(clip.status, StatusCode::CREATED);
        memos.push((id, clip.json["id"].as_i64().unwrap()));
    }
    let list = call_as(
        &router,
        Some(&ann),
        Method::GET,
        "/api/clips?expand=memo",
        None,
    )
    .await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.json["items"].as_array().unwrap();
    let memo_of =
        |memo: i64| items.iter().find(|c| c["memo_id"] == json!(memo)).unwrap()["memo"].clone();
    assert_eq!(memo_of(memos[0].0)["text"], json!("ann's secret"));
    assert_eq!(memo_of(memos[1].0), Value::Null, "bob's memo stays hidden");
    assert!(!list.json.to_string().contains("bob's secret"));
    let one = call_as(
        &router,
        Some(&ann),
        Method::GET,
        &format!("/api/clips/{}?expand=memo", memos[1].1),
        None,
    )
    .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json["memo"], Value::Null);
}

/// A user holding exactly `codes` (`app.codename`), staff so the admin
/// applies to them too; returns the id and a bearer token.
pub async fn user_with(db: &Connection, name: &str, codes: &[&str]) -> (i32, String) {
    let (id, token) = create_user(db, name, UserKind::Regular).await;
    let mut row = user::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    row.is_staff = Set(true);
    row.update(db).await.unwrap();
    for code in codes {
        let (_, codename) = code.split_once('.').unwrap();
        let found = permission::Entity::find()
            .filter(permission::Column::Codename.eq(codename))
            .one(db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no permission {code}"));
        user_permission::ActiveModel {
            user_id: Set(id),
            permission_id: Set(found.id),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    (id, token)
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

async fn post_as(router: &axum::Router, token: Option<&str>, author: i64) -> i64 {
    let body = json!({ "title": "t", "body": "b", "author_id": author });
    let reply = match token {
        Some(token) => call_as(router, Some(token), Method::POST, "/api/posts", Some(body)).await,
        None => call(router, Method::POST, "/api/posts", Some(body)).await,
    };
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    reply.json["id"].as_i64().unwrap()
}

fn detail(reply: &ferrobridge_tests::Reply) -> String {
    reply.json["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn expand_needs_view_permission_on_the_target(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&router, "Ann").await;
    let post = post_as(&router, None, ann).await; // owned by root, a superuser
    let (_, plain) = user_with(&db.db, "plain", &[]).await;
    let (_, viewer) = user_with(&db.db, "viewer", &["auth.view_user"]).await;

    for uri in [
        "/api/posts?expand=owner".to_string(),
        format!("/api/posts/{post}?expand=owner"),
        format!("/api/posts/{post}?expand=author,owner"),
    ] {
        let reply = call_as(&router, Some(&plain), Method::GET, &uri, None).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{uri}");
        let text = detail(&reply);
        assert!(
            text.contains("expand=owner") && text.contains("auth.view_user"),
            "{text}"
        );
        assert!(
            !reply.json.to_string().contains("root@example.com"),
            "{uri}"
        );
        let allowed = call_as(&router, Some(&viewer), Method::GET, &uri, None).await;
        assert_eq!(allowed.status, StatusCode::OK, "{uri}");
        assert!(
            allowed.json.to_string().contains("root@example.com"),
            "{uri}"
        );
    }
    // Authors are public: anyone expands them, anonymous callers included.
    let reply = call_as(
        &router,
        Some(&plain),
        Method::GET,
        "/api/posts?expand=author",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["items"][0]["author"]["name"], json!("Ann"));

    // A user's permission links are viewing the user; the permission itself
    // needs `auth.view_permission`, its content type `contenttypes.view_contenttype`.
    let grants = call_as(
        &router,
        Some(&viewer),
        Method::GET,
        "/api/user_permissions?expand=user",
        None,
    )
    .await;
    assert_eq!(grants.status, StatusCode::OK, "{:?}", grants.json);
    let reply = call_as(
        &router,
        Some(&viewer),
        Method::GET,
        "/api/user_permissions?expand=permission",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(detail(&reply).contains("auth.view_permission"));
    let reply = call_as(
        &router,
        Some(&plain),
        Method::GET,
        "/api/user_permissions?expand=user",
        None,
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "the list itself needs view_user"
    );
    let (_, perms) = user_with(
        &db.db,
        "perms",
        &["auth.view_permission", "auth.view_group"],
    )
    .await;
    let reply = call_as(
        &router,
        Some(&perms),
        Method::GET,
        "/api/permissions?expand=content_type",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(detail(&reply).contains("contenttypes.view_contenttype"));
    let reply = call_as(
        &router,
        Some(&perms),
        Method::GET,
        "/api/group_permissions?expand=group",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = call_as(
        &router,
        Some(&perms),
        Method::GET,
        "/api/group_permissions?expand=permission",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

async fn add_user_alone_cannot_set_flags(db: &TestDb) {
    let router = blog_router(db).await;
    let (_, adder) = user_with(&db.db, "adder", &["auth.add_user"]).await;
    for flag in ["is_superuser", "is_staff"] {
        let body = json!({ "username": format!("evil_{flag}"), "password": "a long passphrase", flag: true });
        let reply = call_as(
            &router,
            Some(&adder),
            Method::POST,
            "/api/users",
            Some(body),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{flag}: {:?}",
            reply.json
        );
        let text = detail(&reply);
        assert!(
            text.contains(flag) && text.contains("auth.change_user"),
            "{text}"
        );
    }
    let body = json!({ "username": "evil", "password": "a long passphrase", "is_active": false });
    let reply = call_as(
        &router,
        Some(&adder),
        Method::POST,
        "/api/users",
        Some(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        user::Entity::find()
            .filter(user::Column::Username.starts_with("evil"))
            .count(&db.db)
            .await
            .unwrap(),
        0
    );
    // The defaults, given or not, pass: a plain active account.
    let body = json!({ "username": "newcomer", "password": "a long passphrase", "is_active": true, "is_superuser": false });
    let reply = call_as(
        &router,
        Some(&adder),
        Method::POST,
        "/api/users",
        Some(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    assert_eq!(reply.json["is_superuser"], json!(false));
    // With change_user the flags are the holder's to set, as in Django.
    let (_, admin) = user_with(&db.db, "admin2", &["auth.add_user", "auth.change_user"]).await;
    let body = json!({ "username": "boss", "password": "a long passphrase", "is_staff": true });
    let reply = call_as(
        &router,
        Some(&admin),
        Method::POST,
        "/api/users",
        Some(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);

    // The admin's add-user form offers no flags to anyone.
    let mut client = AdminClient::new(router.clone());
    client.login("adder", PASSWORD).await;
    let page = client.get("/admin/auth/user/add/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"username\""));
    assert!(!page.body.contains("name=\"is_superuser\""));
    let page = client
        .post(
            "/admin/auth/user/add/",
            &[
                ("username", "sneaky"),
                ("password", "a long passphrase"),
                ("password2", "a long passphrase"),
                ("is_superuser", "on"),
                ("is_staff", "on"),
                ("_save", "Save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let sneaky = user::Entity::find()
        .filter(user::Column::Username.eq("sneaky"))
        .one(&db.db)
        .await
        .unwrap()
        .expect("added");
    assert!(!sneaky.is_superuser && !sneaky.is_staff, "flags ignored");
}

async fn permission_id(db: &Connection, codename: &str) -> i32 {
    permission::Entity::find()
        .filter(permission::Column::Codename.eq(codename))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no permission {codename}"))
        .id
}

async fn link_tables_follow_the_parents_permissions(db: &TestDb) {
    let router = blog_router(db).await;
    // Django creates no permissions for auto-created through tables.
    for codename in [
        "add_userpermission",
        "change_usergroup",
        "view_grouppermission",
    ] {
        let found = permission::Entity::find()
            .filter(permission::Column::Codename.eq(codename))
            .count(&db.db)
            .await
            .unwrap();
        assert_eq!(found, 0, "{codename}");
    }
    let change_user = permission_id(&db.db, "change_user").await;
    let (me, adder) = user_with(&db.db, "adder", &["auth.add_user", "auth.view_user"]).await;
    let grant = json!({ "user_id": me, "permission_id": change_user });
    let reply = call_as(
        &router,
        Some(&adder),
        Method::POST,
        "/api/user_permissions",
        Some(grant.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.json);
    assert!(detail(&reply).contains("auth.change_user"));
    let reply = call_as(
        &router,
        Some(&adder),
        Method::GET,
        "/api/user_permissions",
        None,
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "view_user reads a user's permissions"
    );
    let group = call(
        &router,
        Method::POST,
        "/api/groups",
        Some(json!({ "name": "g" })),
    )
    .await;
    let group = group.json["id"].as_i64().unwrap();
    let join = json!({ "user_id": me, "group_id": group });
    let reply = call_as(
        &router,
        Some(&adder),
        Method::POST,
        "/api/user_groups",
        Some(join.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let (_, groups) = user_with(&db.db, "grouper", &["auth.view_group"]).await;
    let link = json!({ "group_id": group, "permission_id": change_user });
    let reply = call_as(
        &router,
        Some(&groups),
        Method::POST,
        "/api/group_permissions",
        Some(link.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(detail(&reply).contains("auth.change_group"));
    // The parent's change permission edits the links.
    let (_, editor) = user_with(&db.db, "editor", &["auth.change_user", "auth.change_group"]).await;
    for (path, body) in [
        ("/api/user_permissions", grant),
        ("/api/user_groups", join),
        ("/api/group_permissions", link),
    ] {
        let reply = call_as(&router, Some(&editor), Method::POST, path, Some(body)).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{path}: {:?}",
            reply.json
        );
    }
}

async fn link_tables_refuse_duplicate_pairs(db: &TestDb) {
    let router = blog_router(db).await;
    let view_user = permission_id(&db.db, "view_user").await;
    let (me, _) = user_with(&db.db, "someone", &[]).await;
    let group = call(
        &router,
        Method::POST,
        "/api/groups",
        Some(json!({ "name": "g" })),
    )
    .await;
    let group = group.json["id"].as_i64().unwrap();
    for (path, body, names) in [
        (
            "/api/user_permissions",
            json!({ "user_id": me, "permission_id": view_user }),
            "user_id and permission_id",
        ),
        (
            "/api/user_groups",
            json!({ "user_id": me, "group_id": group }),
            "user_id and group_id",
        ),
        (
            "/api/group_permissions",
            json!({ "group_id": group, "permission_id": view_user }),
            "group_id and permission_id",
        ),
    ] {
        let first = call(&router, Method::POST, path, Some(body.clone())).await;
        assert_eq!(first.status, StatusCode::CREATED, "{path}");
        let again = call(&router, Method::POST, path, Some(body)).await;
        assert_eq!(
            again.status,
            StatusCode::CONFLICT,
            "{path}: {:?}",
            again.json
        );
        assert!(detail(&again).contains(names), "{path}: {}", detail(&again));
    }
}

async fn cascading_deletes_need_rights_on_every_row(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&router, "Ann").await;
    let roots_post = post_as(&router, None, ann).await;
    // Strangers never delete authors now (`public_read`).
    let reply = call_as(
        &router,
        None,
        Method::DELETE,
        &format!("/api/authors/{ann}"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // delete_author alone does not reach the root's post.
    let (_, deleter) = user_with(&db.db, "deleter", &["blog.delete_author"]).await;
    let reply = call_as(
        &router,
        Some(&deleter),
        Method::DELETE,
        &format!("/api/authors/{ann}"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.json);
    let text = detail(&reply);
    assert!(
        text.contains("post") && text.contains("blog.delete_post"),
        "{text}"
    );
    let still = call(
        &router,
        Method::GET,
        &format!("/api/posts/{roots_post}"),
        None,
    )
    .await;
    assert_eq!(still.status, StatusCode::OK, "nothing deleted");
    // Their own posts are theirs to delete (the owner rule), so the cascade passes.
    let bob = author(&router, "Bob").await;
    post_as(&router, Some(&deleter), bob).await;
    let reply = call_as(
        &router,
        Some(&deleter),
        Method::DELETE,
        &format!("/api/authors/{bob}"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.json);
    // With delete_post too, the root's post goes with its author.
    let (_, both) = user_with(&db.db, "both", &["blog.delete_author", "blog.delete_post"]).await;
    let reply = call_as(
        &router,
        Some(&both),
        Method::DELETE,
        &format!("/api/authors/{ann}"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let gone = call(
        &router,
        Method::GET,
        &format!("/api/posts/{roots_post}"),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    // Deleting a user takes their posts: delete_user alone is not enough.
    let (victim, victim_token) = user_with(&db.db, "victim", &[]).await;
    let cid = author(&router, "Cid").await;
    post_as(&router, Some(&victim_token), cid).await;
    let (_, users) = user_with(&db.db, "users", &["auth.delete_user"]).await;
    let reply = call_as(
        &router,
        Some(&users),
        Method::DELETE,
        &format!("/api/users/{victim}"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // A user's link rows go with them without permissions of their own.
    let (plain, _) = user_with(&db.db, "linked", &["blog.view_post"]).await;
    let reply = call_as(
        &router,
        Some(&users),
        Method::DELETE,
        &format!("/api/users/{plain}"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.json);
}

async fn write_perm_fields_need_change_on_every_path(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&router, "Ann").await;
    let (_, owner) = user_with(&db.db, "owner", &["blog.add_post", "blog.view_post"]).await;
    let uri = "/api/posts";
    let base = json!({ "title": "t", "body": "b", "author_id": ann });
    let with = |extra: Value| {
        let mut body = base.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for extra in [json!({ "published": true }), json!({ "likes": 5 })] {
        let reply = call_as(
            &router,
            Some(&owner),
            Method::POST,
            uri,
            Some(with(extra.clone())),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{extra}");
        assert!(
            detail(&reply).contains("blog.change_post"),
            "{}",
            detail(&reply)
        );
    }
    let reply = call_as(
        &router,
        Some(&owner),
        Method::POST,
        uri,
        Some(with(json!({ "published": false, "likes": 0 }))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "the defaults pass");
    let mine = reply.json["id"].as_i64().unwrap();
    let item = format!("/api/posts/{mine}");
    let reply = call_as(
        &router,
        Some(&owner),
        Method::PATCH,
        &item,
        Some(json!({ "published": true })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(detail(&reply).contains("`published`"));
    let reply = call_as(
        &router,
        Some(&owner),
        Method::PATCH,
        &item,
        Some(json!({ "likes": 1000 })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = call_as(
        &router,
        Some(&owner),
        Method::PATCH,
        &item,
        Some(json!({ "published": false, "title": "new" })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "unchanged values pass");
    let reply = call_as(
        &router,
        Some(&owner),
        Method::PUT,
        &item,
        Some(with(json!({ "published": false }))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    // Editors publish, as the dedicated publish action requires.
    let (_, editor) = user_with(&db.db, "editor", &["blog.change_post"]).await;
    let reply = call_as(
        &router,
        Some(&editor),
        Method::PATCH,
        &item,
        Some(json!({ "published": true, "likes": 3 })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);

    // The admin shows them read-only to a user without change_post.
    let mut client = AdminClient::new(router.clone());
    client.login("owner", PASSWORD).await;
    let page = client.get("/admin/blog/post/add/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"title\""));
    assert!(
        !page.body.contains("name=\"published\""),
        "published is read-only"
    );
    assert!(!page.body.contains("name=\"likes\""), "likes is read-only");
    let page = client
        .post(
            "/admin/blog/post/add/",
            &[
                ("title", "via admin"),
                ("body", "b"),
                ("author_id", &ann.to_string()),
                ("kind", "article"),
                ("published", "on"),
                ("likes", "99"),
                ("_save", "Save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let saved = blog::post::Entity::find()
        .filter(blog::post::Column::Title.eq("via admin"))
        .one(&db.db)
        .await
        .unwrap()
        .expect("saved");
    assert!(
        !saved.published && saved.likes == 0,
        "posted values ignored"
    );
}

async fn admin_hides_labels_of_unviewable_targets(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&router, "Ann").await;
    let post = post_as(&router, None, ann).await;
    let (root_id, _) = {
        let root = user::Entity::find()
            .filter(user::Column::Username.eq("root"))
            .one(&db.db)
            .await
            .unwrap()
            .unwrap();
        (root.id, ())
    };
    user_with(
        &db.db,
        "reader",
        &["blog.view_post", "blog.change_post", "blog.view_author"],
    )
    .await;
    let mut client = AdminClient::new(router.clone());
    client.login("reader", PASSWORD).await;
    let page = client
        .get(&format!("/admin/blog/post/{post}/change/"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains(">root<"),
        "no username of an unviewable user"
    );
    assert!(page.body.contains(&format!(">{root_id}<")), "the raw key");
    assert!(page.body.contains("Ann"), "authors are viewable");
    let page = client.get("/admin/auth/user/autocomplete/?term=ro").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.body.contains("root"));
    // With view_user the label comes back.
    user_with(&db.db, "reader2", &["blog.view_post", "auth.view_user"]).await;
    let mut client = AdminClient::new(router);
    client.login("reader2", PASSWORD).await;
    let page = client
        .get(&format!("/admin/blog/post/{post}/change/"))
        .await;
    assert!(page.body.contains(">root<"));
}
