//! Admin → System credentials: rotating a machine secret, with or without an overlap during
//! which the previous secret keeps working (so every deployment can switch first).

use crate::helpers::{TestApp, revealed, spawn_app};

const PAGE: &str = "/admin/system-credentials";

/// Creates one with the viewer role; its id and secret.
async fn create(app: &TestApp) -> (String, String) {
    let res = app
        .post_form(PAGE, PAGE, &[("name", "Nightly ETL"), ("role", "viewer")])
        .await;
    let page = app.reveal(res).await.text().await.unwrap();
    let marker = "id=\"system-client-id\">";
    let id = page[page.find(marker).unwrap() + marker.len()..]
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    (id, revealed(&page))
}

/// `POST /api/v0/login` with the id and secret; the status.
async fn login(app: &TestApp, id: &str, secret: &str) -> u16 {
    app.client
        .post(app.url("/api/v0/login"))
        .basic_auth(id, Some(secret))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn rotate(app: &TestApp, id: &str, overlap: &str) -> reqwest::Response {
    let action = format!("{PAGE}/{id}/rotate-secret");
    app.post_form(PAGE, &action, &[("overlap", overlap)]).await
}

#[tokio::test]
async fn with_an_overlap_both_secrets_log_in_until_it_ends() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let (id, old) = create(&app).await;
    let page = app.reveal(rotate(&app, &id, "1h").await).await.text().await.unwrap();
    assert!(page.contains("keeps working until"));
    let new = revealed(&page);
    assert!(new.starts_with("sys_") && new != old);
    assert_eq!(login(&app, &id, &old).await, 200, "previous, during the overlap");
    assert_eq!(login(&app, &id, &new).await, 200);
    assert!(app.get_html(PAGE).await.contains("class=\"muted small previous-secret\""));
    app.clock.advance(3601);
    assert_eq!(login(&app, &id, &old).await, 401, "previous, after the overlap");
    assert_eq!(login(&app, &id, &new).await, 200);
    assert!(!app.get_html(PAGE).await.contains("previous-secret"));
    assert!(
        app.get_html("/admin/audit-log")
            .await
            .contains("system_credential.secret_rotated")
    );
}

#[tokio::test]
async fn without_an_overlap_the_old_secret_stops_and_outsiders_cannot_rotate() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let (id, old) = create(&app).await;
    let new = revealed(&app.reveal(rotate(&app, &id, "none").await).await.text().await.unwrap());
    assert_eq!(login(&app, &id, &old).await, 401);
    assert_eq!(login(&app, &id, &new).await, 200);
    // An unknown overlap is refused and changes nothing.
    assert_eq!(rotate(&app, &id, "forever").await.status(), 422);
    assert_eq!(login(&app, &id, &new).await, 200);
    // Someone who does not administer the tenant cannot rotate it; nor can a form without its
    // token.
    let bob = TestApp::with_client(&app, crate::helpers::client());
    bob.signed_in_user().await;
    let action = format!("{PAGE}/{id}/rotate-secret");
    let res = bob.post_form("/settings/credentials", &action, &[("overlap", "none")]).await;
    assert!(res.status() == 403 || res.status() == 404, "{}", res.status());
    let res = app
        .client
        .post(app.url(&action))
        .form(&[("overlap", "none")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(login(&app, &id, &new).await, 200);
}
