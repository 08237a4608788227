//! The authorization matrix of issue #12: every caller (anonymous, no
//! permission, each single permission of the blog's and auth's models
//! alone, staff without permissions, superuser) against every generated
//! endpoint of the blog example, every `?expand=` relation, cascading
//! deletes, the hand-written routes and the admin pages. The expected
//! status comes from a small oracle of Django's rules written here, not
//! from the code under test; where a row must stay hidden, the response is
//! also checked for the hidden row's data.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use ferrobridge::__private::sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use ferrobridge::auth::models::{content_type, permission, token, user, user_permission};
use ferrobridge::db::Connection;
use ferrobridge_tests::{AdminClient, PASSWORD, TestDb, blog_router, call, call_as, db_tests};
use serde_json::{Value, json};

db_tests!(no_single_permission_reaches_more_than_django_grants);

/// Who may use a model's endpoints, as Django (and the blog) define it.
#[derive(Clone, Copy)]
enum Rule {
    /// Anyone reads; writes need `app.action_model`.
    PublicRead(&'static str),
    /// `app.action_model` for everything.
    Model(&'static str),
    /// Logged-in users read and create; change/delete: the owner or the permission.
    Owner(&'static str),
    /// A through table: the parent's `view` to read, its `change` otherwise.
    Parent(&'static str),
}

/// One model of the blog app as the oracle knows it.
struct Api {
    plural: &'static str,
    rule: Rule,
    /// Foreign keys a `?expand=` may name, with the target's rule.
    expands: &'static [(&'static str, Rule)],
}

const USER: Rule = Rule::Model("auth.user");
const GROUP: Rule = Rule::Model("auth.group");
const PERMISSION: Rule = Rule::Model("auth.permission");
const CONTENT_TYPE: Rule = Rule::Model("contenttypes.contenttype");
const AUTHOR: Rule = Rule::PublicRead("blog.author");

const APIS: &[Api] = &[
    Api {
        plural: "authors",
        rule: AUTHOR,
        expands: &[],
    },
    Api {
        plural: "posts",
        rule: Rule::Owner("blog.post"),
        expands: &[("author", AUTHOR), ("owner", USER)],
    },
    Api {
        plural: "users",
        rule: USER,
        expands: &[],
    },
    Api {
        plural: "groups",
        rule: GROUP,
        expands: &[],
    },
    Api {
        plural: "permissions",
        rule: PERMISSION,
        expands: &[("content_type", CONTENT_TYPE)],
    },
    Api {
        plural: "content_types",
        rule: CONTENT_TYPE,
        expands: &[],
    },
    Api {
        plural: "user_groups",
        rule: Rule::Parent("auth.user"),
        expands: &[("user", USER), ("group", GROUP)],
    },
    Api {
        plural: "user_permissions",
        rule: Rule::Parent("auth.user"),
        expands: &[("user", USER), ("permission", PERMISSION)],
    },
    Api {
        plural: "group_permissions",
        rule: Rule::Parent("auth.group"),
        expands: &[("group", GROUP), ("permission", PERMISSION)],
    },
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Action {
    View,
    Add,
    Change,
    Delete,
}

impl Action {
    fn word(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Add => "add",
            Action::Change => "change",
            Action::Delete => "delete",
        }
    }
}

struct Caller {
    name: String,
    id: Option<i32>,
    token: Option<String>,
    superuser: bool,
    perms: HashSet<String>,
}

impl Caller {
    /// Django's `has_perm`: superusers have every permission.
    fn has(&self, label: &str, action: Action) -> bool {
        let (app, model) = label.split_once('.').unwrap();
        self.superuser
            || self
                .perms
                .contains(&format!("{app}.{}_{model}", action.word()))
    }

    /// The oracle: the status a generated endpoint answers, before any
    /// body or row question (`owned`: the row is the caller's own).
    fn api(&self, rule: Rule, action: Action, owned: bool) -> Result<(), StatusCode> {
        let logged_in = || {
            if self.token.is_some() {
                Ok(())
            } else {
                Err(StatusCode::UNAUTHORIZED)
            }
        };
        let allow = |ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(StatusCode::FORBIDDEN)
            }
        };
        match rule {
            Rule::PublicRead(_) if action == Action::View => Ok(()),
            Rule::PublicRead(label) | Rule::Model(label) => {
                logged_in()?;
                allow(self.has(label, action))
            }
            Rule::Owner(label) => {
                logged_in()?;
                match action {
                    Action::View | Action::Add => Ok(()),
                    _ => allow(owned || self.has(label, action)),
                }
            }
            Rule::Parent(label) => {
                logged_in()?;
                let parent = if action == Action::View {
                    Action::View
                } else {
                    Action::Change
                };
                allow(self.has(label, parent))
            }
        }
    }

    /// Django's admin `has_view_permission`: view or change.
    fn admin_view(&self, label: &str) -> bool {
        self.has(label, Action::View) || self.has(label, Action::Change)
    }
}

fn expected(result: Result<(), StatusCode>, ok: StatusCode) -> StatusCode {
    result.err().unwrap_or(ok)
}

/// Rows made by the superuser for the callers to act on.
struct Fixture {
    root: String,
    author: i64,
    post: i64,
    user: i64,
    group: i64,
    permission: i64,
    content_type: i64,
    n: std::cell::Cell<u32>,
}

impl Fixture {
    fn next(&self) -> u32 {
        self.n.set(self.n.get() + 1);
        self.n.get()
    }

    async fn make(&self, router: &axum::Router, plural: &str, body: Value) -> i64 {
        let reply = call_as(
            router,
            Some(&self.root),
            Method::POST,
            &format!("/api/{plural}"),
            Some(body),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "fixture {plural}: {:?}",
            reply.json
        );
        reply.json["id"].as_i64().unwrap()
    }

    /// A valid create (and PUT) body of `plural`, fresh each time.
    async fn body(&self, router: &axum::Router, plural: &str) -> Value {
        let n = self.next();
        match plural {
            "authors" => json!({ "name": format!("author {n}") }),
            "posts" => {
                json!({ "title": format!("post {n}"), "body": "b", "author_id": self.author })
            }
            "users" => json!({ "username": format!("made{n}"), "password": "a long passphrase" }),
            "groups" => json!({ "name": format!("group {n}") }),
            "permissions" => {
                json!({ "name": "p", "codename": format!("p{n}"), "content_type_id": self.content_type })
            }
            "content_types" => json!({ "app_label": "x", "model": format!("m{n}") }),
            "user_groups" => {
                let group = self
                    .make(router, "groups", json!({ "name": format!("link {n}") }))
                    .await;
                json!({ "user_id": self.user, "group_id": group })
            }
            "user_permissions" | "group_permissions" => {
                let body = json!({ "name": "p", "codename": format!("link{n}"), "content_type_id": self.content_type });
                let permission = self.make(router, "permissions", body).await;
                if plural == "user_permissions" {
                    json!({ "user_id": self.user, "permission_id": permission })
                } else {
                    json!({ "group_id": self.group, "permission_id": permission })
                }
            }
            other => panic!("no body for {other}"),
        }
    }

    /// A PATCH body changing nothing a field rule guards.
    fn patch(&self, plural: &str) -> Value {
        let n = self.next();
        match plural {
            "authors" | "groups" => json!({ "name": format!("renamed {n}") }),
            "posts" => json!({ "title": format!("renamed {n}") }),
            "users" => json!({ "first_name": "Renamed" }),
            "permissions" => json!({ "name": "renamed" }),
            "content_types" => json!({ "model": format!("renamed{n}") }),
            _ => json!({}),
        }
    }

    /// The row each caller reads and changes.
    async fn row(&self, router: &axum::Router, plural: &str) -> i64 {
        match plural {
            "authors" => self.author,
            "posts" => self.post,
            "users" => self.user,
            "groups" => self.group,
            "permissions" => self.permission,
            "content_types" => self.content_type,
            _ => {
                let body = self.body(router, plural).await;
                self.make(router, plural, body).await
            }
        }
    }
}

/// Every caller: anonymous, staff without permissions, one per permission
/// of the blog's, auth's and contenttypes' models, and a superuser. All
/// share one password hash (hashing is slow on purpose).
async fn callers(db: &Connection) -> Vec<Caller> {
    let hash = ferrobridge::auth::hash_password(PASSWORD);
    let mut out = vec![Caller {
        name: "anonymous".into(),
        id: None,
        token: None,
        superuser: false,
        perms: HashSet::new(),
    }];
    let types = content_type::Entity::find().all(db).await.unwrap();
    let mut singles: Vec<(String, Option<i32>)> = vec![("none".into(), None)];
    for p in permission::Entity::find().all(db).await.unwrap() {
        let app = &types
            .iter()
            .find(|t| t.id == p.content_type_id)
            .unwrap()
            .app_label;
        if ["blog", "auth", "contenttypes"].contains(&app.as_str()) {
            singles.push((format!("{app}.{}", p.codename), Some(p.id)));
        }
    }
    singles.push(("superuser".into(), None));
    for (i, (name, permission)) in singles.into_iter().enumerate() {
        let superuser = name == "superuser";
        let row = user::ActiveModel {
            username: Set(format!("caller{i}")),
            password: Set(hash.clone()),
            is_superuser: Set(superuser),
            is_staff: Set(true),
            is_active: Set(true),
            first_name: Set(String::new()),
            last_name: Set(String::new()),
            email: Set(format!("caller{i}@example.com")),
            date_joined: Set(chrono_now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        if let Some(permission_id) = permission {
            user_permission::ActiveModel {
                user_id: Set(row.id),
                permission_id: Set(permission_id),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
        }
        let (plain, digest) = ferrobridge::auth::new_token().unwrap();
        token::ActiveModel {
            digest: Set(digest),
            user_id: Set(row.id),
            created_at: Set(chrono_now()),
            expires_at: Set(chrono_now() + ferrobridge::__private::chrono::Duration::hours(1)),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        let perms = if superuser || name == "none" {
            HashSet::new()
        } else {
            HashSet::from([name.clone()])
        };
        out.push(Caller {
            name,
            id: Some(row.id),
            token: Some(plain),
            superuser,
            perms,
        });
    }
    out
}

fn chrono_now() -> ferrobridge::__private::chrono::DateTime<ferrobridge::__private::chrono::Utc> {
    ferrobridge::__private::chrono::Utc::now()
}

async fn no_single_permission_reaches_more_than_django_grants(db: &TestDb) {
    let router = blog_router(db).await;
    let callers = callers(&db.db).await;
    let root = callers.last().unwrap().token.clone().unwrap();
    // A content type of its own: a real one renamed by a PUT would move
    // its model's permissions away.
    let ct = call_as(
        &router,
        Some(&root),
        Method::POST,
        "/api/content_types",
        Some(json!({ "app_label": "x", "model": "target" })),
    )
    .await;
    let ct = ct.json["id"].as_i64().unwrap();
    let mut fixture = Fixture {
        root: root.clone(),
        author: 0,
        post: 0,
        user: 0,
        group: 0,
        permission: 0,
        content_type: ct,
        n: std::cell::Cell::new(0),
    };
    fixture.author = fixture
        .make(&router, "authors", json!({ "name": "Ann" }))
        .await;
    fixture.post = fixture
        .make(
            &router,
            "posts",
            json!({ "title": "secret", "body": "b", "author_id": fixture.author }),
        )
        .await;
    fixture.user = fixture
        .make(&router, "users", json!({ "username": "target", "password": "a long passphrase", "email": "target@example.com" }))
        .await;
    fixture.group = fixture
        .make(&router, "groups", json!({ "name": "staff" }))
        .await;
    fixture.permission = fixture
        .make(
            &router,
            "permissions",
            json!({ "name": "p", "codename": "target", "content_type_id": ct }),
        )
        .await;
    let mut failures: Vec<String> = Vec::new();
    let mut cases = 0usize;
    let mut check = |what: String, got: StatusCode, want: StatusCode| {
        cases += 1;
        if got != want {
            failures.push(format!("{what}: got {got}, want {want}"));
        }
    };

    for caller in &callers {
        let who = &caller.name;
        let token = caller.token.as_deref();
        let send = |method: Method, uri: String, body: Option<Value>| {
            let router = router.clone();
            async move {
                match token {
                    Some(token) => call_as(&router, Some(token), method, &uri, body).await,
                    None => call_as(&router, None, method, &uri, body).await,
                }
            }
        };
        for api in APIS {
            let base = format!("/api/{}", api.plural);
            let row = fixture.row(&router, api.plural).await;
            let item = format!("{base}/{row}");
            let view = caller.api(api.rule, Action::View, false);
            let reply = send(Method::GET, base.clone(), None).await;
            check(
                format!("{who} GET {base}"),
                reply.status,
                expected(view, StatusCode::OK),
            );
            let reply = send(Method::GET, item.clone(), None).await;
            check(
                format!("{who} GET {item}"),
                reply.status,
                expected(view, StatusCode::OK),
            );
            let body = fixture.body(&router, api.plural).await;
            let reply = send(Method::POST, base.clone(), Some(body)).await;
            let add = caller.api(api.rule, Action::Add, false);
            check(
                format!("{who} POST {base}"),
                reply.status,
                expected(add, StatusCode::CREATED),
            );
            let change = caller.api(api.rule, Action::Change, false);
            let body = fixture.body(&router, api.plural).await;
            let reply = send(Method::PUT, item.clone(), Some(body)).await;
            check(
                format!("{who} PUT {item}"),
                reply.status,
                expected(change, StatusCode::OK),
            );
            let reply = send(Method::PATCH, item.clone(), Some(fixture.patch(api.plural))).await;
            check(
                format!("{who} PATCH {item}"),
                reply.status,
                expected(change, StatusCode::OK),
            );
            // A fresh row for each delete, so a permitted one leaves the others theirs.
            let body = fixture.body(&router, api.plural).await;
            let doomed = fixture.make(&router, api.plural, body).await;
            let reply = send(Method::DELETE, format!("{base}/{doomed}"), None).await;
            let delete = caller.api(api.rule, Action::Delete, false);
            check(
                format!("{who} DELETE {base}/{doomed}"),
                reply.status,
                expected(delete, StatusCode::NO_CONTENT),
            );
            for (relation, target) in api.expands {
                let uri = format!("{base}?expand={relation}");
                let want = view.and_then(|()| caller.api(*target, Action::View, false));
                let reply = send(Method::GET, uri.clone(), None).await;
                check(
                    format!("{who} GET {uri}"),
                    reply.status,
                    expected(want, StatusCode::OK),
                );
                if reply.status != StatusCode::OK {
                    let text = reply.json.to_string();
                    assert!(
                        !text.contains("target@example.com") && !text.contains("caller"),
                        "{who} {uri} leaks a row: {text}"
                    );
                }
            }
        }

        // Cascades: an author with the superuser's post; a user with a post of their own.
        let author = fixture
            .make(&router, "authors", json!({ "name": "doomed" }))
            .await;
        fixture
            .make(
                &router,
                "posts",
                json!({ "title": "t", "body": "b", "author_id": author }),
            )
            .await;
        let want = caller
            .api(AUTHOR, Action::Delete, false)
            .and_then(|()| caller.api(Rule::Owner("blog.post"), Action::Delete, false));
        let reply = send(Method::DELETE, format!("/api/authors/{author}"), None).await;
        check(
            format!("{who} DELETE author with a post"),
            reply.status,
            expected(want, StatusCode::NO_CONTENT),
        );
        if let Some(id) = caller.id {
            // Their own post on a fresh author: the owner rule covers it.
            let author = fixture
                .make(&router, "authors", json!({ "name": "own" }))
                .await;
            let reply = send(
                Method::POST,
                "/api/posts".into(),
                Some(json!({ "title": "mine", "body": "b", "author_id": author })),
            )
            .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{who}");
            let want = caller.api(AUTHOR, Action::Delete, false);
            let reply = send(Method::DELETE, format!("/api/authors/{author}"), None).await;
            check(
                format!("{who} DELETE author with own post"),
                reply.status,
                expected(want, StatusCode::NO_CONTENT),
            );
            let _ = id;
        }

        // Hand-written routes.
        let publish = if caller.token.is_none() {
            StatusCode::UNAUTHORIZED
        } else if caller.has("blog.post", Action::Change) {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        let reply = send(
            Method::POST,
            format!("/api/posts/{}/publish", fixture.post),
            None,
        )
        .await;
        check(format!("{who} publish"), reply.status, publish);
        let mine = if caller.token.is_some() {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        let reply = send(Method::GET, "/api/my/posts".into(), None).await;
        check(format!("{who} my posts"), reply.status, mine);
        let reply = send(Method::GET, "/api/stats".into(), None).await;
        check(format!("{who} stats"), reply.status, StatusCode::OK);
    }

    // The admin, for every logged-in staff caller (all of them are staff).
    let admin_models: &[(&str, &str, i64)] = &[
        ("blog", "author", fixture.author),
        ("blog", "post", fixture.post),
        ("auth", "user", fixture.user),
        ("auth", "group", fixture.group),
    ];
    for (i, caller) in callers.iter().enumerate() {
        let who = &caller.name;
        let mut client = AdminClient::new(router.clone());
        if caller.id.is_some() {
            client.login(&format!("caller{}", i - 1), PASSWORD).await;
        }
        let staff = caller.id.is_some();
        let page = client.get("/admin/").await;
        check(
            format!("{who} admin index"),
            page.status,
            if staff {
                StatusCode::OK
            } else {
                StatusCode::FOUND
            },
        );
        for (app, model, pk) in admin_models {
            let label = format!("{app}.{model}");
            let gate = |ok: bool| match (staff, ok) {
                (false, _) => StatusCode::FOUND,
                (true, true) => StatusCode::OK,
                (true, false) => StatusCode::FORBIDDEN,
            };
            let view = caller.admin_view(&label);
            let base = format!("/admin/{app}/{model}");
            for (page_name, path, ok) in [
                ("changelist", format!("{base}/"), view),
                (
                    "add",
                    format!("{base}/add/"),
                    caller.has(&label, Action::Add),
                ),
                ("change", format!("{base}/{pk}/change/"), view),
                (
                    "delete",
                    format!("{base}/{pk}/delete/"),
                    caller.has(&label, Action::Delete),
                ),
                ("history", format!("{base}/{pk}/history/"), view),
                ("autocomplete", format!("{base}/autocomplete/?term=a"), view),
            ] {
                let page = client.get(&path).await;
                check(
                    format!("{who} admin {model} {page_name}"),
                    page.status,
                    gate(ok),
                );
                if page.status != StatusCode::OK
                    && (page_name == "autocomplete" || page_name == "changelist")
                {
                    assert!(!page.body.contains("target@example.com"), "{who} {path}");
                }
            }
        }
        // The post's owner (the superuser fixture) is a user: its name shows
        // only to callers who may view users.
        if staff && caller.admin_view("blog.post") {
            let page = client
                .get(&format!("/admin/blog/post/{}/change/", fixture.post))
                .await;
            let root_name = callers.len() - 2; // the superuser caller's username index
            let shows = page.body.contains(&format!(">caller{root_name}<"));
            check(
                format!("{who} admin post owner label"),
                if shows {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                },
                if caller.admin_view("auth.user") {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                },
            );
        }
    }
    let _ = call(&router, Method::GET, "/healthz", None).await;
    assert!(cases > 1000, "only {cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases differ from Django's rules:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
