//! Long-lived credentials: personal access tokens and token exchange, and the request helpers
//! the other credential test files share (`api_keys`, `personal_tokens`, `credential_lists`).

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

pub(crate) const DAY: i64 = 86_400;

pub(crate) async fn setup() -> (TestApp, String) {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    (app, token)
}

pub(crate) async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(bearer);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

pub(crate) async fn get(app: &TestApp, path: &str, bearer: &str) -> reqwest::Response {
    call(app, reqwest::Method::GET, path, bearer, None).await
}

pub(crate) async fn post(
    app: &TestApp,
    path: &str,
    bearer: &str,
    body: Value,
) -> reqwest::Response {
    call(app, reqwest::Method::POST, path, bearer, Some(body)).await
}

pub(crate) async fn delete(app: &TestApp, path: &str, bearer: &str) -> reqwest::Response {
    call(app, reqwest::Method::DELETE, path, bearer, None).await
}

pub(crate) async fn body(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

pub(crate) async fn assert_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status);
    let b = body(res).await;
    assert_eq!(b["error"]["code"], code, "{b}");
    assert_eq!(b["error"]["status"], status);
    assert!(
        b["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    b
}

pub(crate) async fn api_key(app: &TestApp, bearer: &str, spec: Value) -> Value {
    let res = post(app, "/api/v1/active/api-keys", bearer, spec).await;
    assert_eq!(res.status(), 201);
    body(res).await
}

// ---------------------------------------------------------------- personal access tokens

#[tokio::test]
async fn personal_access_tokens_follow_seed_003() {
    let (app, session) = setup().await;
    let res = post(
        &app,
        "/api/v1/active/tokens/",
        &session,
        json!({"name": "my-api-token", "expiry_date": "2099-12-31T23:59:59Z"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created = body(res).await;
    assert_eq!(created["name"], "my-api-token");
    assert_eq!(created["expiry_date"], "2099-12-31T23:59:59Z");
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("sk-"));
    let id = created["id"].as_str().unwrap().to_owned();

    let me = body(get(&app, "/v1/users/me", &token).await).await;
    assert!(me["data"]["id"].as_str().unwrap().starts_with("usr_"));

    let list = body(get(&app, "/api/v1/active/tokens/", &session).await).await;
    let items = list["data"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0],
        json!({"id": id, "name": "my-api-token", "expiry_date": "2099-12-31T23:59:59Z"})
    );
    assert!(
        !list.to_string().contains(&token),
        "the token is never listed"
    );

    assert_eq!(
        delete(&app, &format!("/api/v1/active/tokens/{id}"), &session)
            .await
            .status(),
        204
    );
    assert_error(
        get(&app, "/v1/users/me", &token).await,
        401,
        "authentication_failed",
    )
    .await;
    assert!(
        body(get(&app, "/api/v1/active/tokens/", &session).await).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_error(
        delete(&app, &format!("/api/v1/active/tokens/{id}"), &session).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn personal_access_token_input_is_validated_with_the_field_named() {
    let (app, session) = setup().await;
    let cases = [
        (
            json!({"name": "", "expiry_date": "2099-01-01T00:00:00Z"}),
            "name",
        ),
        (
            json!({"name": "x".repeat(101), "expiry_date": "2099-01-01T00:00:00Z"}),
            "name",
        ),
        (
            json!({"name": "ok", "expiry_date": "2001-01-01T00:00:00Z"}),
            "expiry_date",
        ),
        (
            json!({"name": "ok", "expiry_date": "next tuesday"}),
            "expiry_date",
        ),
        (json!({"name": "ok"}), "expiry_date"),
    ];
    for (input, field) in cases {
        let b = assert_error(
            post(&app, "/api/v1/active/tokens/", &session, input.clone()).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(b["error"]["fields"][field].is_string(), "{input} -> {b}");
    }
    assert!(
        body(get(&app, "/api/v1/active/tokens/", &session).await).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------- token exchange

async fn token_exchange(app: &TestApp, subject: &str, scope: Option<&str>) -> reqwest::Response {
    let mut form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", subject),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        ),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    app.client
        .post(app.url("/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// One credential of every kind, created with the session token: a live API key (read, write),
/// a test API key (read), a personal access token, the personal token and the account secret key.
pub(crate) struct EveryKind {
    pub(crate) live: String,
    pub(crate) test: String,
    pub(crate) pat: String,
    pub(crate) pt: String,
    pub(crate) usk: String,
}

pub(crate) async fn every_kind(app: &TestApp, session: &str) -> EveryKind {
    let key = |spec| async move {
        api_key(app, session, spec).await["key"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let live = key(json!({"name": "l", "permissions": ["read", "write"]})).await;
    let test = key(json!({"name": "t", "permissions": ["read"], "environment": "test"})).await;
    let pat = body(
        post(
            app,
            "/api/v1/active/tokens/",
            session,
            json!({"name": "p", "expiry_date": "2099-01-01T00:00:00Z"}),
        )
        .await,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let pt =
        body(post(app, "/api/v1/active/personal-token", session, json!({})).await).await["token"]
            .as_str()
            .unwrap()
            .to_owned();
    let usk = body(
        call(
            app,
            reqwest::Method::PUT,
            "/user/generate_secret_key",
            session,
            None,
        )
        .await,
    )
    .await["secretKey"]
        .as_str()
        .unwrap()
        .to_owned();
    EveryKind {
        live,
        test,
        pat,
        pt,
        usk,
    }
}

#[tokio::test]
async fn every_credential_kind_exchanges_for_a_short_lived_token() {
    let (app, session) = setup().await;
    let EveryKind {
        live,
        test,
        pat,
        pt,
        usk,
    } = every_kind(&app, &session).await;

    for (secret, scope) in [
        (&live, "read write"),
        (&test, "read"),
        (
            &pat,
            "admin delete email:read email:send read users:read write",
        ),
        (
            &pt,
            "admin delete email:read email:send read users:read write",
        ),
        (
            &usk,
            "admin delete email:read email:send read users:read write",
        ),
    ] {
        let res = token_exchange(&app, secret, None).await;
        assert_eq!(res.status(), 200, "{}", &secret[..6]);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let b = body(res).await;
        assert_eq!(
            b["issued_token_type"],
            "urn:ietf:params:oauth:token-type:access_token"
        );
        assert_eq!(b["token_type"], "Bearer");
        assert_eq!(b["expires_in"], 3600);
        assert_eq!(b["scope"], scope);
        let claims =
            crate::oauth::verify_with_jwks(&app, b["access_token"].as_str().unwrap()).await;
        assert_eq!(claims["scope"], scope);
        assert!(claims["tid"].is_string() && claims["cid"].is_string());
        assert_eq!(
            get(&app, "/v1/users/me", b["access_token"].as_str().unwrap())
                .await
                .status(),
            200
        );
    }

    // Test keys mark their tokens, and introspection of the key says so too.
    let b = body(token_exchange(&app, &test, None).await).await;
    let claims = crate::oauth::verify_with_jwks(&app, b["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["env"], "test");
    let rs = crate::oauth_helpers::resource_server(&app).await;
    let info = crate::oauth_helpers::introspect(&app, &rs, &test).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["env"], "test");
    assert_eq!(info["scope"], "read");
    let info =
        crate::oauth_helpers::introspect(&app, &rs, b["access_token"].as_str().unwrap()).await;
    assert_eq!(info["active"], true);

    // Never more than the credential allows.
    let res = token_exchange(&app, &live, Some("read admin")).await;
    assert_eq!(res.status(), 400);
    assert_eq!(body(res).await["error"], "invalid_scope");
    let narrowed = body(token_exchange(&app, &live, Some("read")).await).await;
    assert_eq!(narrowed["scope"], "read");

    // Bad credentials: invalid_grant.
    let res = token_exchange(&app, "ck_live_nope", None).await;
    assert_eq!(res.status(), 400);
    assert_eq!(body(res).await["error"], "invalid_grant");
}

#[tokio::test]
async fn revoking_a_credential_revokes_the_tokens_exchanged_from_it() {
    let (app, session) = setup().await;
    let created = api_key(
        &app,
        &session,
        json!({"name": "k", "permissions": ["read"]}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let at = body(token_exchange(&app, key, None).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(&app, "/v1/users/me", &at).await.status(), 200);
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        delete(&app, &format!("/api/v1/active/api-keys/{id}"), &session)
            .await
            .status(),
        204
    );
    assert_error(
        get(&app, "/v1/users/me", &at).await,
        401,
        "authentication_failed",
    )
    .await;
}
