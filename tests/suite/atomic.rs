//! Each request's writes are one transaction: an admin save whose inline
//! row the database refuses (a unique index no form check can see) leaves
//! the parent, the other inline rows and the history as they were, and
//! shows the form again with the error; an add whose inline fails creates
//! no parent.

use axum::http::StatusCode;
use ferrobridge::__private::sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use ferrobridge::admin::models::log_entry;
use ferrobridge::db::Connection;
use ferrobridge_tests::{AdminClient, PASSWORD, TestDb, blog_router, db_tests};

use super::admin_forms::{author, post};

db_tests!(
    change_with_a_failing_inline_changes_nothing,
    add_with_a_failing_inline_creates_nothing,
);

/// The blog with post titles unique in the database only: the model does
/// not declare it, so the form validates and the INSERT fails.
async fn setup(db: &TestDb) -> (AdminClient, i64) {
    let router = blog_router(db).await;
    db.db
        .execute_unprepared("CREATE UNIQUE INDEX atomic_post_title ON blog_post (title)")
        .await
        .unwrap();
    let bob = author(&db.db, "Bob").await;
    post(&db.db, bob, "Taken").await;
    let mut client = AdminClient::new(router);
    client.login("root", PASSWORD).await;
    (client, bob)
}

async fn titles(db: &Connection) -> Vec<String> {
    let mut titles: Vec<String> = blog::post::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.title)
        .collect();
    titles.sort();
    titles
}

/// One inline row of a post, as the change form posts it.
fn row(i: usize, id: Option<i64>, title: &str) -> Vec<(String, String)> {
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

async fn change_with_a_failing_inline_changes_nothing(db: &TestDb) {
    let (mut client, _) = setup(db).await;
    let ann = author(&db.db, "Ann").await;
    let keep = post(&db.db, ann, "Keep me").await;
    let mut form: Vec<(String, String)> = vec![
        ("name".into(), "Ann renamed".into()),
        ("email".into(), String::new()),
        ("post-TOTAL_FORMS".into(), "2".into()),
        ("post-INITIAL_FORMS".into(), "1".into()),
    ];
    // The existing row is edited (written first), then a new row repeats
    // another author's title: the database refuses the second write.
    form.extend(row(0, Some(keep), "Kept, edited"));
    form.extend(row(1, None, "Taken"));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = client
        .post(&format!("/admin/blog/author/{ann}/change/"), &fields)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("already exists"), "{}", page.body);
    assert!(
        page.body.contains("Please correct the error below."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Ann renamed"),
        "the typed values are kept"
    );
    let ann_row = blog::author::Entity::find_by_id(ann)
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ann_row.name, "Ann", "the parent's change was rolled back");
    assert_eq!(
        titles(&db.db).await,
        vec!["Keep me", "Taken"],
        "the edited inline row was rolled back and no row was added"
    );
    let logged = log_entry::Entity::find().count(&db.db).await.unwrap();
    assert_eq!(logged, 0, "no history for a save that did not happen");

    // The same form without the conflict saves all of it.
    let mut form = form.clone();
    for (key, value) in &mut form {
        if key == "post-1-title" {
            *value = "Fresh".into();
        }
    }
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = client
        .post(&format!("/admin/blog/author/{ann}/change/"), &fields)
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    assert_eq!(titles(&db.db).await, vec!["Fresh", "Kept, edited", "Taken"]);
    assert_eq!(log_entry::Entity::find().count(&db.db).await.unwrap(), 1);
}

async fn add_with_a_failing_inline_creates_nothing(db: &TestDb) {
    let (mut client, _) = setup(db).await;
    let mut form: Vec<(String, String)> = vec![
        ("name".into(), "Eve".into()),
        ("email".into(), String::new()),
        ("post-TOTAL_FORMS".into(), "2".into()),
        ("post-INITIAL_FORMS".into(), "0".into()),
    ];
    form.extend(row(0, None, "Eve's first"));
    form.extend(row(1, None, "Taken"));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = client.post("/admin/blog/author/add/", &fields).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("already exists"), "{}", page.body);
    let eves = blog::author::Entity::find()
        .filter(blog::author::Column::Name.eq("Eve"))
        .count(&db.db)
        .await
        .unwrap();
    assert_eq!(eves, 0, "no parent without its inline rows");
    assert_eq!(titles(&db.db).await, vec!["Taken"]);
    assert_eq!(log_entry::Entity::find().count(&db.db).await.unwrap(), 0);
}
