//! The audit log, rate limits, failure throttles, proxies and the janitor.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn events(app: &TestApp, bearer: &str, query: &str) -> Value {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/audit-events{query}")))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn types(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn security_events_are_recorded_without_secrets() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    app.sign_out().await;
    assert_eq!(app.sign_in(&email, "wrong password!").await.status(), 401);
    assert_eq!(
        app.sign_in(&email, "correct horse battery").await.status(),
        303
    );
    let admin = app.session_token().await;
    let (key_id, secret) = crate::helpers::create_api_key(&app, &admin, "k", &["read"]).await;
    let secret = secret.as_str();
    assert_eq!(
        app.client
            .get(app.url("/v1/users/me"))
            .bearer_auth(secret)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let c = crate::oauth_helpers::confidential(&app).await;
    let (code, verifier) = crate::oauth_helpers::obtain_code(&app, &c, "read").await;
    let tokens = crate::oauth_helpers::json(
        crate::oauth_helpers::exchange(&app, &c, &code, &verifier).await,
    )
    .await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    crate::oauth_helpers::refresh(&app, &c, rt, None).await;
    crate::oauth_helpers::refresh(&app, &c, rt, None).await; // reuse
    assert_eq!(
        app.client
            .delete(app.url(&format!("/api/v1/active/api-keys/{key_id}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );

    for _ in 0..2 {
        let res = app
            .client
            .post(app.url("/api/v1/active/personal-token"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let page = events(&app, &admin, "?limit=200").await;
    let seen = types(&page);
    for expected in [
        "account.created",
        "signout",
        "signin.failure",
        "signin.success",
        "token.issued",
        "credential.created",
        "credential.first_used",
        "consent.granted",
        "token.refresh_reuse_detected",
        "credential.revoked",
    ] {
        assert!(
            seen.iter().any(|t| t == expected),
            "{expected} missing from {seen:?}"
        );
    }
    let issued: Vec<&Value> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "token.issued")
        .collect();
    let grants: Vec<&str> = issued
        .iter()
        .map(|e| e["detail"]["grant_type"].as_str().unwrap())
        .collect();
    for g in ["session", "authorization_code", "refresh_token"] {
        assert!(grants.contains(&g), "{g} in {grants:?}");
    }
    let failure = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "signin.failure")
        .unwrap();
    assert_eq!(failure["outcome"], "failure");
    assert_eq!(failure["ip"], "127.0.0.1");
    let text = page.to_string();
    for s in [
        secret,
        rt,
        &code,
        c.secret.as_deref().unwrap(),
        "correct horse battery",
        "wrong password!",
    ] {
        assert!(!text.contains(s), "secret in the audit log");
    }
}

#[tokio::test]
async fn the_audit_api_filters_paginates_and_is_for_administrators() {
    let app = spawn_app().await;
    let admin_email = app.signed_in_user().await;
    let admin = app.session_token().await;
    let stranger = TestApp::with_client(&app, crate::helpers::client());
    for _ in 0..3 {
        stranger.sign_in(&admin_email, "nope nope nope").await;
    }
    let failures = events(&app, &admin, "?event_type=signin.failure&limit=2").await;
    assert_eq!(types(&failures), ["signin.failure", "signin.failure"]);
    let cursor = failures["next_cursor"].as_str().unwrap();
    let rest = events(
        &app,
        &admin,
        &format!("?event_type=signin.failure&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(types(&rest), ["signin.failure"]);
    assert!(rest["next_cursor"].is_null());
    let future = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    assert!(types(&events(&app, &admin, &format!("?since={future}")).await).is_empty());
    let claims = crate::oauth::verify_with_jwks(&app, &admin).await;
    let me =
        portcullis::domain::user::User::id_from_public(claims["sub"].as_str().unwrap()).unwrap();
    let by_me = events(&app, &admin, &format!("?actor_id={me}")).await;
    assert!(
        by_me["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor_id"] == me.as_str())
    );
    assert!(!by_me["data"].as_array().unwrap().is_empty());

    // Not for ordinary accounts, nor for credentials without `admin`.
    let bob = TestApp::with_client(&app, crate::helpers::client());
    bob.signed_in_user().await;
    let bobs = bob.session_token().await;
    let res = bob
        .client
        .get(bob.url("/api/v1/audit-events"))
        .bearer_auth(&bobs)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (_, key) = crate::helpers::create_api_key(&app, &admin, "ro", &["read"]).await;
    let res = app
        .client
        .get(app.url("/api/v1/audit-events"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(bob.get("/admin/audit-log").await.status(), 403);
}

#[tokio::test]
async fn people_see_their_own_events_and_admins_filter_all() {
    let app = spawn_app().await;
    let admin_email = app.signed_in_user().await;
    let bob = TestApp::with_client(&app, crate::helpers::client());
    let bob_email = bob.signed_in_user().await;
    bob.sign_out().await;
    bob.sign_in(&bob_email, "wrong wrong wrong").await;
    bob.sign_in(&bob_email, "correct horse battery").await;

    // Rows carry their type; the type picker lists every type whatever the rows.
    let row = |t: &str| format!("data-type=\"{t}\"");
    let mine = bob.get_html("/settings/security-log").await;
    assert!(mine.contains(&row("signin.failure")) && mine.contains(&row("signin.success")));
    assert!(!mine.contains(&admin_email));
    let admins_own = app.get_html("/settings/security-log").await;
    assert!(
        !admins_own.contains(&row("signin.failure")),
        "bob's failure is not the admin's"
    );

    let all = app.get_html("/admin/audit-log").await;
    assert!(all.contains(&row("signin.failure")) && all.contains(&row("account.created")));
    let filtered = app
        .get_html("/admin/audit-log?event_type=signin.failure")
        .await;
    assert_eq!(filtered.matches("class=\"event\"").count(), 1);
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let dated = app
        .get_html(&format!("/admin/audit-log?since={today}&until={today}"))
        .await;
    assert!(dated.contains(&row("signin.failure")));
    let _ = admin_email;
}

#[tokio::test]
async fn credentials_are_rate_limited_with_headers() {
    let app = spawn_app_with(|s| s.rate_limit_per_minute = 3).await;
    app.signed_in_user().await;
    let admin = app.session_token().await;
    let (_, key) = crate::helpers::create_api_key(&app, &admin, "k", &["read"]).await;
    let key = key.as_str();
    for remaining in ["2", "1", "0"] {
        let res = app
            .client
            .get(app.url("/v1/users/me"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-ratelimit-limit"], "3");
        assert_eq!(res.headers()["x-ratelimit-remaining"], remaining);
        assert!(res.headers().get("x-ratelimit-reset").is_some());
    }
    let res = app
        .client
        .get(app.url("/v1/users/me"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(res.headers()["x-ratelimit-remaining"], "0");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(body["error"]["status"], 429);
    // Other credentials are unaffected, and the settings page shows the usage.
    assert_eq!(
        app.client
            .get(app.url("/v1/users/me"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let page = app.get_html("/settings/credentials").await;
    assert!(
        page.contains("4 request(s) this minute, 133% of the 3/min limit"),
        "usage shown"
    );
}

#[tokio::test]
async fn repeated_sign_in_failures_are_throttled_per_address_and_account() {
    let app = spawn_app_with(|s| {
        s.failure_limit = 3;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    }).await;
    let email = app.signed_in_user().await;
    app.sign_out().await;
    let attempt = |from: &'static str, password: &'static str| {
        let email = email.clone();
        let app = &app;
        async move {
            let page = app
                .client
                .get(app.url("/signin"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let csrf = crate::helpers::csrf_token(&page);
            app.client
                .post(app.url("/signin"))
                .header("x-forwarded-for", from)
                .form(&[
                    ("email", email.as_str()),
                    ("password", password),
                    ("csrf_token", csrf.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        assert_eq!(attempt("203.0.113.9", "bad password").await.status(), 401);
    }
    let res = attempt("203.0.113.9", "bad password").await;
    assert_eq!(res.status(), 429);
    assert!(
        res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 0
    );
    // Even the right password waits from that address...
    assert_eq!(
        attempt("203.0.113.9", "correct horse battery")
            .await
            .status(),
        429
    );
    // ...but the owner, elsewhere, is not locked out.
    assert_eq!(
        attempt("198.51.100.4", "correct horse battery")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let app = spawn_app().await; // no trusted proxies
    let email = app.signed_in_user().await;
    let admin = app.session_token().await;
    let stranger = TestApp::with_client(&app, crate::helpers::client());
    let page = stranger
        .client
        .get(app.url("/signin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_token(&page);
    stranger
        .client
        .post(app.url("/signin"))
        .header("x-forwarded-for", "203.0.113.77")
        .form(&[
            ("email", email.as_str()),
            ("password", "not it at all"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let page = events(&app, &admin, "?event_type=signin.failure").await;
    assert_eq!(
        page["data"][0]["ip"], "127.0.0.1",
        "a spoofed header is ignored"
    );

    let proxied = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]
    }).await;
    proxied.signed_in_user().await;
    let token = proxied.session_token().await;
    let key: Value = proxied
        .client
        .post(proxied.url("/api/v1/active/api-keys"))
        .bearer_auth(&token)
        .json(&json!({"name": "k", "permissions": ["read"], "allowed_ips": ["203.0.113.0/24"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = key["key"].as_str().unwrap();
    let via = |xff: &'static str| {
        proxied
            .client
            .get(proxied.url("/v1/users/me"))
            .bearer_auth(key)
            .header("x-forwarded-for", xff)
            .send()
    };
    assert_eq!(
        via("203.0.113.5").await.unwrap().status(),
        200,
        "client address from the trusted proxy"
    );
    assert_eq!(via("198.51.100.1").await.unwrap().status(), 403);
    // The rightmost untrusted address wins: a client cannot prepend its way in.
    assert_eq!(
        via("203.0.113.5, 198.51.100.1").await.unwrap().status(),
        403
    );
}

#[tokio::test]
async fn the_token_endpoint_throttles_repeated_failures_but_not_successes() {
    let app = spawn_app_with(|s| s.failure_limit = 3).await;
    let c = crate::oauth_helpers::machine_client(&app).await;
    // Many successes: never throttled.
    for _ in 0..6 {
        let res = crate::oauth_helpers::client_credentials(&app, &c).await;
        assert_eq!(res.status(), 200);
    }
    let wrong = crate::oauth_helpers::TestClient {
        id: c.id.clone(),
        secret: Some(portcullis::domain::secret_format::generate(
            portcullis::domain::secret_format::Kind::ClientSecret,
        )),
    };
    for _ in 0..3 {
        let res = app
            .client
            .post(app.url("/oauth/token"))
            .header("authorization", wrong.basic())
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("authorization", wrong.basic())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(res.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn audit_events_are_timed_by_the_servers_clock() {
    let app = spawn_app().await;
    let ten_days = 10 * 86_400;
    app.clock.advance(ten_days);
    app.signed_in_user().await;
    let admin = app.session_token().await;
    let page = events(&app, &admin, "").await;
    let created = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "account.created")
        .unwrap();
    let wall = time::OffsetDateTime::now_utc().unix_timestamp();
    let at = created["at"].as_i64().unwrap();
    assert!(
        at >= wall + ten_days - 5,
        "{at} is not ten days ahead of {wall}"
    );
    assert!(at <= app.clock.now());
}

#[tokio::test]
async fn the_janitor_removes_expired_rows_in_batches() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = crate::oauth_helpers::confidential(&app).await;
    crate::oauth_helpers::obtain_code(&app, &c, "read").await;
    let count = |table: &'static str| {
        let db = app.db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT COUNT(*) AS n FROM {table}"),
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    assert!(count("sessions").await > 0 && count("auth_codes").await > 0);
    // Reading the log waits for the writer to store every event recorded so far, so none lands
    // after the updates below.
    assert_eq!(app.get("/admin/audit-log").await.status(), 200);
    app.db
        .execute_unprepared("UPDATE sessions SET expires_at = 0")
        .await
        .unwrap();
    app.db
        .execute_unprepared("UPDATE auth_codes SET expires_at = 0")
        .await
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let removed = portcullis::runtime::purge::run_once(&portcullis::storage::writer::Writer::direct(&app.db), now, 90)
        .await
        .unwrap();
    assert!(removed >= 2);
    assert_eq!(count("sessions").await, 0);
    assert_eq!(count("auth_codes").await, 0);
    // Audit events older than the retention go too.
    app.db
        .execute_unprepared("UPDATE audit_events SET at = 0")
        .await
        .unwrap();
    portcullis::runtime::purge::run_once(&portcullis::storage::writer::Writer::direct(&app.db), now, 90)
        .await
        .unwrap();
    assert_eq!(count("audit_events").await, 0);
}

#[tokio::test]
async fn hsts_is_sent_when_the_issuer_is_https() {
    let plain = spawn_app().await;
    assert!(
        plain
            .get("/signin")
            .await
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
    let https = spawn_app_with(|s| {
        s.issuer = Some("https://auth.example".parse().unwrap())
    }).await;
    let res = https.get("/signin").await;
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
}

#[tokio::test]
async fn a_burst_of_events_of_any_size_is_written_whole() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let admin = app.session_token().await;
    let c = crate::oauth_helpers::machine_client(&app).await;
    // 77 = 64 + 8 + 5: every chunk size the writer uses, in one batch.
    let issued = futures_util::future::join_all(
        (0..77).map(|_| crate::oauth_helpers::client_credentials(&app, &c)),
    )
    .await;
    assert!(issued.iter().all(|r| r.status() == 200));
    let page = events(
        &app,
        &admin,
        &format!("?event_type=token.issued&actor_id={}&limit=200", c.id),
    )
    .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 77);
}
