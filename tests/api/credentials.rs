//! Long-lived credentials: API keys, personal access tokens, the personal token, the account
//! secret key, token exchange, permissions, tenants and the seeds' own requests.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, revealed, spawn_app, spawn_with};

const DAY: i64 = 86_400;

async fn setup() -> (TestApp, String) {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    (app, token)
}

async fn call(
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

async fn get(app: &TestApp, path: &str, bearer: &str) -> reqwest::Response {
    call(app, reqwest::Method::GET, path, bearer, None).await
}

async fn post(app: &TestApp, path: &str, bearer: &str, body: Value) -> reqwest::Response {
    call(app, reqwest::Method::POST, path, bearer, Some(body)).await
}

async fn delete(app: &TestApp, path: &str, bearer: &str) -> reqwest::Response {
    call(app, reqwest::Method::DELETE, path, bearer, None).await
}

async fn body(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

async fn assert_error(res: reqwest::Response, status: u16, code: &str) -> Value {
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

async fn api_key(app: &TestApp, bearer: &str, spec: Value) -> Value {
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

// ---------------------------------------------------------------- API keys

#[tokio::test]
async fn api_keys_are_shown_once_listed_without_the_key_and_revoked_at_once() {
    let (app, session) = setup().await;
    let created = api_key(
        &app,
        &session,
        json!({"name": "Prod", "permissions": ["read", "write"], "environment": "live"}),
    )
    .await;
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("ck_live_"));
    assert!(key.starts_with(created["prefix"].as_str().unwrap()));
    for field in [
        "id",
        "name",
        "prefix",
        "permissions",
        "environment",
        "expires_at",
        "allowed_ips",
        "created_at",
    ] {
        assert!(created.get(field).is_some(), "{field}");
    }
    assert_eq!(created["permissions"], json!(["read", "write"]));

    assert_eq!(get(&app, "/v1/users/me", &key).await.status(), 200);
    let list = body(get(&app, "/api/v1/active/api-keys", &session).await).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(list["data"][0].get("key").is_none());
    assert!(!list.to_string().contains(&key));

    let id = created["id"].as_str().unwrap();
    assert_eq!(
        delete(&app, &format!("/api/v1/active/api-keys/{id}"), &session)
            .await
            .status(),
        204
    );
    let b = assert_error(
        get(&app, "/v1/users/me", &key).await,
        401,
        "authentication_failed",
    )
    .await;
    assert!(b["error"]["message"].as_str().unwrap().contains("revoked"));
}

#[tokio::test]
async fn api_key_input_is_validated() {
    let (app, session) = setup().await;
    let cases = [
        (json!({"name": "", "permissions": ["read"]}), "name"),
        (json!({"name": "k", "permissions": []}), "permissions"),
        (
            json!({"name": "k", "permissions": ["superuser"]}),
            "permissions",
        ),
        (
            json!({"name": "k", "permissions": ["read"], "environment": "staging"}),
            "environment",
        ),
        (
            json!({"name": "k", "permissions": ["read"], "expires_at": "2000-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"name": "k", "permissions": ["read"], "allowed_ips": ["10.0.0.0/33"]}),
            "allowed_ips",
        ),
        (
            json!({"name": "k", "permissions": ["read"], "allowed_ips": ["not-an-ip"]}),
            "allowed_ips",
        ),
    ];
    for (input, field) in cases {
        let b = assert_error(
            post(&app, "/api/v1/active/api-keys", &session, input.clone()).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(b["error"]["fields"][field].is_string(), "{input} -> {b}");
    }
}

#[tokio::test]
async fn permissions_are_enforced_on_the_credential_api() {
    let (app, session) = setup().await;
    let read = api_key(
        &app,
        &session,
        json!({"name": "ro", "permissions": ["read"]}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = api_key(
        &app,
        &session,
        json!({"name": "adm", "permissions": ["admin"]}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let write = api_key(
        &app,
        &session,
        json!({"name": "w", "permissions": ["write"]}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        get(&app, "/api/v1/active/api-keys", &read).await.status(),
        200,
        "read can list"
    );
    assert_error(
        post(
            &app,
            "/api/v1/active/api-keys",
            &read,
            json!({"name": "x", "permissions": ["read"]}),
        )
        .await,
        403,
        "insufficient_permissions",
    )
    .await;
    assert_error(
        post(
            &app,
            "/api/v1/active/tokens/",
            &read,
            json!({"name": "x", "expiry_date": "2099-01-01T00:00:00Z"}),
        )
        .await,
        403,
        "insufficient_permissions",
    )
    .await;
    assert_error(
        get(&app, "/api/v1/active/api-keys", &write).await,
        403,
        "insufficient_permissions",
    )
    .await;

    // A key can only hand out what it holds itself: an `admin`-only key cannot grant `read`.
    assert_eq!(
        post(
            &app,
            "/api/v1/active/api-keys",
            &admin,
            json!({"name": "wider", "permissions": ["read"]}),
        )
        .await
        .status(),
        403
    );
    let made = post(
        &app,
        "/api/v1/active/api-keys",
        &admin,
        json!({"name": "by-admin", "permissions": ["admin"]}),
    )
    .await;
    assert_eq!(made.status(), 201, "admin key can create");
    let id = body(made).await["id"].as_str().unwrap().to_owned();
    assert_error(
        delete(&app, &format!("/api/v1/active/api-keys/{id}"), &read).await,
        403,
        "insufficient_permissions",
    )
    .await;
    assert_eq!(
        delete(&app, &format!("/api/v1/active/api-keys/{id}"), &admin)
            .await
            .status(),
        204
    );

    // A personal access token acts fully as its user.
    let pat = body(
        post(
            &app,
            "/api/v1/active/tokens/",
            &session,
            json!({"name": "full", "expiry_date": "2099-01-01T00:00:00Z"}),
        )
        .await,
    )
    .await;
    let pat = pat["token"].as_str().unwrap();
    assert_eq!(
        post(
            &app,
            "/api/v1/active/api-keys",
            pat,
            json!({"name": "by-pat", "permissions": ["read"], "expires_at": "2098-01-01T00:00:00Z"})
        )
        .await
        .status(),
        201
    );
    // ...but never beyond its own expiry: a key without one would outlive it.
    assert_eq!(
        post(
            &app,
            "/api/v1/active/api-keys",
            pat,
            json!({"name": "forever", "permissions": ["read"]})
        )
        .await
        .status(),
        403
    );
}

#[tokio::test]
async fn oauth_app_tokens_never_manage_credentials_whatever_their_scope() {
    use crate::oauth_helpers::*;
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = confidential(&app).await;
    for (scope, expected) in [("read", 403u16), ("read admin", 403)] {
        let (code, verifier) = obtain_code(&app, &c, scope).await;
        let at = json(exchange(&app, &c, &code, &verifier).await).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = post(
            &app,
            "/api/v1/active/api-keys",
            &at,
            serde_json::json!({"name": "k", "permissions": ["read"]}),
        )
        .await;
        assert_eq!(res.status(), expected, "{scope}");
        assert_eq!(
            get(&app, "/api/v1/active/api-keys", &at).await.status(),
            200
        );
    }
}

#[tokio::test]
async fn malformed_and_bad_checksum_credentials_are_refused() {
    let (app, session) = setup().await;
    let key = api_key(
        &app,
        &session,
        json!({"name": "k", "permissions": ["read"]}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut typo = key.clone().into_bytes();
    typo[12] = if typo[12] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let forged = portcullis::domain::secret_format::generate(
        portcullis::domain::secret_format::Kind::ApiKeyLive,
    );
    for bad in [
        &key[..key.len() - 3],
        typo.as_str(),
        "ck_live_short",
        forged.as_str(),
        "sk-garbage",
        "not-a-token",
    ] {
        let b = assert_error(
            get(&app, "/v1/users/me", bad).await,
            401,
            "authentication_failed",
        )
        .await;
        assert!(b["error"]["message"].is_string(), "{bad}");
    }
    assert_error(
        get(&app, "/v1/users/me", &typo).await,
        401,
        "authentication_failed",
    )
    .await;
    let b = assert_error(
        app.client
            .get(app.url("/v1/users/me"))
            .send()
            .await
            .unwrap(),
        401,
        "authentication_failed",
    )
    .await;
    assert!(b["error"]["message"].as_str().unwrap().contains("Bearer"));
}

#[tokio::test]
async fn expired_api_keys_and_tokens_get_token_expired() {
    let (app, session) = setup().await;
    let soon = time::OffsetDateTime::now_utc().unix_timestamp() + DAY;
    let soon = time::OffsetDateTime::from_unix_timestamp(soon)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let key = api_key(
        &app,
        &session,
        json!({"name": "k", "permissions": ["read"], "expires_at": soon}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let pat = body(
        post(
            &app,
            "/api/v1/active/tokens/",
            &session,
            json!({"name": "p", "expiry_date": soon}),
        )
        .await,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(&app, "/v1/users/me", &key).await.status(), 200);
    app.clock.advance(DAY + 1);
    assert_error(get(&app, "/v1/users/me", &key).await, 401, "token_expired").await;
    assert_error(get(&app, "/v1/users/me", &pat).await, 401, "token_expired").await;
}

#[tokio::test]
async fn ip_allowlists_accept_addresses_and_ranges() {
    let (app, session) = setup().await;
    let outside = api_key(&app, &session, json!({"name": "o", "permissions": ["read"], "allowed_ips": ["10.0.0.0/8", "2001:db8::/32"]})).await;
    assert_eq!(
        outside["allowed_ips"],
        json!(["10.0.0.0/8", "2001:db8::/32"])
    );
    assert_error(
        get(&app, "/v1/users/me", outside["key"].as_str().unwrap()).await,
        403,
        "ip_not_allowed",
    )
    .await;
    let range = api_key(
        &app,
        &session,
        json!({"name": "r", "permissions": ["read"], "allowed_ips": ["127.0.0.0/8"]}),
    )
    .await;
    assert_eq!(
        get(&app, "/v1/users/me", range["key"].as_str().unwrap())
            .await
            .status(),
        200
    );
    let single = api_key(
        &app,
        &session,
        json!({"name": "s", "permissions": ["read"], "allowed_ips": ["127.0.0.1"]}),
    )
    .await;
    assert_eq!(
        get(&app, "/v1/users/me", single["key"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn ip_allowlists_work_for_ipv6_clients() {
    let app = spawn_with(Backend::Sqlite, |s| s.bind = "[::1]:0".parse().unwrap())
        .await
        .unwrap();
    app.signed_in_user().await;
    let session = app.session_token().await;
    let v6 = api_key(
        &app,
        &session,
        json!({"name": "v6", "permissions": ["read"], "allowed_ips": ["::1/128"]}),
    )
    .await;
    assert_eq!(
        get(&app, "/v1/users/me", v6["key"].as_str().unwrap())
            .await
            .status(),
        200
    );
    let v4only = api_key(
        &app,
        &session,
        json!({"name": "v4", "permissions": ["read"], "allowed_ips": ["127.0.0.1/32"]}),
    )
    .await;
    assert_error(
        get(&app, "/v1/users/me", v4only["key"].as_str().unwrap()).await,
        403,
        "ip_not_allowed",
    )
    .await;
    let other = api_key(
        &app,
        &session,
        json!({"name": "x", "permissions": ["read"], "allowed_ips": ["2001:db8::/32"]}),
    )
    .await;
    assert_error(
        get(&app, "/v1/users/me", other["key"].as_str().unwrap()).await,
        403,
        "ip_not_allowed",
    )
    .await;
}

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
    let (app, session) = setup().await;
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

    // A fresh one left idle for 31 days is expired.
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
    assert_eq!(res.status(), 201);
    let pt = revealed(&res.text().await.unwrap());
    let expiry_on_page = |page: String| {
        let start = page.find("id=\"personal-token\"").unwrap();
        let section = &page[start..];
        let exp = section.find("<dt>Expires</dt><dd>").unwrap() + "<dt>Expires</dt><dd>".len();
        section[exp..].split('<').next().unwrap().to_owned()
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
struct EveryKind {
    live: String,
    test: String,
    pat: String,
    pt: String,
    usk: String,
}

async fn every_kind(app: &TestApp, session: &str) -> EveryKind {
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

// ---------------------------------------------------------------- tenants, lists, storage

#[tokio::test]
async fn active_resolves_to_the_callers_tenant_and_others_are_invisible() {
    let (app, session) = setup().await;
    let key = api_key(
        &app,
        &session,
        json!({"name": "k", "permissions": ["read", "admin"]}),
    )
    .await;
    let claims = crate::oauth::verify_with_jwks(&app, &session).await;
    let tenant = claims["tid"].as_str().unwrap().to_owned();
    let by_id = body(get(&app, &format!("/api/v1/{tenant}/api-keys"), &session).await).await;
    assert_eq!(by_id["data"][0]["id"], key["id"]);

    // Another person's tenant is not found, whoever asks.
    let other = TestApp::with_client(&app, crate::helpers::client());
    other.signed_in_user().await;
    let other_session = other.session_token().await;
    let other_tenant = crate::oauth::verify_with_jwks(&app, &other_session).await["tid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        get(&app, &format!("/api/v1/{other_tenant}/api-keys"), &session).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        get(
            &app,
            &format!("/api/v1/{other_tenant}/api-keys"),
            key["key"].as_str().unwrap(),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        get(&app, "/api/v1/no-such-tenant/tokens/", &session).await,
        404,
        "not_found",
    )
    .await;
    assert!(
        body(get(&other, "/api/v1/active/api-keys", &other_session).await).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn lists_page_with_a_cursor() {
    let (app, session) = setup().await;
    for i in 0..5 {
        api_key(
            &app,
            &session,
            json!({"name": format!("k{i}"), "permissions": ["read"]}),
        )
        .await;
    }
    let first = body(get(&app, "/api/v1/active/api-keys?limit=2", &session).await).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    assert_eq!(first["data"][0]["name"], "k4", "newest first");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = body(
        get(
            &app,
            &format!("/api/v1/active/api-keys?limit=2&cursor={cursor}"),
            &session,
        )
        .await,
    )
    .await;
    assert_eq!(second["data"][0]["name"], "k2");
    let third = body(
        get(
            &app,
            &format!(
                "/api/v1/active/api-keys?limit=2&cursor={}",
                second["next_cursor"].as_str().unwrap()
            ),
            &session,
        )
        .await,
    )
    .await;
    assert_eq!(third["data"].as_array().unwrap().len(), 1);
    assert!(third["next_cursor"].is_null());
}

#[tokio::test]
async fn the_database_never_holds_a_secret() {
    let (app, session) = setup().await;
    let mut secrets = vec![
        api_key(
            &app,
            &session,
            json!({"name": "k", "permissions": ["read"]}),
        )
        .await["key"]
            .as_str()
            .unwrap()
            .to_owned(),
        body(
            post(
                &app,
                "/api/v1/active/tokens/",
                &session,
                json!({"name": "p", "expiry_date": "2099-01-01T00:00:00Z"}),
            )
            .await,
        )
        .await["token"]
            .as_str()
            .unwrap()
            .to_owned(),
        body(post(&app, "/api/v1/active/personal-token", &session, json!({})).await).await["token"]
            .as_str()
            .unwrap()
            .to_owned(),
        body(
            call(
                &app,
                reqwest::Method::PUT,
                "/user/generate_secret_key",
                &session,
                None,
            )
            .await,
        )
        .await["secretKey"]
            .as_str()
            .unwrap()
            .to_owned(),
    ];
    let c = crate::oauth_helpers::confidential(&app).await;
    secrets.push(c.secret.clone().unwrap());
    let (code, verifier) = crate::oauth_helpers::obtain_code(&app, &c, "read").await;
    let tokens = crate::oauth_helpers::json(
        crate::oauth_helpers::exchange(&app, &c, &code, &verifier).await,
    )
    .await;
    secrets.push(tokens["refresh_token"].as_str().unwrap().to_owned());
    secrets.push(code);
    app.db.clone().close().await.unwrap(); // flush WAL into the files we scan
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(app.db_dir()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let haystack = String::from_utf8_lossy(&bytes);
    for s in &secrets {
        assert!(
            !haystack.contains(s.as_str()),
            "{} found in the database",
            &s[..8]
        );
        // Nor the random part without its prefix.
        let tail = &s[s.len() - 20..];
        assert!(!haystack.contains(tail));
    }
}

#[tokio::test]
async fn last_use_is_recorded_and_shown() {
    let (app, session) = setup().await;
    let key = api_key(
        &app,
        &session,
        json!({"name": "Tracked", "permissions": ["read"]}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = app.get_html("/settings/credentials").await;
    assert!(page.contains("Tracked"));
    assert_eq!(get(&app, "/v1/users/me", &key).await.status(), 200);
    let page = app.get_html("/settings/credentials").await;
    assert!(
        page.contains("from 127.0.0.1"),
        "last used with IP on the page"
    );
    let list = body(get(&app, "/api/v1/active/api-keys", &session).await).await;
    assert_eq!(list["data"][0]["last_used_ip"], "127.0.0.1");
    assert!(list["data"][0]["last_used_at"].is_string());
}

#[tokio::test]
async fn users_me_answers_for_every_kind_of_credential_presented_directly() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let session = app.session_token().await;
    let EveryKind {
        live,
        test,
        pat,
        pt,
        usk,
    } = every_kind(&app, &session).await;
    for credential in [&session, &live, &test, &pat, &pt, &usk] {
        let res = get(&app, "/v1/users/me", credential).await;
        assert_eq!(res.status(), 200, "{}", &credential[..6]);
        assert_eq!(body(res).await["data"]["email"], email.as_str());
    }
}
