//! Admin → Users in a real browser: the administrator signs up, opens Users from the header,
//! searches for a person and disables them (confirming the dialog); the person's sign-in is then
//! refused and their API key stops working.

use std::time::Duration;

use fantoccini::Locator;

use crate::browser::{click, fill, screenshot, wait_for_path, with_browser};
use crate::credentials::get;
use crate::helpers::{TestApp, client, create_api_key, spawn_app};

#[tokio::test]
async fn an_administrator_finds_and_disables_a_person_who_is_then_refused() {
    let app = spawn_app().await;
    let base = app.address.clone();
    // The person, on their own (non-browser) client, with an API key.
    let person = TestApp::with_client(&app, client());
    let admin_seat = TestApp::with_client(&app, client());
    let email = "grace@example.com";
    let password = "correct horse battery";
    // The administrator signs up first (the first account is the administrator).
    let admin_email = "admin@example.com";
    assert_eq!(admin_seat.sign_up(admin_email, "Admin", password).await.status(), 303);
    assert_eq!(person.sign_up(email, "Grace Hopper", password).await.status(), 303);
    let token = person.session_token().await;
    let (_, key) = create_api_key(&person, &token, "ci", &["read"]).await;
    assert_eq!(get(&person, "/v1/users/me", &key).await.status(), 200);

    with_browser("users-admin", move |c| async move {
        c.goto(&format!("{base}/signin")).await.unwrap();
        fill(&c, "email", admin_email).await;
        fill(&c, "password", password).await;
        click(&c, "form[action='/signin'] button[type=submit]").await;
        wait_for_path(&c, "/account").await;

        click(&c, "a[href='/admin/users']").await;
        wait_for_path(&c, "/admin/users").await;
        fill(&c, "q", "hopper").await;
        click(&c, "#user-search button[type=submit]").await;
        for _ in 0..100 {
            if c.current_url().await.unwrap().query() == Some("q=hopper") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rows = c.find_all(Locator::Css("#people tr[data-user]")).await.unwrap();
        assert_eq!(rows.len(), 1, "the search found only Grace");

        click(&c, "tr[data-email='grace@example.com'] form.disable button").await;
        c.accept_alert().await.unwrap();
        let mut status = String::new();
        for _ in 0..100 {
            if let Ok(cell) = c
                .find(Locator::Css("tr[data-email='grace@example.com'] td.status"))
                .await
            {
                status = cell.text().await.unwrap_or_default();
                if status.contains("disabled") {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(status.contains("disabled"), "status: {status}");
        // The screenshot shows the disabled row.
        c.execute(
            "document.querySelector(\"tr[data-email='grace@example.com']\").scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
        screenshot(&c, "users-admin-disabled").await;
    })
    .await;

    let res = person.sign_in(email, password).await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("This account has been disabled"));
    assert_eq!(get(&person, "/v1/users/me", &key).await.status(), 401);
}
