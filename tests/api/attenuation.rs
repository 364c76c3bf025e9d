//! Attenuation over HTTP: a credential, or a token exchanged from one, creates nothing stronger
//! than itself; tokens exchanged from a credential keep its allowlist on every request and die
//! with it; every credential and token has its own rate-limit bucket.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::tenancy::*;

fn in_days(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// An admin API key limited to loopback, two days, and test mode.
async fn restricted_key(app: &TestApp) -> String {
    let session = app.session_token().await;
    let res = call(
        app,
        Method::POST,
        "/api/v1/active/api-keys",
        &session,
        Some(json!({
            "name": "restricted",
            "permissions": ["read", "admin"],
            "environment": "test",
            "expires_at": in_days(2),
            "allowed_ips": ["127.0.0.0/8"],
        })),
    )
    .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What `bearer` may not create, each refused with 403, and the one thing it may.
async fn assert_attenuated(app: &TestApp, bearer: &str) {
    let key = |body: Value| async move {
        call(
            app,
            Method::POST,
            "/api/v1/active/api-keys",
            bearer,
            Some(body),
        )
        .await
        .status()
        .as_u16()
    };
    let narrower = json!({
        "name": "n", "permissions": ["read"], "environment": "test",
        "expires_at": in_days(1), "allowed_ips": ["127.0.0.1/32"],
    });
    let with = |field: &str, value: Value| {
        let mut b = narrower.clone();
        b[field] = value;
        b
    };
    let without = |field: &str| {
        let mut b = narrower.clone();
        b.as_object_mut().unwrap().remove(field);
        b
    };
    let refused = [
        (
            "more permissions",
            with("permissions", json!(["read", "write"])),
        ),
        ("the live environment", with("environment", json!("live"))),
        ("the default (live) environment", without("environment")),
        ("a later expiry", with("expires_at", json!(in_days(3)))),
        ("no expiry", without("expires_at")),
        (
            "a wider allowlist",
            with("allowed_ips", json!(["0.0.0.0/0"])),
        ),
        (
            "an allowlist outside its own",
            with("allowed_ips", json!(["192.0.2.1"])),
        ),
        ("no allowlist", without("allowed_ips")),
    ];
    for (what, body) in refused {
        assert_eq!(key(body).await, 403, "{what}");
    }
    let pat = call(
        app,
        Method::POST,
        "/api/v1/active/tokens/",
        bearer,
        Some(json!({"name": "pat", "expiry_date": in_days(1)})),
    )
    .await;
    assert_eq!(pat.status(), 403, "an sk- token acts fully as the person");
    let pt = call(
        app,
        Method::POST,
        "/api/v1/active/personal-token",
        bearer,
        None,
    )
    .await;
    assert_eq!(pt.status(), 403, "a personal token");
    let usk = call(app, Method::PUT, "/user/generate_secret_key", bearer, None).await;
    assert_eq!(usk.status(), 403, "a never-expiring account secret key");
    let sys = call(
        app,
        Method::POST,
        "/api/v1/auth-management/clients",
        bearer,
        Some(json!({"name": "ETL"})),
    )
    .await;
    assert_eq!(sys.status(), 403, "a system credential");
    let body: Value = sys.json().await.unwrap();
    assert_eq!(body["error"]["status"], 403);
    assert_eq!(key(narrower).await, 201, "something no stronger is allowed");
}

#[tokio::test]
async fn a_restricted_key_creates_nothing_stronger_than_itself() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let key = restricted_key(&app).await;
    assert_attenuated(&app, &key).await;
}

#[tokio::test]
async fn a_token_exchanged_from_a_restricted_key_is_just_as_restricted() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let key = restricted_key(&app).await;
    let token = access_token(exchange_credential(&app, &key, None).await).await;
    assert_attenuated(&app, &token).await;
}

#[tokio::test]
async fn a_token_exchanged_from_a_key_expires_no_later_than_the_key() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let session = app.session_token().await;
    let soon = time::OffsetDateTime::now_utc() + time::Duration::minutes(10);
    let soon = soon
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let res = call(
        &app,
        Method::POST,
        "/api/v1/active/api-keys",
        &session,
        Some(json!({"name": "soon", "permissions": ["read"], "expires_at": soon})),
    )
    .await;
    assert_eq!(res.status(), 201);
    let key = res.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let body: Value = exchange_credential(&app, &key, None)
        .await
        .json()
        .await
        .unwrap();
    let lifetime = body["expires_in"].as_i64().unwrap();
    assert!(
        (1..=600).contains(&lifetime),
        "capped at the key's expiry, not the hour: {lifetime}"
    );
}

#[tokio::test]
async fn the_session_of_a_viewer_cannot_mint_a_key_that_writes() {
    let owner = spawn_app().await;
    owner.signed_in_user().await;
    let tenant = create_tenant(&owner, "Acme").await;
    let viewer = TestApp::with_client(&owner, crate::helpers::client());
    let email = viewer.signed_in_user().await;
    join(&owner, &tenant, &viewer, &email, "viewer").await;
    switch_to(&viewer, &tenant).await;
    let session = viewer.session_token().await;
    for perms in [
        json!(["write"]),
        json!(["read", "delete"]),
        json!(["admin"]),
    ] {
        let res = call(
            &viewer,
            Method::POST,
            &format!("/api/v1/{tenant}/api-keys"),
            &session,
            Some(json!({"name": "k", "permissions": perms})),
        )
        .await;
        assert_eq!(res.status(), 403, "{perms}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "insufficient_permissions");
    }
    let page = viewer
        .post_form(
            "/settings/credentials",
            "/settings/credentials/api-keys",
            &[("name", "k"), ("permission", "write")],
        )
        .await;
    assert_eq!(page.status(), 403, "the settings page refuses it too");
    let read = call(
        &viewer,
        Method::POST,
        &format!("/api/v1/{tenant}/api-keys"),
        &session,
        Some(json!({"name": "k", "permissions": ["read"]})),
    )
    .await;
    assert_eq!(read.status(), 201, "what the role allows is allowed");
}

#[tokio::test]
async fn a_lowered_role_shrinks_an_existing_key_at_once() {
    let owner = spawn_app().await;
    owner.signed_in_user().await;
    let tenant = create_tenant(&owner, "Acme").await;
    let member = TestApp::with_client(&owner, crate::helpers::client());
    let email = member.signed_in_user().await;
    join(&owner, &tenant, &member, &email, "editor").await;
    switch_to(&member, &tenant).await;
    let session = member.session_token().await;
    let key: Value = call(
        &member,
        Method::POST,
        &format!("/api/v1/{tenant}/api-keys"),
        &session,
        Some(json!({"name": "w", "permissions": ["read", "write"]})),
    )
    .await
    .json()
    .await
    .unwrap();
    let key = key["key"].as_str().unwrap().to_owned();
    assert_eq!(
        exchange_credential(&member, &key, Some("write"))
            .await
            .status(),
        200,
        "an editor's key writes"
    );

    set_role(&owner, &tenant, &member, "viewer").await;
    let res = exchange_credential(&member, &key, Some("write")).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_scope");
    let access: Value = call(
        &member,
        Method::GET,
        &format!("/api/v1/{tenant}/access"),
        &key,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(access["role"], "viewer");
    assert_eq!(access["scopes"], json!(["read"]));
    let rs = crate::oauth_helpers::resource_server(&owner).await;
    let seen = crate::oauth_helpers::introspect(&owner, &rs, &key).await;
    assert_eq!(seen["active"], true);
    assert_eq!(
        seen["scope"], "read",
        "introspection reports what it may do now"
    );

    remove(&owner, &tenant, &member).await;
    let seen = crate::oauth_helpers::introspect(&owner, &rs, &key).await;
    assert_eq!(
        seen,
        json!({"active": false}),
        "a departed owner's key is inactive"
    );
    assert_eq!(
        exchange_credential(&member, &key, Some("write"))
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn an_exchanged_token_keeps_its_keys_allowlist_behind_a_proxy_and_dies_with_it() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    }).await;
    app.signed_in_user().await;
    let session = app.session_token().await;
    let (id, key) = {
        let res = call(
            &app,
            Method::POST,
            "/api/v1/active/api-keys",
            &session,
            Some(json!({"name": "office", "permissions": ["read"], "allowed_ips": ["203.0.113.0/24"]})),
        )
        .await;
        let b: Value = res.json().await.unwrap();
        (
            b["id"].as_str().unwrap().to_owned(),
            b["key"].as_str().unwrap().to_owned(),
        )
    };
    let from = |ip: &'static str| ("x-forwarded-for", ip);
    let exchange = |ip: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            app.client
                .post(app.url("/oauth/token"))
                .header(from(ip).0, from(ip).1)
                .form(&[
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:token-exchange",
                    ),
                    ("subject_token", key.as_str()),
                    (
                        "subject_token_type",
                        "urn:portcullis:params:oauth:token-type:credential",
                    ),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        exchange("198.51.100.7").await.status(),
        400,
        "exchanged from outside"
    );
    let token = access_token(exchange("203.0.113.9").await).await;
    let me = |ip: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.client
                .get(app.url("/v1/users/me"))
                .bearer_auth(&token)
                .header("x-forwarded-for", ip)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(me("203.0.113.9").await, 200);
    assert_eq!(
        me("198.51.100.7").await,
        403,
        "the allowlist holds on every request"
    );
    let revoke = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/active/api-keys/{id}"),
        &session,
        None,
    )
    .await;
    assert_eq!(revoke.status(), 204);
    assert_eq!(me("203.0.113.9").await, 401, "the token dies with its key");
}

#[tokio::test]
async fn every_token_and_credential_has_its_own_rate_limit_bucket() {
    let app = spawn_app_with(|s| s.rate_limit_per_minute = 3).await;
    app.signed_in_user().await;
    let first = app.session_token().await;
    let second = app.session_token().await;
    let me = |t: &str| {
        let (app, t) = (&app, t.to_owned());
        async move {
            app.client
                .get(app.url("/v1/users/me"))
                .bearer_auth(&t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for _ in 0..3 {
        assert_eq!(me(&first).await, 200);
    }
    assert_eq!(
        me(&first).await,
        429,
        "the first token used up its own budget"
    );
    assert_eq!(me(&second).await, 200, "the second token has its own");

    // A token exchanged from a credential shares that credential's bucket.
    let (_, key) = crate::helpers::create_api_key(&app, &second, "k", &["read"]).await;
    let exchanged = access_token(exchange_credential(&app, &key, None).await).await;
    for _ in 0..3 {
        assert_eq!(me(&key).await, 200);
    }
    assert_eq!(me(&exchanged).await, 429, "shares its credential's bucket");
}
