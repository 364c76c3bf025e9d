//! Every response that carries a secret is `Cache-Control: no-store`: the JSON answers that
//! create credentials and the pages that show a secret once; public responses keep their own
//! caching policy.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::oauth_helpers::{REDIRECT, authorize_path, confidential, pkce};
use crate::tenancy::call;

fn no_store(res: &reqwest::Response, what: &str) {
    assert_eq!(
        res.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "{what}"
    );
}

#[tokio::test]
async fn every_answer_that_carries_a_secret_is_no_store() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    let api: [(Method, &str, Option<serde_json::Value>); 5] = [
        (
            Method::POST,
            "/api/v1/active/api-keys",
            Some(json!({"name": "k", "permissions": ["read"]})),
        ),
        (
            Method::POST,
            "/api/v1/active/tokens/",
            Some(json!({"name": "t", "expiry_date": "2099-01-01T00:00:00Z"})),
        ),
        (Method::POST, "/api/v1/active/personal-token", None),
        (Method::PUT, "/user/generate_secret_key", None),
        (
            Method::POST,
            "/api/v1/auth-management/clients",
            Some(json!({"name": "ETL"})),
        ),
    ];
    for (method, path, body) in api {
        let res = call(&app, method, path, &token, body).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
        no_store(&res, path);
    }
    // Pages that reveal a secret once.
    let pages = [
        (
            "/settings/credentials",
            "/settings/credentials/api-keys",
            vec![("name", "k"), ("permission", "read")],
        ),
        (
            "/settings/credentials",
            "/settings/credentials/session-token",
            vec![],
        ),
        (
            "/settings/apps",
            "/settings/apps",
            vec![
                ("name", "App"),
                ("redirect_uris", REDIRECT),
                ("scope", "read"),
            ],
        ),
    ];
    for (page, action, fields) in pages {
        // The form answers 303 without the secret; the reveal it leads to is no-store.
        let res = app.post_form(page, action, &fields).await;
        assert_eq!(res.status(), 303, "{action}");
        let res = app.reveal(res).await;
        no_store(&res, action);
    }
    // The consent page carries the form token that approves access.
    let c = confidential(&app).await;
    let (_, challenge) = pkce();
    let res = app
        .get(&authorize_path(&c.id, "read", "s", Some(&challenge)))
        .await;
    assert_eq!(res.status(), 200);
    no_store(&res, "consent page");
    // Public, secret-free answers keep their own policy.
    for path in [
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
    ] {
        let res = app.get(path).await;
        let cc = res
            .headers()
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(cc.starts_with("public"), "{path}: {cc}");
    }
}
