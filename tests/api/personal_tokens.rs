//! The personal token (`/api/v0/login`, its sliding expiry) and the account secret key.

use serde_json::json;

use crate::credentials::{DAY, api_key, assert_error, body, call, delete, get, post, setup};
use crate::helpers::{TestApp, revealed, spawn_app};

// ---------------------------------------------------------------- personal token

#[tokio::test]
async fn personal_token_logs_in_at_api_v0_login() {
    let (app, session) = setup().await;
    let res = post(&app, "/api/v1/active/personal-token", &session, json!({})).await;
    assert_eq!(res.status(), 201);
    let pt = body(res).await;
    let token = pt["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("pt_"));
    let expires = time::OffsetDateTime::parse(
        pt["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let in_30_days = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    assert!(
        (expires - in_30_days).whole_seconds().abs() < 5,
        "creation + 30 days"
    );

    let res = app
        .client
        .post(app.url("/api/v0/login"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let login = body(res).await;
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["expires_in"], 3600);
    let access = login["access_token"].as_str().unwrap();
    assert_eq!(get(&app, "/v1/users/me", access).await.status(), 200);

    // Regenerating invalidates the old one.
    let new =
        body(post(&app, "/api/v1/active/personal-token", &session, json!({})).await).await["token"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_error(
        app.client
            .post(app.url("/api/v0/login"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        401,
        "authentication_failed",
    )
    .await;
    assert_eq!(
        app.client
            .post(app.url("/api/v0/login"))
            .bearer_auth(&new)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        delete(&app, "/api/v1/active/personal-token", &session)
            .await
            .status(),
        204
    );
    assert_error(
        app.client
            .post(app.url("/api/v0/login"))
            .bearer_auth(&new)
            .send()
            .await
            .unwrap(),
        401,
        "authentication_failed",
    )
    .await;
    // Other kinds are not personal tokens.
    let key = api_key(
        &app,
        &session,
        json!({"name": "k", "permissions": ["read"]}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        app.client
            .post(app.url("/api/v0/login"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        401,
        "authentication_failed",
    )
    .await;
    assert_error(
        app.client
            .post(app.url("/api/v0/login"))
            .send()
            .await
            .unwrap(),
        401,
        "authentication_failed",
    )
    .await;
}

async fn login_status(app: &TestApp, pt: &str) -> u16 {
    let res = app
        .client
        .post(app.url("/api/v0/login"))
        .bearer_auth(pt)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    // Coalesced last-use times reach the database in the background; flush so the server's
    // next decision reads them, as it would a few seconds later.
    let _ = status;
    status
}

#[tokio::test]
async fn personal_token_expires_after_thirty_idle_days_and_ninety_at_most() {
    let app = crate::helpers::spawn_app().await;
    let email = app.signed_in_user().await;
    let session = app.session_token().await;
    let pt =
        body(post(&app, "/api/v1/active/personal-token", &session, json!({})).await).await["token"]
            .as_str()
            .unwrap()
            .to_owned();

    // Used every 20 days it stays alive...
    for _ in 0..4 {
        app.clock.advance(20 * DAY);
        assert_eq!(login_status(&app, &pt).await, 200);
    }
    // ...but never past 90 days after creation (now at day 80; day 91 is past the cap).
    app.clock.advance(11 * DAY);
    let b = assert_error(
        app.client
            .post(app.url("/api/v0/login"))
            .bearer_auth(&pt)
            .send()
            .await
            .unwrap(),
        401,
        "token_expired",
    )
    .await;
    assert!(b["error"]["message"].is_string());

    // A fresh one left idle for 31 days is expired (made from a new sign-in: the old browser
    // session and its token ended long ago).
    assert_eq!(
        app.sign_in(&email, "correct horse battery").await.status(),
        303
    );
    let session = app.session_token().await;
    let pt =
        body(post(&app, "/api/v1/active/personal-token", &session, json!({})).await).await["token"]
            .as_str()
            .unwrap()
            .to_owned();
    app.clock.advance(29 * DAY);
    assert_eq!(login_status(&app, &pt).await, 200);
    app.clock.advance(31 * DAY);
    assert_error(
        app.client
            .post(app.url("/api/v0/login"))
            .bearer_auth(&pt)
            .send()
            .await
            .unwrap(),
        401,
        "token_expired",
    )
    .await;
}

#[tokio::test]
async fn personal_token_expiry_shown_moves_with_use() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let res = app
        .post_form(
            "/settings/credentials",
            "/settings/credentials/personal-token",
            &[],
        )
        .await;
    let res = app.reveal(res).await;
    let pt = revealed(&res.text().await.unwrap());
    let expiry_on_page = |page: String| {
        let start = page.find("id=\"personal-token\"").unwrap();
        let section = &page[start..];
        let exp = section.find("<dt>Expires</dt><dd>").unwrap();
        // The exact moment is the `<time datetime>` (the text says "in 30 days").
        let at = section[exp..].find("datetime=\"").unwrap() + exp + "datetime=\"".len();
        section[at..].split('"').next().unwrap().to_owned()
    };
    let first = expiry_on_page(app.get_html("/settings/credentials").await);
    app.clock.advance(10 * DAY);
    assert_eq!(login_status(&app, &pt).await, 200);
    // Ten idle days ended the browser session too: sign in again to read the page.
    assert_eq!(
        app.sign_in(&email, "correct horse battery").await.status(),
        303
    );
    let second = expiry_on_page(app.get_html("/settings/credentials").await);
    assert_ne!(first, second, "use pushed the expiry out");
    assert!(second > first);
}

// ---------------------------------------------------------------- account secret key

#[tokio::test]
async fn account_secret_key_follows_seed_004() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let session = app.session_token().await;
    let res = call(
        &app,
        reqwest::Method::PUT,
        "/user/generate_secret_key",
        &session,
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let secret = body(res).await["secretKey"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("usk_"));
    assert_error(
        call(
            &app,
            reqwest::Method::PUT,
            "/user/generate_secret_key",
            &session,
            None,
        )
        .await,
        409,
        "conflict",
    )
    .await;

    let res = app
        .client
        .post(app.url("/auth/token"))
        .json(&json!({"email": email, "secretKey": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let token = body(res).await["token"].as_str().unwrap().to_owned();
    let claims = crate::oauth::verify_with_jwks(&app, &token).await;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        7 * DAY,
        "valid 7 days"
    );
    assert_eq!(get(&app, "/v1/users/me", &token).await.status(), 200);

    for bad in [
        json!({"email": email, "secretKey": "usk_wrong"}),
        json!({"email": "nobody@example.com", "secretKey": secret}),
        json!({"email": email}),
    ] {
        assert_error(
            app.client
                .post(app.url("/auth/token"))
                .json(&bad)
                .send()
                .await
                .unwrap(),
            401,
            "authentication_failed",
        )
        .await;
    }

    assert_eq!(
        delete(&app, "/user/delete_secret_key", &session)
            .await
            .status(),
        204
    );
    assert_error(
        app.client
            .post(app.url("/auth/token"))
            .json(&json!({"email": email, "secretKey": secret}))
            .send()
            .await
            .unwrap(),
        401,
        "authentication_failed",
    )
    .await;
    assert_error(
        get(&app, "/v1/users/me", &token).await,
        401,
        "authentication_failed",
    )
    .await;
    assert_error(
        delete(&app, "/user/delete_secret_key", &session).await,
        404,
        "not_found",
    )
    .await;
}
