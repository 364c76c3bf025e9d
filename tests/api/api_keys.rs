//! API keys: shown once, validated, permissions enforced, malformed and expired keys refused,
//! IP allowlists.

use serde_json::json;

use crate::credentials::{DAY, api_key, assert_error, body, delete, get, post, setup};
use crate::helpers::{spawn_app, spawn_app_with};

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
    let app = spawn_app_with(|s| s.bind = "[::1]:0".parse().unwrap()).await;
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
