//! The admin site in headless Chromium against a real server: what a
//! person does with it, click by click. Set `ADMIN_SCREENSHOTS=dir` to
//! keep screenshots of each page at desktop and phone width.

use std::time::Duration;

use fantoccini::{Client, Locator};
use ferrobridge_tests::{Backend, PASSWORD, TestDb, UserKind, create_staff, create_user};

use crate::browser::Browser;

type Step<T> = Result<T, fantoccini::error::CmdError>;

const WAIT: Duration = Duration::from_secs(20);

async fn screenshot(client: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("ADMIN_SCREENSHOTS") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).ok();
        if let Ok(png) = client.screenshot().await {
            std::fs::write(dir.join(format!("{name}.png")), png).ok();
        }
    }
}

async fn log_in(client: &Client, base: &str, username: &str) -> Step<()> {
    client.goto(&format!("{base}/admin/")).await?;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("id_username"))
        .await?
        .send_keys(username)
        .await?;
    client
        .find(Locator::Id("id_password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    client
        .find(Locator::Css("#login-form input[type=submit]"))
        .await?
        .click()
        .await?;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#user-tools"))
        .await?;
    Ok(())
}

async fn text(client: &Client, css: &str) -> Step<String> {
    retry_stale(|| async { client.find(Locator::Css(css)).await?.text().await }).await
}

/// Whether a step failed because the page it found an element on was
/// replaced meanwhile (a navigation finishing after the element was found).
fn is_stale(error: &fantoccini::error::CmdError) -> bool {
    matches!(
        error,
        fantoccini::error::CmdError::Standard(e)
            if e.error == fantoccini::error::ErrorStatus::StaleElementReference
    )
}

/// Runs a read or click again, from finding its element, while the page
/// under it is being replaced: under load a navigation can finish between
/// finding an element and using it.
async fn retry_stale<T, F, Fut>(mut step: F) -> Step<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Step<T>>,
{
    let mut tries = 0;
    loop {
        match step().await {
            Err(error) if is_stale(&error) && tries < 50 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// Waits for `css`, then reads its text (found again if the page changed).
async fn wait_text(client: &Client, css: &str) -> Step<String> {
    wait_for(client, css).await?;
    text(client, css).await
}

/// Waits until the current URL's query contains `part`: the page a form
/// or link led to has replaced the one it was on.
async fn wait_query(client: &Client, part: &str) -> Step<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let url = client.current_url().await?;
        if url.query().is_some_and(|q| q.contains(part)) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            panic!("waited in vain for `{part}` in the URL {url}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logs in with a wrong then a right password, sees the index, changes
/// the password, logs out; at desktop and at phone width.
#[tokio::test]
async fn admin_login_index_and_password_change_in_chromium() {
    for (width, height, label) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        let db = TestDb::new(Backend::Sqlite).await.unwrap();
        let app = blog::app();
        app.create_tables(&db.db).await.unwrap();
        create_user(&db.db, "admin", UserKind::Superuser).await;
        let Some(browser) = Browser::start(app.router(db.db.clone()), width, height).await else {
            return;
        };
        let (client, base) = (browser.client.clone(), browser.base.clone());
        let result: Step<()> = async {
            client.goto(&format!("{base}/admin/")).await?;
            client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Id("id_username"))
                .await?
                .send_keys("admin")
                .await?;
            client
                .find(Locator::Id("id_password"))
                .await?
                .send_keys("not the password")
                .await?;
            screenshot(&client, &format!("login-{label}")).await;
            client
                .find(Locator::Css("#login-form input[type=submit]"))
                .await?
                .click()
                .await?;
            let error = client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css(".errornote"))
                .await?
                .text()
                .await?;
            assert!(error.contains("correct username and password"), "{error}");

            log_in(&client, &base, "admin").await?;
            screenshot(&client, &format!("index-{label}")).await;
            let modules = text(&client, "#content-main").await?;
            for expected in [
                "Blog",
                "Authors",
                "Posts",
                "Authentication and Authorization",
                "Users",
                "Groups",
            ] {
                assert!(
                    modules.contains(expected),
                    "{expected} missing from the index: {modules}"
                );
            }
            assert!(
                text(&client, "#recent-actions-module")
                    .await?
                    .contains("None available")
            );

            client
                .find(Locator::LinkText("CHANGE PASSWORD"))
                .await
                .or(client
                    .find(Locator::Css(
                        "#user-tools a[href='/admin/password_change/']",
                    ))
                    .await)?
                .click()
                .await?;
            client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Id("id_old_password"))
                .await?
                .send_keys(PASSWORD)
                .await?;
            client
                .find(Locator::Id("id_new_password1"))
                .await?
                .send_keys("short")
                .await?;
            client
                .find(Locator::Id("id_new_password2"))
                .await?
                .send_keys("short")
                .await?;
            client
                .find(Locator::Css("main input[type=submit]"))
                .await?
                .click()
                .await?;
            let errors = client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css(".errorlist"))
                .await?
                .text()
                .await?;
            assert!(errors.contains("too short"), "{errors}");
            screenshot(&client, &format!("password-change-errors-{label}")).await;
            client
                .find(Locator::Id("id_old_password"))
                .await?
                .send_keys(PASSWORD)
                .await?;
            client
                .find(Locator::Id("id_new_password1"))
                .await?
                .send_keys("a much longer passphrase")
                .await?;
            client
                .find(Locator::Id("id_new_password2"))
                .await?
                .send_keys("a much longer passphrase")
                .await?;
            client
                .find(Locator::Css("main input[type=submit]"))
                .await?
                .click()
                .await?;
            let message = client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css(".messagelist li.success"))
                .await?
                .text()
                .await?;
            assert_eq!(message, "Your password was changed.");

            client
                .find(Locator::Css("#logout-form button"))
                .await?
                .click()
                .await?;
            let info = client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css(".login-box .info"))
                .await?
                .text()
                .await?;
            assert!(info.contains("You have been logged out"), "{info}");
            client.goto(&format!("{base}/admin/")).await?;
            client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Id("login-form"))
                .await?;
            Ok(())
        }
        .await;
        browser.finish().await;
        result.unwrap_or_else(|e| panic!("{label}: {e}"));
        db.finish().await;
    }
}

/// A staff user without rights sees an empty index.
#[tokio::test]
async fn admin_staff_without_rights_sees_nothing_in_chromium() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let app = blog::app();
    app.create_tables(&db.db).await.unwrap();
    create_staff(&db.db, "intern", &[]).await;
    let Some(browser) = Browser::start(app.router(db.db.clone()), 1280, 900).await else {
        return;
    };
    let (client, base) = (browser.client.clone(), browser.base.clone());
    let result: Step<String> = async {
        log_in(&client, &base, "intern").await?;
        text(&client, "#content-main").await
    }
    .await;
    browser.finish().await;
    let content = result.unwrap();
    assert!(
        content.contains("You don’t have permission to view or edit anything."),
        "{content}"
    );
    db.finish().await;
}

async fn seed_blog(db: &ferrobridge::db::Connection) {
    use blog::{author, post};
    use ferrobridge::__private::sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let now = ferrobridge::__private::chrono::Utc::now();
    let (owner, _) = create_user(db, "writer", UserKind::Regular).await;
    for (name, titles) in [
        (
            "Ann",
            vec!["Apples", "Zebras <script>alert(1)</script>", "Mangoes"],
        ),
        ("Bob", vec!["Bananas", "Cherries"]),
    ] {
        let author = author::ActiveModel {
            name: Set(name.into()),
            email: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        for (i, title) in titles.into_iter().enumerate() {
            post::ActiveModel {
                title: Set(title.into()),
                body: Set(format!("About {title}")),
                author_id: Set(author.id),
                owner_id: Set(owner),
                published: Set(i % 2 == 0),
                kind: Set(blog::models::Kind::Article),
                likes: Set(0),
                rating: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
        }
    }
}

async fn cells(client: &Client, column: usize) -> Step<Vec<String>> {
    let css = format!("#result_list tbody tr > *:nth-child({column})");
    retry_stale(|| async {
        let mut out = Vec::new();
        for cell in client.find_all(Locator::Css(&css)).await? {
            out.push(cell.text().await?);
        }
        Ok(out)
    })
    .await
}

async fn click(client: &Client, css: &str) -> Step<()> {
    retry_stale(|| async { client.find(Locator::Css(css)).await?.click().await }).await
}

async fn wait_for(client: &Client, css: &str) -> Step<fantoccini::elements::Element> {
    let found = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await;
    if found.is_err() {
        eprintln!(
            "waited in vain for `{css}` on {:?}",
            client.current_url().await.ok()
        );
    }
    found
}

/// What a superuser does: add an author with a validation error, fix it
/// and save; search, filter and sort posts; pick an author by typing in
/// the autocomplete; bulk delete through the confirmation page; read the
/// history. Then a staff user who may only view posts sees no controls.
#[tokio::test]
async fn admin_workflow_in_chromium() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let app = blog::app();
    app.create_tables(&db.db).await.unwrap();
    create_user(&db.db, "admin", UserKind::Superuser).await;
    create_staff(&db.db, "viewer", &["view_post"]).await;
    seed_blog(&db.db).await;
    let Some(browser) = Browser::start(app.router(db.db.clone()), 1280, 1000).await else {
        return;
    };
    let (client, base) = (browser.client.clone(), browser.base.clone());
    let result: Step<()> = async {
        log_in(&client, &base, "admin").await?;

        // Add an author: an invalid email first, kept and reported next to the field.
        client.goto(&format!("{base}/admin/blog/author/add/")).await?;
        wait_for(&client, "#id_name").await?.send_keys("Cleo").await?;
        client.find(Locator::Id("id_email")).await?.send_keys("not-an-email").await?;
        click(&client, "input[name=_save]").await?;
        let note = wait_text(&client, ".errornote").await?;
        assert!(note.contains("Please correct"), "{note}");
        let error = text(&client, ".form-row.errors .errorlist").await?;
        assert!(error.to_lowercase().contains("email"), "{error}");
        assert_eq!(
            client.find(Locator::Id("id_name")).await?.prop("value").await?.as_deref(),
            Some("Cleo"),
            "typed values are kept"
        );
        screenshot(&client, "author-add-errors-desktop").await;
        let email = client.find(Locator::Id("id_email")).await?;
        email.clear().await?;
        email.send_keys("cleo@example.com").await?;
        click(&client, "input[name=_save]").await?;
        let message = wait_text(&client, ".messagelist li.success").await?;
        assert!(message.contains("was added successfully"), "{message}");
        assert!(cells(&client, 3).await?.iter().any(|c| c == "Cleo"), "the new author is listed");

        // Posts: search, filter, sort.
        client.goto(&format!("{base}/admin/blog/post/")).await?;
        wait_for(&client, "#result_list").await?;
        screenshot(&client, "post-changelist-desktop").await;
        assert_eq!(cells(&client, 3).await?.len(), 5);
        let zebra = cells(&client, 3).await?;
        assert!(zebra.iter().any(|t| t == "Zebras <script>alert(1)</script>"), "escaped, shown as text: {zebra:?}");
        let search = client.find(Locator::Id("searchbar")).await?;
        search.send_keys("an").await?;
        click(&client, "#changelist-search input[type=submit]").await?;
        wait_query(&client, "q=an").await?;
        wait_for(&client, "#result_list").await?;
        let mut found = cells(&client, 3).await?;
        found.sort();
        assert_eq!(found, ["Bananas", "Mangoes"]);
        client.goto(&format!("{base}/admin/blog/post/")).await?;
        client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(
                "//nav[@id='changelist-filter']//details[.//h3[normalize-space()='By published']]//a[normalize-space()='Yes']",
            ))
            .await?
            .click()
            .await?;
        wait_query(&client, "published").await?;
        wait_for(&client, "#changelist-filter li.selected").await?;
        let mut published = cells(&client, 3).await?;
        published.sort();
        assert_eq!(published, ["Apples", "Bananas", "Mangoes"]);
        client.goto(&format!("{base}/admin/blog/post/")).await?;
        client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//thead//a[normalize-space()='Title']"))
            .await?
            .click()
            .await?;
        wait_query(&client, "o=").await?;
        wait_for(&client, "thead th.sorted").await?;
        let sorted = cells(&client, 3).await?;
        let mut expected = sorted.clone();
        expected.sort();
        assert_eq!(sorted, expected, "sorted by title");

        // A post whose author is picked by typing in the autocomplete.
        client.goto(&format!("{base}/admin/blog/post/add/")).await?;
        wait_for(&client, "#id_title").await?.send_keys("Dates").await?;
        client.find(Locator::Id("id_body")).await?.send_keys("Sweet.").await?;
        client.find(Locator::Id("id_author_id")).await?.send_keys("Cle").await?;
        client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//ul[@id='id_author_id_choices']/li[normalize-space()='Cleo']"))
            .await?
            .click()
            .await?;
        screenshot(&client, "post-add-autocomplete-desktop").await;
        click(&client, "input[name=_continue]").await?;
        let message = wait_text(&client, ".messagelist li.success").await?;
        assert!(message.contains("You may edit it again below"), "{message}");
        assert_eq!(
            client.find(Locator::Id("id_author_id")).await?.prop("value").await?.as_deref(),
            Some("Cleo")
        );

        // Bulk delete through the confirmation page.
        client.goto(&format!("{base}/admin/blog/post/?q=Cherries")).await?;
        wait_for(&client, "input.action-select").await?.click().await?;
        client
            .find(Locator::Css("select[name=action] option[value=delete_selected]"))
            .await?
            .click()
            .await?;
        click(&client, ".actions button[type=submit]").await?;
        // The change list has a `main` too: wait for the confirmation's own button.
        wait_for(&client, "input[type=submit].delete").await?;
        let confirm = wait_text(&client, "main").await?;
        assert!(confirm.contains("Are you sure"), "{confirm}");
        assert!(confirm.contains("Cherries"), "{confirm}");
        screenshot(&client, "delete-selected-confirmation-desktop").await;
        click(&client, "input[type=submit].delete").await?;
        let message = wait_text(&client, ".messagelist li.success").await?;
        assert!(message.contains("Successfully deleted 1"), "{message}");

        // History of the author added above.
        client.goto(&format!("{base}/admin/blog/author/?q=Cleo")).await?;
        wait_for(&client, "#result_list tbody th a").await?.click().await?;
        client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//a[contains(@href,'/history/')]"))
            .await?
            .click()
            .await?;
        let history = wait_text(&client, "#change-history").await?;
        assert!(history.contains("admin"), "{history}");
        assert!(history.contains("Added."), "{history}");
        screenshot(&client, "author-history-desktop").await;

        // The index lists what was done.
        client.goto(&format!("{base}/admin/")).await?;
        let recent = text(&client, "#recent-actions-module").await?;
        assert!(recent.contains("Cleo") && recent.contains("Dates"), "{recent}");

        // A staff user who may only view posts.
        click(&client, "#logout-form button").await?;
        wait_for(&client, ".login-box .info").await?;
        log_in(&client, &base, "viewer").await?;
        client.goto(&format!("{base}/admin/blog/post/")).await?;
        wait_for(&client, "#result_list").await?;
        screenshot(&client, "post-changelist-view-only-desktop").await;
        assert!(client.find_all(Locator::Css("input.action-select")).await?.is_empty());
        assert!(client.find_all(Locator::Css(".object-tools .addlink")).await?.is_empty());
        click(&client, "#result_list tbody th a").await?;
        wait_for(&client, "main form, main .readonly").await?;
        assert!(client.find_all(Locator::Css("input[name=_save]")).await?.is_empty());
        assert!(client.find_all(Locator::Css("a.deletelink")).await?.is_empty());
        client.goto(&format!("{base}/admin/blog/post/add/")).await?;
        assert!(text(&client, "main").await?.contains("permission"));
        client.goto(&format!("{base}/admin/blog/post/1/delete/")).await?;
        assert!(text(&client, "main").await?.contains("permission"));
        Ok(())
    }
    .await;
    browser.finish().await;
    result.unwrap();
    db.finish().await;
}

/// Every kind of admin page at phone width: nothing wider than the screen
/// (wide tables scroll inside their own box).
#[tokio::test]
async fn admin_pages_fit_a_phone_in_chromium() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let app = blog::app();
    app.create_tables(&db.db).await.unwrap();
    create_user(&db.db, "admin", UserKind::Superuser).await;
    seed_blog(&db.db).await;
    let Some(browser) = Browser::start(app.router(db.db.clone()), 390, 844).await else {
        return;
    };
    let (client, base) = (browser.client.clone(), browser.base.clone());
    let result: Step<Vec<String>> = async {
        log_in(&client, &base, "admin").await?;
        let mut too_wide = Vec::new();
        for (name, path) in [
            ("index", "/admin/"),
            ("post-changelist", "/admin/blog/post/"),
            ("post-change", "/admin/blog/post/1/change/"),
            ("post-add", "/admin/blog/post/add/"),
            ("author-change-with-inlines", "/admin/blog/author/1/change/"),
            ("author-delete", "/admin/blog/author/1/delete/"),
            ("post-history", "/admin/blog/post/1/history/"),
            ("user-changelist", "/admin/auth/user/"),
            ("user-change-with-read-only-fields", "/admin/auth/user/1/change/"),
            ("password-change", "/admin/password_change/"),
        ] {
            client.goto(&format!("{base}{path}")).await?;
            wait_for(&client, "#content").await?;
            screenshot(&client, &format!("{name}-phone")).await;
            let fits = client
                .execute(
                    "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
                    vec![],
                )
                .await?;
            if fits != serde_json::Value::Bool(true) {
                too_wide.push(name.to_string());
            }
            // One column: every part of a form row (label, input or read-only
            // value, help, errors) starts at the row's left edge (a checkbox keeps its
            // few pixels of margin).
            let stacked = client
                .execute(
                    "return [...document.querySelectorAll('fieldset.aligned .form-row')].every(row => {
                        const left = [...row.children].map(c => Math.round(c.getBoundingClientRect().left));
                        return left.every(x => Math.abs(x - left[0]) <= 6);
                    });",
                    vec![],
                )
                .await?;
            if stacked != serde_json::Value::Bool(true) {
                too_wide.push(format!("{name} (form rows not stacked)"));
            }
        }
        Ok(too_wide)
    }
    .await;
    browser.finish().await;
    let too_wide = result.unwrap();
    assert!(too_wide.is_empty(), "wider than a phone: {too_wide:?}");
    db.finish().await;
}

/// The change list tells its reader which rows changed after it was
/// loaded: a post changed through the API (as by another person) brings
/// up the notice and marks its row, without a reload; reloading clears it.
#[tokio::test]
async fn admin_changelist_notices_changes_in_chromium() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let app = blog::app();
    app.create_tables(&db.db).await.unwrap();
    let (_, token) = create_user(&db.db, "admin", UserKind::Superuser).await;
    seed_blog(&db.db).await;
    let router = app.router(db.db.clone());
    let Some(browser) = Browser::start(router.clone(), 1280, 900).await else {
        return;
    };
    let (client, base) = (browser.client.clone(), browser.base.clone());
    let result: Step<()> = async {
        log_in(&client, &base, "admin").await?;
        client.goto(&format!("{base}/admin/blog/post/")).await?;
        wait_for(&client, "#result_list").await?;
        let quiet = client
            .execute("return document.getElementById('changes-notice').hidden;", vec![])
            .await?;
        assert_eq!(quiet, serde_json::json!(true), "nothing changed yet");
        let pk = client
            .execute(
                "return document.querySelector('#result_list tr[data-pk]').dataset.pk;",
                vec![],
            )
            .await?;
        let pk = pk.as_str().expect("a row's key").to_string();

        let reply = ferrobridge_tests::call_as(
            &router,
            Some(&token),
            axum::http::Method::PATCH,
            &format!("/api/posts/{pk}"),
            Some(serde_json::json!({ "likes": 7 })),
        )
        .await;
        assert_eq!(reply.status, axum::http::StatusCode::OK, "{:?}", reply.json);

        let notice = wait_text(&client, "#changes-notice:not([hidden])").await?;
        assert!(
            notice.contains("1 row changed since this page was loaded."),
            "{notice}"
        );
        assert!(notice.contains("Reload"), "{notice}");
        let marked = client
            .execute(
                "return [...document.querySelectorAll('#result_list tr.changed')].map(tr => tr.dataset.pk);",
                vec![],
            )
            .await?;
        assert_eq!(marked, serde_json::json!([pk]));
        screenshot(&client, "post-changelist-changed-desktop").await;

        click(&client, "#changes-notice a").await?;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let current = client
                .execute(
                    "const n = document.getElementById('changes-notice');
                     return document.readyState === 'complete' && n !== null && n.hidden
                         && document.querySelector('#result_list tr.changed') === null;",
                    vec![],
                )
                .await;
            if matches!(current, Ok(serde_json::Value::Bool(true))) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the reloaded list still shows the notice"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
    .await;
    browser.finish().await;
    result.unwrap();
    db.finish().await;
}
