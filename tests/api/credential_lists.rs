//! Credentials across tenants and lists: `active` and other tenants, cursors, what the database
//! holds, last use, and `users/me` for every kind.

use serde_json::json;

use crate::credentials::{
    EveryKind, api_key, assert_error, body, call, every_kind, get, post, setup,
};
use crate::helpers::{TestApp, spawn_app};

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
    crate::helpers::sqlite_only!("it reads the SQLite files on disk byte by byte");
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
