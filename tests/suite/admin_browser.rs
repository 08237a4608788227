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
    client.find(Locator::Css(css)).await?.text().await
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
