//! The client-credentials grant's two doors, `POST /oauth/token` and `POST /api/v0/login` with
//! HTTP Basic: one mint, the same token, and `token.issued` recorded by both.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// A system credential with the viewer role: its id and secret.
async fn system_credential(app: &TestApp, admin: &str) -> (String, String) {
    let res = app
        .client
        .post(app.url("/api/v1/auth-management/clients"))
        .bearer_auth(admin)
        .json(&json!({"name": "etl", "roles": [{"role_id": "viewer"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    (
        body["client_id"].as_str().unwrap().to_owned(),
        body["client_secret"].as_str().unwrap().to_owned(),
    )
}

async fn issued_events(app: &TestApp, admin: &str, actor: &str) -> Vec<Value> {
    let res = app
        .client
        .get(app.url(&format!(
            "/api/v1/audit-events?event_type=token.issued&actor_id={actor}&limit=200"
        )))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    page["data"].as_array().unwrap().clone()
}

fn claims_of(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&raw).unwrap()
}

#[tokio::test]
async fn login_with_a_system_credential_records_token_issued() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let admin = app.session_token().await;
    let (id, secret) = system_credential(&app, &admin).await;

    let res = app
        .client
        .post(app.url("/api/v0/login"))
        .basic_auth(&id, Some(&secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let token: Value = res.json().await.unwrap();
    let claims = claims_of(token["access_token"].as_str().unwrap());

    let events = issued_events(&app, &admin, &id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["actor_type"], "client");
    assert_eq!(event["outcome"], "success");
    assert_eq!(event["detail"]["grant_type"], "client_credentials");
    assert_eq!(event["detail"]["client_id"], id.as_str());
    assert_eq!(event["tenant_id"], claims["tid"]);
    assert_eq!(
        event["target"],
        format!("token:{}", claims["jti"].as_str().unwrap())
    );
    assert!(!Value::Array(events).to_string().contains(&secret));
}

#[tokio::test]
async fn both_doors_mint_the_same_client_credentials_token() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let admin = app.session_token().await;
    let (id, secret) = system_credential(&app, &admin).await;

    let login: Value = app
        .client
        .post(app.url("/api/v0/login"))
        .basic_auth(&id, Some(&secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let oauth: Value = res.json().await.unwrap();
    assert_eq!(login["expires_in"], oauth["expires_in"]);

    let (a, b) = (
        claims_of(login["access_token"].as_str().unwrap()),
        claims_of(oauth["access_token"].as_str().unwrap()),
    );
    for claim in ["sub", "client_id", "scope", "tid", "roles", "full_access"] {
        assert_eq!(a[claim], b[claim], "{claim}");
    }
    assert_eq!(a["sub"], id.as_str());

    let events = issued_events(&app, &admin, &id).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        events
            .iter()
            .all(|e| e["detail"]["grant_type"] == "client_credentials")
    );
}

#[tokio::test]
async fn bad_client_credentials_are_recorded_as_token_failures_and_bad_requests_are_not() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let admin = app.session_token().await;
    let (id, _) = system_credential(&app, &admin).await;
    let post = |form: Vec<(&'static str, &'static str)>| {
        app.client
            .post(app.url("/oauth/token"))
            .basic_auth(&id, Some("sys_wrong"))
            .form(&form)
            .send()
    };
    let res = post(vec![("grant_type", "client_credentials")])
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = post(vec![]).await.unwrap();
    assert_eq!(res.status(), 400, "no grant_type: a malformed request");

    let res = app
        .client
        .get(app.url(&format!(
            "/api/v1/audit-events?event_type=token.failure&actor_id={id}"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let page: Value = res.json().await.unwrap();
    let events = page["data"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["outcome"], "failure");
    assert_eq!(events[0]["detail"]["error"], "invalid_client");
}
