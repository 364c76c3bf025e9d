//! Behind a trusted reverse proxy, the client address is the one the proxy saw: a client that
//! writes its own `X-Forwarded-For` line gains nothing, whether the proxy appends a second line
//! or adds a hop with a port.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};
use crate::tenancy::call;

async fn behind_proxy() -> (TestApp, String) {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    }).await;
    app.signed_in_user().await;
    let session = app.session_token().await;
    let res = call(
        &app,
        Method::POST,
        "/api/v1/active/api-keys",
        &session,
        Some(json!({"name": "office", "permissions": ["read"], "allowed_ips": ["203.0.113.0/24"]})),
    )
    .await;
    let key = res.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    (app, key)
}

async fn me_from(app: &TestApp, key: &str, lines: &[&str]) -> u16 {
    let mut req = app.client.get(app.url("/v1/users/me")).bearer_auth(key);
    for line in lines {
        req = req.header("x-forwarded-for", *line);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_spoofed_first_line_does_not_pass_the_allowlist() {
    let (app, key) = behind_proxy().await;
    // The client wrote an allowed address; the proxy appended the real one on a second line.
    assert_eq!(
        me_from(&app, &key, &["203.0.113.9", "198.51.100.7"]).await,
        403
    );
    assert_eq!(
        me_from(&app, &key, &["203.0.113.9, 198.51.100.7"]).await,
        403
    );
    assert_eq!(
        me_from(&app, &key, &["198.51.100.7", "203.0.113.9"]).await,
        200
    );
}

#[tokio::test]
async fn hops_with_ports_and_unknown_hops_resolve_to_the_right_address() {
    let (app, key) = behind_proxy().await;
    assert_eq!(me_from(&app, &key, &["203.0.113.9:51234"]).await, 200);
    assert_eq!(
        me_from(&app, &key, &["203.0.113.9, 198.51.100.7:443"]).await,
        403
    );
    // `unknown` ends the walk at the proxy itself (127.0.0.1), never a hop further left.
    assert_eq!(me_from(&app, &key, &["203.0.113.9, unknown"]).await, 403);
}

#[tokio::test]
async fn revoking_a_consent_that_does_not_exist_is_404_and_records_nothing() {
    let app = crate::helpers::spawn_app().await;
    app.signed_in_user().await;
    let res = app
        .post_form(
            "/settings/authorized-apps",
            "/settings/authorized-apps/0123456789abcdef0123456789abcdef/revoke",
            &[],
        )
        .await;
    assert_eq!(res.status(), 404);
    let token = app.session_token().await;
    let events: Value = call(
        &app,
        Method::GET,
        "/api/v1/audit-events?limit=200",
        &token,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(
        !events.to_string().contains("consent.revoked"),
        "no event for a consent that never existed"
    );
}
