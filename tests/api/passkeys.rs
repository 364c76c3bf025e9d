//! Passkeys over HTTP, without a browser: the Settings → Passkeys page, the ceremony endpoints'
//! refusals (garbage, a missing or spent challenge, no CSRF token, no one signed in) in the
//! REST API's error shape, the sign-in throttle, and renaming and removing. A real registration
//! and sign-in run in `passkeys_browser`.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, csrf_token, spawn_app, spawn_localhost_app_with};

async fn localhost_app() -> TestApp {
    spawn_localhost_app_with(|_| {}).await
}

/// Posts JSON to a ceremony endpoint with `csrf` in `X-CSRF-Token` (none when `None`).
async fn post_json(app: &TestApp, path: &str, csrf: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).json(body);
    if let Some(token) = csrf {
        req = req.header("x-csrf-token", token);
    }
    req.send().await.unwrap()
}

/// The session's CSRF token, read off a page.
async fn csrf_of(app: &TestApp, page: &str) -> String {
    csrf_token(&app.get_html(page).await)
}

/// Asserts the REST API's error shape with this status and code; returns the body.
async fn assert_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(
        !res.headers().contains_key("www-authenticate"),
        "no bearer challenge on a browser endpoint"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["status"], status);
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    body
}

/// An administrator's session token (the first account), on its own client, to read the log.
async fn admin_token(app: &TestApp) -> String {
    let admin = TestApp::with_client(app, client());
    admin.signed_in_user().await;
    admin.session_token().await
}

async fn audit(app: &TestApp, token: &str, event_type: &str) -> Vec<Value> {
    let body: Value = app
        .client
        .get(app.url(&format!("/api/v1/audit-events?limit=200&event_type={event_type}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_passkeys_page_lists_nothing_for_a_new_person_and_is_linked_from_settings() {
    let app = localhost_app().await;
    app.signed_in_user().await;
    let res = app.get("/settings/passkeys").await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"no-passkeys\""), "{page}");
    assert!(!page.contains("data-passkey="));
    assert!(page.contains("id=\"passkey-register\""));
    assert!(page.contains("<code>localhost</code>"));
    assert!(page.contains("src=\"/static/passkeys.js\""));
    assert!(app.get_html("/account").await.contains("href=\"/settings/passkeys\""));
    let script = app.get("/static/passkeys.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("navigator.credentials.create"));

    app.sign_out().await;
    let signin = app.get_html("/signin").await;
    assert!(signin.contains("Sign in with a passkey"));
    assert!(app.get("/settings/passkeys").await.status() == 303);
}

#[tokio::test]
async fn a_server_whose_issuer_is_an_ip_address_offers_no_passkeys() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let page = app.get_html("/settings/passkeys").await;
    assert!(page.contains("id=\"passkeys-unavailable\""), "{page}");
    let csrf = csrf_of(&app, "/settings/passkeys").await;
    let res = post_json(&app, "/settings/passkeys/register/start", Some(&csrf), &json!({"name": "Phone"})).await;
    assert_error(res, 403, "insufficient_permissions").await;
    app.sign_out().await;
    assert!(!app.get_html("/signin").await.contains("Sign in with a passkey"));
}

#[tokio::test]
async fn every_passkey_endpoint_refuses_a_request_without_the_csrf_token() {
    let app = localhost_app().await;
    app.signed_in_user().await;
    for path in [
        "/settings/passkeys/register/start",
        "/settings/passkeys/register/finish",
        "/signin/passkey/start",
        "/signin/passkey/finish",
    ] {
        let body = json!({"name": "Phone"});
        assert_error(post_json(&app, path, None, &body).await, 403, "csrf_failed").await;
        let wrong = post_json(&app, path, Some("not-the-token"), &body).await;
        assert_error(wrong, 403, "csrf_failed").await;
    }
    for action in ["rename", "remove"] {
        let res = app
            .client
            .post(app.url(&format!("/settings/passkeys/some-id/{action}")))
            .form(&[("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{action}");
    }
}

#[tokio::test]
async fn registering_a_passkey_needs_someone_signed_in() {
    let app = localhost_app().await;
    let csrf = csrf_of(&app, "/signin").await;
    for path in ["/settings/passkeys/register/start", "/settings/passkeys/register/finish"] {
        let res = post_json(&app, path, Some(&csrf), &json!({"name": "Phone"})).await;
        assert_error(res, 401, "authentication_failed").await;
    }
}

#[tokio::test]
async fn registration_asks_for_a_discoverable_verified_credential_and_keeps_its_state_server_side() {
    let app = localhost_app().await;
    app.signed_in_user().await;
    let csrf = csrf_of(&app, "/settings/passkeys").await;
    let res = post_json(&app, "/settings/passkeys/register/start", Some(&csrf), &json!({"name": " MacBook "})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let options: Value = res.json().await.unwrap();
    let keys: Vec<&String> = options.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["publicKey"], "only the options reach the browser");
    let pk = &options["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["requireResidentKey"], true);
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    assert!(pk["challenge"].as_str().is_some_and(|c| c.len() >= 43));
    assert_eq!(pk["excludeCredentials"], json!([]));

    for (name, why) in [("   ", "empty"), (&"x".repeat(65) as &str, "too long"), ("a\u{7}b", "control")] {
        let res = post_json(&app, "/settings/passkeys/register/start", Some(&csrf), &json!({"name": name})).await;
        let body = assert_error(res, 422, "validation_failed").await;
        assert!(body["error"]["fields"]["name"].is_string(), "{why}: {body}");
    }
    let res = post_json(&app, "/settings/passkeys/register/start", Some(&csrf), &json!({"nom": "x"})).await;
    assert_error(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn registration_finish_refuses_garbage_a_missing_challenge_and_a_spent_one() {
    let app = localhost_app().await;
    app.signed_in_user().await;
    let csrf = csrf_of(&app, "/settings/passkeys").await;
    let finish = "/settings/passkeys/register/finish";
    let body = assert_error(post_json(&app, finish, Some(&csrf), &json!({})).await, 422, "validation_failed").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("No passkey registration"));

    let start = "/settings/passkeys/register/start";
    assert_eq!(post_json(&app, start, Some(&csrf), &json!({"name": "Phone"})).await.status(), 200);
    let garbage = json!({"id": "x", "rawId": "!!", "response": {}, "type": "public-key"});
    let body = assert_error(post_json(&app, finish, Some(&csrf), &garbage).await, 422, "validation_failed").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("could not be read"), "{body}");
    // The garbage spent the challenge: the same answer again finds none.
    let body = assert_error(post_json(&app, finish, Some(&csrf), &garbage).await, 422, "validation_failed").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("No passkey registration"));

    // Not JSON, and JSON larger than any credential, are refused before anything is read.
    let res = app.client.post(app.url(finish)).header("x-csrf-token", &csrf)
        .header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert_error(res, 400, "invalid_request").await;
    let huge = json!({"id": "x".repeat(20_000)});
    assert_error(post_json(&app, finish, Some(&csrf), &huge).await, 413, "payload_too_large").await;
    assert!(app.get_html("/settings/passkeys").await.contains("id=\"no-passkeys\""));
}

#[tokio::test]
async fn passkey_sign_in_refuses_garbage_a_missing_challenge_and_a_spent_one_and_audits_each() {
    let app = localhost_app().await;
    let token = admin_token(&app).await;
    let csrf = csrf_of(&app, "/signin").await;
    let (start, finish) = ("/signin/passkey/start", "/signin/passkey/finish");

    let res = post_json(&app, finish, Some(&csrf), &json!({})).await;
    assert_error(res, 401, "authentication_failed").await;

    let res = post_json(&app, start, Some(&csrf), &json!({"return_to": "/settings/sessions"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let options: Value = res.json().await.unwrap();
    assert!(options.get("mediation").is_none(), "a button asks: no conditional mediation");
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(options["publicKey"]["allowCredentials"].as_array().is_none_or(Vec::is_empty),
        "discoverable: no account is named");

    let garbage = json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null}});
    assert_error(post_json(&app, finish, Some(&csrf), &garbage).await, 401, "authentication_failed").await;
    // The challenge was spent by the first answer.
    assert_error(post_json(&app, finish, Some(&csrf), &garbage).await, 401, "authentication_failed").await;
    assert!(app.get("/account").await.status() == 303, "nobody signed in");

    let failures = audit(&app, &token, "signin.failure").await;
    let reasons: Vec<&str> = failures
        .iter()
        .filter(|e| e["detail"]["method"] == "passkey")
        .map(|e| e["detail"]["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 3, "{failures:?}");
    assert!(reasons.contains(&"unknown_passkey"), "{reasons:?}");
    assert_eq!(reasons.iter().filter(|r| **r == "no_challenge").count(), 2);
}

#[tokio::test]
async fn failed_passkey_sign_ins_count_against_the_address_throttle() {
    let app = spawn_localhost_app_with(|s| {
        s.failure_limit = 1;
        s.address_failure_limit = Some(3);
    })
    .await;
    let csrf = csrf_of(&app, "/signin").await;
    for _ in 0..3 {
        let res = post_json(&app, "/signin/passkey/finish", Some(&csrf), &json!({})).await;
        assert_error(res, 401, "authentication_failed").await;
    }
    let res = post_json(&app, "/signin/passkey/finish", Some(&csrf), &json!({})).await;
    let retry: i64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0);
    assert_error(res, 429, "rate_limited").await;
}

/// Stores a passkey row for the account with this email, as a registration would have.
async fn stored_passkey(app: &TestApp, email: &str, id: &str, name: &str) {
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DatabaseBackend::Postgres => "SELECT id FROM users WHERE email = $1",
                _ => "SELECT id FROM users WHERE email = ?",
            },
            [email.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let user_id: String = row.try_get("", "id").unwrap();
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO passkeys (id, user_id, credential_id, name, passkey, sign_count, created_at, last_used_at) \
             VALUES ('{id}', '{user_id}', 'cred-{id}', '{name}', '{{}}', 0, 1764547200, NULL)"
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn only_the_owner_renames_or_removes_a_passkey_and_removal_is_audited() {
    let app = localhost_app().await;
    let token = admin_token(&app).await;
    let owner_email = app.signed_in_user().await;
    let id = "0193a000-0000-7000-8000-000000000001";
    stored_passkey(&app, &owner_email, id, "MacBook").await;
    let page = app.get_html("/settings/passkeys").await;
    assert!(page.contains(&format!("data-passkey=\"{id}\"")) && page.contains("MacBook"));

    let stranger = TestApp::with_client(&app, client());
    stranger.signed_in_user().await;
    let rename = format!("/settings/passkeys/{id}/rename");
    let remove = format!("/settings/passkeys/{id}/remove");
    let res = stranger.post_form("/settings/passkeys", &rename, &[("name", "Mine now")]).await;
    assert_eq!(res.status(), 404);
    assert_eq!(stranger.post_form("/settings/passkeys", &remove, &[]).await.status(), 404);
    assert!(app.get_html("/settings/passkeys").await.contains("MacBook"), "untouched");

    let too_long = "y".repeat(65);
    let res = app.post_form("/settings/passkeys", &rename, &[("name", &too_long)]).await;
    assert_eq!(res.status(), 422);
    let res = app.post_form("/settings/passkeys", &rename, &[("name", "Work laptop")]).await;
    assert_eq!(res.status(), 303);
    assert!(app.get_html("/settings/passkeys").await.contains("Work laptop"));
    let res = app.post_form("/settings/passkeys", &remove, &[]).await;
    assert_eq!(res.status(), 303);
    assert!(app.get_html("/settings/passkeys").await.contains("id=\"no-passkeys\""));
    assert_eq!(app.post_form("/settings/passkeys", &remove, &[]).await.status(), 404);

    let renamed = audit(&app, &token, "passkey.renamed").await;
    assert_eq!(renamed.len(), 1);
    assert_eq!(renamed[0]["detail"], json!({"from": "MacBook", "to": "Work laptop"}));
    let removed = audit(&app, &token, "passkey.removed").await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0]["target"], format!("passkey:{id}"));
    assert_eq!(removed[0]["detail"]["name"], "Work laptop");
}

#[tokio::test]
async fn a_passkey_is_asked_for_after_the_password_until_an_administrator_resets_factors() {
    let admin = localhost_app().await;
    admin.signed_in_user().await;
    let person = TestApp::with_client(&admin, client());
    let email = person.signed_in_user().await;
    stored_passkey(&person, &email, "0193a000-0000-7000-8000-000000000002", "Phone").await;

    // The password alone no longer signs in: the second step offers the passkey, no code field.
    person.sign_out().await;
    let res = person.sign_in(&email, crate::oidc_prompt::PASSWORD).await;
    assert_eq!(crate::helpers::location(&res), "/signin/second-factor");
    let page = person.get_html("/signin/second-factor").await;
    assert!(page.contains("id=\"passkey-second-factor\""), "{page}");
    assert!(!page.contains("id=\"code\""), "no app, so no code field");
    assert_eq!(person.get("/account").await.status(), 303, "not signed in yet");
    // An answer that proves nothing (here with no challenge asked for: the stored row is no real
    // credential) is refused in the API's shape, and signs no one in.
    let csrf = csrf_token(&page);
    let garbage = json!({"id": "x", "rawId": "x", "type": "public-key", "response": {}});
    let res = post_json(&person, "/signin/second-factor/passkey/finish", Some(&csrf), &garbage).await;
    assert_error(res, 401, "authentication_failed").await;
    assert_eq!(person.get("/account").await.status(), 303);
    // Without a pending sign-in there is nothing to finish.
    let stranger = TestApp::with_client(&admin, client());
    let page = stranger.get_html("/signin").await;
    let res = post_json(
        &stranger,
        "/signin/second-factor/passkey/start",
        Some(&csrf_token(&page)),
        &json!({}),
    )
    .await;
    assert_error(res, 401, "sign_in_ended").await;

    // An administrator's reset removes the passkey: the password alone signs in again.
    let admin_page = admin.get_html("/admin/users").await;
    let row = admin_page
        .split("<tr data-user=\"")
        .find(|r| r.contains(&format!("<td>{email}</td>")))
        .expect("person listed");
    let id = row.split('"').next().unwrap();
    let res = admin
        .post_form("/admin/users", &format!("/admin/users/{id}/reset-factors"), &[])
        .await;
    assert_eq!(res.status(), 303);
    let res = person.sign_in(&email, crate::oidc_prompt::PASSWORD).await;
    assert_eq!(crate::helpers::location(&res), "/account", "password only");
    assert!(person.get_html("/settings/passkeys").await.contains("id=\"no-passkeys\""));
}
