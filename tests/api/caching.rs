//! Hot lookups are cached (`runtime::cache`). A change made through a server applies there at
//! once, whatever the cache lifetime; another server on the same database sees it once its
//! entries expire (`--cache-ttl-ms`), and at once with caching off.

use serde_json::Value;

use crate::helpers::{TestApp, spawn_peer, spawn_app_with};
use crate::oauth_helpers::{TestClient, client_credentials, introspect, machine_client};

/// An hour: within a test, only invalidation can make a cached entry go away.
const HOUR_MS: u64 = 3_600_000;

async fn me(app: &TestApp, bearer: &str) -> u16 {
    app.client
        .get(app.url("/v1/users/me"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A signed-in app and a session token for its API.
async fn app_with_ttl(ttl_ms: u64) -> (TestApp, String) {
    let app = spawn_app_with(|s| s.cache_ttl_ms = ttl_ms).await;
    app.signed_in_user().await;
    let session = app.session_token().await;
    (app, session)
}

/// Creates an API key: (id, secret).
async fn new_api_key(app: &TestApp, session: &str) -> (String, String) {
    crate::helpers::create_api_key(app, session, "k", &["read"]).await
}

async fn revoke_api_key(app: &TestApp, session: &str, id: &str) {
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/active/api-keys/{id}")))
        .bearer_auth(session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

async fn client_credentials_token(app: &TestApp, c: &TestClient) -> String {
    let res = client_credentials(app, c).await;
    assert_eq!(res.status(), 200);
    let b: Value = res.json().await.unwrap();
    b["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_revoked_api_key_is_refused_at_once_though_its_lookup_was_cached() {
    let (app, session) = app_with_ttl(HOUR_MS).await;
    let (id, key) = new_api_key(&app, &session).await;
    assert_eq!(me(&app, &key).await, 200);
    assert_eq!(me(&app, &key).await, 200, "served from the cache");
    revoke_api_key(&app, &session, &id).await;
    assert_eq!(me(&app, &key).await, 401);
}

#[tokio::test]
async fn a_revoked_access_token_is_inactive_at_once_though_its_verification_was_cached() {
    let (app, _) = app_with_ttl(HOUR_MS).await;
    let c = machine_client(&app).await;
    let token = client_credentials_token(&app, &c).await;
    assert_eq!(introspect(&app, &c, &token).await["active"], true);
    assert_eq!(introspect(&app, &c, &token).await["active"], true);
    let res = app
        .client
        .post(app.url("/oauth/revoke"))
        .header("authorization", c.basic())
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(introspect(&app, &c, &token).await["active"], false);
    // The verification cache holds the signature check only: a tampered copy is still refused.
    let mut tampered = token.clone();
    tampered.push('A');
    assert_eq!(introspect(&app, &c, &tampered).await["active"], false);
}

#[tokio::test]
async fn another_server_on_the_same_database_sees_a_revocation_once_its_cache_expires() {
    let (a, session) = app_with_ttl(300).await;
    let b = spawn_peer(&a, |s| s.cache_ttl_ms = 300).await;
    let (id, key) = new_api_key(&a, &session).await;
    assert_eq!(
        me(&b, &key).await,
        200,
        "a new key works everywhere at once"
    );
    revoke_api_key(&a, &session, &id).await;
    assert_eq!(me(&a, &key).await, 401);
    // B may serve its cached copy for up to 300 ms; it must refuse well within 10 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if me(&b, &key).await == 401 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other server kept accepting a revoked key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn with_caching_off_another_server_sees_a_revocation_at_once() {
    let (a, session) = app_with_ttl(HOUR_MS).await;
    let b = spawn_peer(&a, |s| s.cache_ttl_ms = 0).await;
    let (id, key) = new_api_key(&a, &session).await;
    assert_eq!(me(&b, &key).await, 200);
    assert_eq!(me(&b, &key).await, 200);
    revoke_api_key(&a, &session, &id).await;
    assert_eq!(me(&b, &key).await, 401);
}

#[tokio::test]
async fn first_use_is_audited_once_however_often_the_key_is_cached_and_flushed() {
    let (app, session) = app_with_ttl(HOUR_MS).await;
    let (id, key) = new_api_key(&app, &session).await;
    for _ in 0..3 {
        assert_eq!(me(&app, &key).await, 200);
        // The credentials page writes pending last-use times, as the background writer does.
        app.get_html("/settings/credentials").await;
    }
    app.get_html("/settings/credentials").await;
    let log = app
        .client
        .get(app.url("/api/v1/audit-events?event_type=credential.first_used"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(log.status(), 200);
    let events: Value = log.json().await.unwrap();
    let firsts = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == format!("credential:{id}"))
        .count();
    assert_eq!(firsts, 1, "{events}");
}
