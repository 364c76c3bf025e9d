//! RFC 6750 §3: every 401 and 403 of a bearer-protected route carries a `WWW-Authenticate:
//! Bearer` challenge — bare without a token, `invalid_token` for a bad, expired or revoked one,
//! `insufficient_scope` (with the scope when one is missing) on 403 — and keeps the JSON body.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, spawn_app};
use crate::tenancy::*;

async fn challenge(res: reqwest::Response, status: u16) -> String {
    assert_eq!(res.status(), status);
    let header = res
        .headers()
        .get("www-authenticate")
        .unwrap_or_else(|| panic!("no WWW-Authenticate on {status}"))
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["status"], status, "the JSON body stays");
    assert!(
        header.starts_with("Bearer realm=\"portcullis\""),
        "{header}"
    );
    header
}

#[tokio::test]
async fn a_request_without_a_token_gets_a_bare_challenge() {
    let app = spawn_app().await;
    let res = app.get("/v1/users/me").await;
    assert_eq!(
        challenge(res, 401).await,
        "Bearer realm=\"portcullis\"",
        "no error code without a token (§3.1)"
    );
}

#[tokio::test]
async fn a_bad_expired_or_revoked_token_is_an_invalid_token() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let session = app.session_token().await;
    let (id, key) = crate::helpers::create_api_key(&app, &session, "k", &["read"]).await;
    for bad in [
        "garbage",
        "eyJhbGciOiJFZERTQSJ9.e30.AAAA",
        "ck_live_tooshort",
    ] {
        let res = call(&app, Method::GET, "/v1/users/me", bad, None).await;
        let h = challenge(res, 401).await;
        assert!(h.contains("error=\"invalid_token\""), "{bad}: {h}");
        assert!(h.contains("error_description=\""), "{h}");
    }
    call(
        &app,
        Method::DELETE,
        &format!("/api/v1/active/api-keys/{id}"),
        &session,
        None,
    )
    .await;
    let h = challenge(
        call(&app, Method::GET, "/v1/users/me", &key, None).await,
        401,
    )
    .await;
    assert!(h.contains("error=\"invalid_token\""), "revoked: {h}");
    app.clock.advance(2 * 3600);
    let res = call(&app, Method::GET, "/v1/users/me", &session, None).await;
    let h = challenge(res, 401).await;
    assert!(h.contains("error=\"invalid_token\""), "expired: {h}");
}

#[tokio::test]
async fn a_credential_whose_owner_left_the_tenant_is_an_invalid_token() {
    let owner = spawn_app().await;
    owner.signed_in_user().await;
    let tenant = create_tenant(&owner, "Acme").await;
    let member = TestApp::with_client(&owner, client());
    let email = member.signed_in_user().await;
    join(&owner, &tenant, &member, &email, "admin").await;
    switch_to(&member, &tenant).await;
    let token = member.session_token().await;
    let (_, key) = crate::helpers::create_api_key(&member, &token, "k", &["read"]).await;
    remove(&owner, &tenant, &member).await;
    let h = challenge(
        call(&member, Method::GET, "/v1/users/me", &key, None).await,
        401,
    )
    .await;
    assert!(h.contains("error=\"invalid_token\""), "{h}");
}

#[tokio::test]
async fn a_missing_scope_or_role_is_an_insufficient_scope() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let session = app.session_token().await;
    let (_, read) = crate::helpers::create_api_key(&app, &session, "r", &["read"]).await;
    let res = call(
        &app,
        Method::POST,
        "/api/v1/active/api-keys",
        &read,
        Some(json!({"name": "x", "permissions": ["read"]})),
    )
    .await;
    let h = challenge(res, 403).await;
    assert!(h.contains("error=\"insufficient_scope\""), "{h}");
    assert!(h.contains("scope=\"admin\""), "names the scope needed: {h}");

    // Allowed by its scope, refused by the attenuation rules: still insufficient_scope.
    let (_, admin) = crate::helpers::create_api_key(&app, &session, "a", &["admin"]).await;
    let res = call(
        &app,
        Method::POST,
        "/api/v1/active/api-keys",
        &admin,
        Some(json!({"name": "x", "permissions": ["read", "write"]})),
    )
    .await;
    let h = challenge(res, 403).await;
    assert!(h.contains("error=\"insufficient_scope\""), "{h}");
}

#[tokio::test]
async fn a_request_from_outside_the_allowlist_is_refused_with_a_challenge() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let session = app.session_token().await;
    let res = call(
        &app,
        Method::POST,
        "/api/v1/active/api-keys",
        &session,
        Some(json!({"name": "far", "permissions": ["read"], "allowed_ips": ["192.0.2.0/24"]})),
    )
    .await;
    let key = res.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = call(&app, Method::GET, "/v1/users/me", &key, None).await;
    let h = challenge(res, 403).await;
    assert!(h.contains("error=\"insufficient_scope\""), "{h}");
}
