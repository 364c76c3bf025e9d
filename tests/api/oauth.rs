//! The OAuth 2.0 authorization server: authorize and consent, the token endpoint and its grants,
//! revocation, introspection, metadata, JWKS and the bearer-protected API.

use portcullis::domain::client::GrantType;

use crate::helpers::{TestApp, location, spawn_app};
use crate::oauth_helpers::*;
use crate::helpers::on_both_backends;

async fn signed_in_app() -> TestApp {
    let app = spawn_app().await;
    app.signed_in_user().await;
    app
}

// ---------------------------------------------------------------- authorize: errors

#[tokio::test]
async fn unknown_client_gets_an_error_page_and_no_redirect() {
    let app = signed_in_app().await;
    let res = app
        .get(&authorize_path("no-such-client", "read", "s", None))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    assert!(res.text().await.unwrap().contains("not registered"));
}

#[tokio::test]
async fn unregistered_redirect_uri_gets_an_error_page_and_no_redirect() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    for evil in [
        "https://evil.example/callback",
        "https://app.example/callback/",
        "https://app.example/callback#x",
        "http://app.example/callback",
    ] {
        let path =
            authorize_path(&c.id, "read", "s", None).replace(&urlenc(REDIRECT), &urlenc(evil));
        let res = app.get(&path).await;
        assert_eq!(res.status(), 400, "{evil}");
        assert!(res.headers().get("location").is_none(), "{evil} redirected");
    }
}

fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn error_redirect(app: &TestApp, path: &str) -> Vec<(String, String)> {
    let res = app.get(path).await;
    assert_eq!(res.status(), 303, "{path}");
    let loc = location(&res);
    assert!(loc.starts_with(REDIRECT), "{loc}");
    query_of(&loc)
}

#[tokio::test]
async fn authorize_errors_redirect_with_error_description_state_and_issuer() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let public = register(&app, "read", true, &[]).await;
    let (_, challenge) = pkce();
    let base = authorize_path(&c.id, "read", "st 1", Some(&challenge));

    let cases = [
        (
            base.replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            authorize_path(&c.id, "read launch:missiles", "st 1", Some(&challenge)),
            "invalid_scope",
        ),
        (
            authorize_path(&c.id, "delete", "st 1", Some(&challenge)),
            "invalid_scope",
        ),
        (
            authorize_path(&public.id, "read", "st 1", None),
            "invalid_request",
        ),
        (
            base.replace("code_challenge_method=S256", "code_challenge_method=plain"),
            "invalid_request",
        ),
    ];
    for (path, expected) in cases {
        let pairs = error_redirect(&app, &path).await;
        assert_eq!(q(&pairs, "error"), Some(expected), "{path}");
        assert!(q(&pairs, "error_description").is_some_and(|d| !d.is_empty()));
        assert_eq!(q(&pairs, "state"), Some("st 1"));
        assert_eq!(q(&pairs, "iss"), Some(app.address.as_str()));
        assert!(q(&pairs, "code").is_none());
    }
}

#[tokio::test]
async fn signed_out_people_sign_in_first_and_come_back_to_the_request() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let c = confidential(&app).await;
    app.sign_out().await;
    let path = authorize_path(&c.id, "read", "abc", None);
    let res = app.get(&path).await;
    assert_eq!(res.status(), 303);
    let to_signin = location(&res);
    assert!(to_signin.starts_with("/signin?return_to="));
    let res = app
        .post_form(
            &to_signin,
            "/signin",
            &[
                ("email", &email),
                ("password", "correct horse battery"),
                ("return_to", &path),
            ],
        )
        .await;
    assert_eq!(location(&res), path);
    assert_eq!(
        app.get(&path).await.status(),
        200,
        "consent page after sign-in"
    );
}

// ---------------------------------------------------------------- consent

#[tokio::test]
async fn consent_page_names_the_app_the_account_and_each_scope_and_refuses_framing() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let c = confidential(&app).await;
    let res = app
        .get(&authorize_path(&c.id, "read write", "s", None))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let page = res.text().await.unwrap();
    assert!(page.contains("Test App"));
    assert!(page.contains(&email));
    assert!(page.contains("Read your data") && page.contains("Create and change your data"));
    assert!(page.contains("consent-allow") && page.contains("consent-deny"));
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let loc = consent(&app, &authorize_path(&c.id, "read", "s-9", None), "deny").await;
    let pairs = query_of(&loc);
    assert_eq!(q(&pairs, "error"), Some("access_denied"));
    assert_eq!(q(&pairs, "state"), Some("s-9"));
    assert_eq!(q(&pairs, "iss"), Some(app.address.as_str()));
    assert!(q(&pairs, "code").is_none());
}

#[tokio::test]
async fn allow_redirects_with_code_state_and_issuer() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let state = "odd state/&=?";
    let loc = consent(&app, &authorize_path(&c.id, "read", state, None), "allow").await;
    assert!(loc.starts_with(REDIRECT));
    let pairs = query_of(&loc);
    assert!(q(&pairs, "code").is_some_and(|c| c.len() >= 32));
    assert_eq!(q(&pairs, "state"), Some(state));
    assert_eq!(q(&pairs, "iss"), Some(app.address.as_str()));
}

#[tokio::test]
async fn consent_form_without_csrf_is_refused() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let path = authorize_path(&c.id, "read", "s", None);
    app.get(&path).await;
    let res = app
        .client
        .post(app.url(&path))
        .form(&[("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("location").is_none());
}

#[tokio::test]
async fn consent_is_remembered_until_more_scopes_or_prompt_consent() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    consent(
        &app,
        &authorize_path(&c.id, "read write", "s", None),
        "allow",
    )
    .await;

    // Same or fewer scopes: straight back with a code.
    for scope in ["read write", "read"] {
        let res = app.get(&authorize_path(&c.id, scope, "again", None)).await;
        assert_eq!(res.status(), 303, "{scope}");
        assert!(q(&query_of(&location(&res)), "code").is_some());
    }
    // prompt=consent always shows the page.
    let res = app
        .get(&format!(
            "{}&prompt=consent",
            authorize_path(&c.id, "read", "s", None)
        ))
        .await;
    assert_eq!(res.status(), 200);
    // A new scope shows it again, marking the new one.
    let res = app
        .get(&authorize_path(&c.id, "read admin", "s", None))
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Administer your account"));
    assert!(page.contains("badge\">new"));
}

// ---------------------------------------------------------------- token endpoint: code grant

#[tokio::test]
async fn code_exchange_returns_tokens_with_no_store_headers() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read write").await;
    let res = exchange(&app, &c, &code, &verifier).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["pragma"], "no-cache");
    let body = json(res).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "read write");
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|r| r.len() >= 40)
    );
    let at = body["access_token"].as_str().unwrap();
    assert_eq!(at.split('.').count(), 3);
}

#[tokio::test]
async fn client_secret_post_works_too() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
            ("client_id", c.id.as_str()),
            ("client_secret", c.secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn wrong_or_missing_client_credentials_get_401_invalid_client() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];

    let wrong = TestClient {
        id: c.id.clone(),
        secret: Some(portcullis::domain::secret_format::generate(
            portcullis::domain::secret_format::Kind::ClientSecret,
        )),
    };
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("authorization", wrong.basic())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(json(res).await["error"], "invalid_client");

    let mut post = form.to_vec();
    post.push(("client_id", &c.id));
    post.push(("client_secret", "cs_not-even-well-formed"));
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .form(&post)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers().get("www-authenticate").is_none(),
        "no Basic attempted"
    );
    assert_eq!(json(res).await["error"], "invalid_client");

    // No credentials at all.
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // The code was not spent by the failed attempts.
    assert_eq!(exchange(&app, &c, &code, &verifier).await.status(), 200);
}

#[tokio::test]
async fn replayed_code_fails_and_revokes_the_tokens_issued_from_it() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let first = json(exchange(&app, &c, &code, &verifier).await).await;
    let at = first["access_token"].as_str().unwrap();
    let rt = first["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&app, &c, at).await["active"], true);

    let replay = exchange(&app, &c, &code, &verifier).await;
    assert_eq!(replay.status(), 400);
    let body = json(replay).await;
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body.get("description").is_none(),
        "RFC name is error_description"
    );
    assert!(body["error_description"].is_string());

    assert_eq!(
        introspect(&app, &c, at).await["active"],
        false,
        "access token revoked"
    );
    assert_eq!(
        introspect(&app, &c, rt).await["active"],
        false,
        "refresh token revoked"
    );
    assert_eq!(refresh(&app, &c, rt, None).await.status(), 400);
}

#[tokio::test]
async fn expired_code_is_refused() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    // Codes live 60 seconds: move this one's clock past it.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("UPDATE auth_codes SET expires_at = expires_at - 61")
        .await
        .unwrap();
    let res = exchange(&app, &c, &code, &verifier).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["error"], "invalid_grant");
}

#[tokio::test]
async fn codes_expire_within_sixty_seconds() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    obtain_code(&app, &c, "read").await;
    use sea_orm::{ConnectionTrait, Statement};
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT expires_at - created_at AS ttl FROM auth_codes",
        ))
        .await
        .unwrap()
        .unwrap();
    let ttl: i64 = row.try_get("", "ttl").unwrap();
    assert!((59..=60).contains(&ttl), "code ttl {ttl}");
}

#[tokio::test]
async fn pkce_mismatch_and_downgrade_are_refused() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;

    let (code, _) = obtain_code(&app, &c, "read").await;
    let (other_verifier, _) = pkce();
    let res = exchange(&app, &c, &code, &other_verifier).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["error"], "invalid_grant");

    // Missing verifier when a challenge was sent.
    let (code, _) = obtain_code(&app, &c, "read").await;
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("authorization", c.basic())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await["error"], "invalid_grant");

    // A verifier for a code issued without a challenge (downgrade attempt). Consent for `read`
    // is remembered by now, so the request comes straight back with a code.
    let res = app.get(&authorize_path(&c.id, "read", "s", None)).await;
    let loc = location(&res);
    let code = q(&query_of(&loc), "code").unwrap().to_owned();
    let (verifier, _) = pkce();
    let res = exchange(&app, &c, &code, &verifier).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["error"], "invalid_grant");
}

#[tokio::test]
async fn code_is_bound_to_its_redirect_uri_and_client() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let other = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("authorization", c.basic())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1/cb"),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await["error"], "invalid_grant");

    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let res = exchange(&app, &other, &code, &verifier).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["error"], "invalid_grant");
}

#[tokio::test]
async fn public_clients_exchange_with_client_id_and_pkce_only() {
    let app = signed_in_app().await;
    let c = register(&app, "read", true, &[]).await;
    assert!(c.secret.is_none());
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let res = exchange(&app, &c, &code, &verifier).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn token_endpoint_errors_use_rfc_6749_shapes() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let post = |form: Vec<(&'static str, &'static str)>| {
        app.client
            .post(app.url("/oauth/token"))
            .header("authorization", c.basic())
            .form(&form)
            .send()
    };
    let res = post(vec![("grant_type", "password")]).await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["error"], "unsupported_grant_type");
    let res = post(vec![]).await.unwrap();
    assert_eq!(json(res).await["error"], "invalid_request");
    let res = post(vec![("grant_type", "authorization_code")])
        .await
        .unwrap();
    assert_eq!(json(res).await["error"], "invalid_request");
    let res = post(vec![("grant_type", "client_credentials")])
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        json(res).await["error"],
        "unauthorized_client",
        "grant not allowed for this client"
    );
}

// ---------------------------------------------------------------- refresh

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read write").await;
    let first = json(exchange(&app, &c, &code, &verifier).await).await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();

    let second = refresh(&app, &c, &rt1, None).await;
    assert_eq!(second.status(), 200);
    assert_eq!(second.headers()["cache-control"], "no-store");
    let second = json(second).await;
    let rt2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2, "rotated");
    assert_eq!(second["token_type"], "Bearer");
    let at2 = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&app, &c, &at2).await["active"], true);

    // Presenting the rotated token again is reuse: it fails and the whole family dies.
    let reuse = refresh(&app, &c, &rt1, None).await;
    assert_eq!(reuse.status(), 400);
    assert_eq!(json(reuse).await["error"], "invalid_grant");
    assert_eq!(
        refresh(&app, &c, &rt2, None).await.status(),
        400,
        "newest token revoked too"
    );
    assert_eq!(introspect(&app, &c, &at2).await["active"], false);
}

#[tokio::test]
async fn refresh_may_narrow_scope_but_never_widen_it() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read write").await;
    let rt = json(exchange(&app, &c, &code, &verifier).await).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let wide = refresh(&app, &c, &rt, Some("read write admin")).await;
    assert_eq!(wide.status(), 400);
    assert_eq!(json(wide).await["error"], "invalid_scope");

    let narrow = json(refresh(&app, &c, &rt, Some("read")).await).await;
    assert_eq!(narrow["scope"], "read");
    let at = narrow["access_token"].as_str().unwrap();
    assert_eq!(introspect(&app, &c, at).await["scope"], "read");
    // The new refresh token keeps the original grant.
    let again =
        json(refresh(&app, &c, narrow["refresh_token"].as_str().unwrap(), None).await).await;
    assert_eq!(again["scope"], "read write");
}

#[tokio::test]
async fn another_clients_refresh_token_is_refused() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let other = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let rt = json(exchange(&app, &c, &code, &verifier).await).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = refresh(&app, &other, &rt, None).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["error"], "invalid_grant");
}

// ---------------------------------------------------------------- client credentials

#[tokio::test]
async fn client_credentials_issue_an_access_token_without_refresh() {
    let app = spawn_app().await;
    let c = register(
        &app,
        "read users:read",
        false,
        &[GrantType::ClientCredentials],
    )
    .await;
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("authorization", c.basic())
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read");
    assert!(body.get("refresh_token").is_none());
    let info = introspect(&app, &c, body["access_token"].as_str().unwrap()).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["sub"], c.id.as_str());
    assert_eq!(info["client_id"], c.id.as_str());

    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("authorization", c.basic())
        .form(&[("grant_type", "client_credentials"), ("scope", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await["error"], "invalid_scope");
}

// ---------------------------------------------------------------- revoke and introspect

#[tokio::test]
async fn revoked_access_token_introspects_inactive_and_is_refused_by_the_api() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let body = json(exchange(&app, &c, &code, &verifier).await).await;
    let at = body["access_token"].as_str().unwrap();

    let info = introspect(&app, &c, at).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["scope"], "read");
    assert_eq!(info["client_id"], c.id.as_str());
    assert!(info["sub"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(info["token_type"], "Bearer");
    assert!(info["exp"].as_i64().unwrap() > info["iat"].as_i64().unwrap());

    let me = app
        .client
        .get(app.url("/v1/users/me"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    let res = app
        .client
        .post(app.url("/oauth/revoke"))
        .header("authorization", c.basic())
        .form(&[("token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        introspect(&app, &c, at).await,
        serde_json::json!({"active": false})
    );
    let me = app
        .client
        .get(app.url("/v1/users/me"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
    // The refresh token was not part of that revocation.
    assert_eq!(
        introspect(&app, &c, body["refresh_token"].as_str().unwrap()).await["active"],
        true
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_family() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let body = json(exchange(&app, &c, &code, &verifier).await).await;
    let rt = body["refresh_token"].as_str().unwrap();
    let res = app
        .client
        .post(app.url("/oauth/revoke"))
        .header("authorization", c.basic())
        .form(&[("token", rt), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(introspect(&app, &c, rt).await["active"], false);
    assert_eq!(
        introspect(&app, &c, body["access_token"].as_str().unwrap()).await["active"],
        false
    );
    assert_eq!(refresh(&app, &c, rt, None).await.status(), 400);
}

#[tokio::test]
async fn revocation_needs_client_authentication_and_ignores_unknown_tokens() {
    let app = spawn_app().await;
    let c = confidential(&app).await;
    let res = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[("token", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .client
        .post(app.url("/oauth/revoke"))
        .header("authorization", c.basic())
        .form(&[("token", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .post(app.url("/oauth/introspect"))
        .form(&[("token", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        introspect(&app, &c, "garbage.token.here").await,
        serde_json::json!({"active": false})
    );
}

#[tokio::test]
async fn another_client_cannot_revoke_a_token() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let other = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let at = json(exchange(&app, &c, &code, &verifier).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .client
        .post(app.url("/oauth/revoke"))
        .header("authorization", other.basic())
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(introspect(&app, &c, &at).await["active"], true);
}

// ---------------------------------------------------------------- metadata, JWKS, API

#[tokio::test]
async fn metadata_lists_endpoints_and_capabilities() {
    let app = spawn_app().await;
    let m = json(app.get("/.well-known/oauth-authorization-server").await).await;
    assert_eq!(m["issuer"], app.address.as_str());
    for (k, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("introspection_endpoint", "/oauth/introspect"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(m[k], format!("{}{path}", app.address));
    }
    assert_eq!(
        m["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    let scopes = m["scopes_supported"].as_array().unwrap();
    for s in [
        "read",
        "write",
        "delete",
        "email:read",
        "email:send",
        "users:read",
        "admin",
    ] {
        assert!(scopes.iter().any(|v| v == s), "{s}");
    }
    for g in ["authorization_code", "refresh_token", "client_credentials"] {
        assert!(
            m["grant_types_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v == g)
        );
    }
    assert!(
        m["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "client_secret_basic")
    );
}

#[tokio::test]
async fn access_tokens_are_rfc_9068_jwts_verifiable_with_the_jwks() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let at = json(exchange(&app, &c, &code, &verifier).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let claims = verify_with_jwks(&app, &at).await;
    for k in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "client_id",
        "scope",
    ] {
        assert!(claims.get(k).is_some(), "claim {k}");
    }
    assert_eq!(claims["iss"], app.address.as_str());
    assert_eq!(claims["client_id"], c.id.as_str());
    let header = jsonwebtoken::decode_header(&at).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
}

/// Verifies a token against the published JWKS with jsonwebtoken, as a resource server would.
pub async fn verify_with_jwks(app: &TestApp, token: &str) -> serde_json::Value {
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let jwk = jwks.find(&kid).expect("kid published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_issuer(&[app.address.as_str()]);
    v.set_audience(&[app.address.as_str()]);
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &v)
        .unwrap()
        .claims
}

#[tokio::test]
async fn rotated_keys_are_published_and_old_tokens_keep_working() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let at = json(exchange(&app, &c, &code, &verifier).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // One server, restarted below: the new keys may sign at once.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["keys", "rotate", "--activation-delay-secs", "0"])
        .env(
            "PORTCULLIS_DATABASE_URL",
            app.settings.database_url.expose(),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jwks = json(app.get("/.well-known/jwks.json").await).await;
    let ed25519 = jwks["keys"].as_array().unwrap().iter();
    assert_eq!(ed25519.filter(|k| k["kty"] == "OKP").count(), 2);
    verify_with_jwks(&app, &at).await;
    assert_eq!(introspect(&app, &c, &at).await["active"], true);

    // After a restart the new key signs; the old token still verifies.
    let app = app.restart().await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let at2 = json(exchange(&app, &c, &code, &verifier).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        jsonwebtoken::decode_header(&at2).unwrap().kid,
        jsonwebtoken::decode_header(&at).unwrap().kid
    );
    assert_eq!(introspect(&app, &c, &at).await["active"], true);
}

#[tokio::test]
async fn users_me_answers_for_the_token_and_refuses_bad_tokens() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let at = json(exchange(&app, &c, &code, &verifier).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = json(
        app.client
            .get(app.url("/v1/users/me"))
            .bearer_auth(&at)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["data"]["email"], email.as_str());
    assert!(me["data"]["id"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(me["data"]["name"], "Test User");

    for bad in [None, Some("garbage"), Some(&at[..at.len() - 2])] {
        let mut req = app.client.get(app.url("/v1/users/me"));
        if let Some(b) = bad {
            req = req.bearer_auth(b);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401);
        let body = json(res).await;
        assert_eq!(body["error"]["code"], "authentication_failed");
        assert_eq!(body["error"]["status"], 401);
        assert!(body["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn expired_access_tokens_get_token_expired() {
    let app = signed_in_app().await;
    // Sign an expired token with the server's own key, as if time had passed.
    let tokens = portcullis::startup::build_tokens(&app.db, &Default::default(), &app.settings)
        .await
        .unwrap();
    let (token, _) = tokens
        .mint(
            "0190f3a2-1111-7222-8333-444455556666",
            "some-client",
            "read",
            None,
        )
        .unwrap();
    let mut claims: serde_json::Value = {
        let payload = token.split('.').nth(1).unwrap();
        use base64::Engine as _;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    claims["exp"] = serde_json::json!(claims["iat"].as_i64().unwrap() - 10);
    let claims: portcullis::domain::jwt::AccessClaims = serde_json::from_value(claims).unwrap();
    let expired = tokens.keys().current().sign(&claims).unwrap();
    let res = app
        .client
        .get(app.url("/v1/users/me"))
        .bearer_auth(&expired)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(json(res).await["error"]["code"], "token_expired");
}

// ---------------------------------------------------------------- authorized apps

#[tokio::test]
async fn revoking_an_authorized_app_removes_consent_and_kills_its_tokens() {
    let app = signed_in_app().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read write").await;
    let body = json(exchange(&app, &c, &code, &verifier).await).await;
    let at = body["access_token"].as_str().unwrap();
    let rt = body["refresh_token"].as_str().unwrap();

    let page = app.get_html("/settings/authorized-apps").await;
    assert!(page.contains("Test App"));
    assert!(page.contains("Create and change your data"));
    let res = app
        .post_form(
            "/settings/authorized-apps",
            &format!("/settings/authorized-apps/{}/revoke", c.id),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);

    assert!(
        app.get_html("/settings/authorized-apps")
            .await
            .contains("not authorized any apps")
    );
    assert_eq!(introspect(&app, &c, at).await["active"], false);
    assert_eq!(introspect(&app, &c, rt).await["active"], false);
    assert_eq!(
        app.client
            .get(app.url("/v1/users/me"))
            .bearer_auth(at)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // Consent is forgotten: the page shows again.
    assert_eq!(
        app.get(&authorize_path(&c.id, "read", "s", None))
            .await
            .status(),
        200
    );
}

// ---------------------------------------------------------------- concurrency

on_both_backends!(
    the_same_code_sent_ten_times_at_once_succeeds_exactly_once,
    |app: TestApp| async move {
        app.signed_in_user().await;
        let c = confidential(&app).await;
        let (code, verifier) = obtain_code(&app, &c, "read").await;
        let attempts = (0..10).map(|_| exchange(&app, &c, &code, &verifier));
        let statuses: Vec<u16> = futures_util::future::join_all(attempts)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 400),
            "{statuses:?}"
        );
    }
);

on_both_backends!(
    the_same_refresh_token_sent_ten_times_at_once_succeeds_exactly_once,
    |app: TestApp| async move {
        app.signed_in_user().await;
        let c = confidential(&app).await;
        let (code, verifier) = obtain_code(&app, &c, "read").await;
        let rt = json(exchange(&app, &c, &code, &verifier).await).await["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let attempts = (0..10).map(|_| refresh(&app, &c, &rt, None));
        let statuses: Vec<u16> = futures_util::future::join_all(attempts)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 400),
            "{statuses:?}"
        );
    }
);

on_both_backends!(
    authorization_code_flow_works_end_to_end,
    |app: TestApp| async move {
        app.signed_in_user().await;
        let c = confidential(&app).await;
        let (code, verifier) = obtain_code(&app, &c, "read write").await;
        let body = json(exchange(&app, &c, &code, &verifier).await).await;
        let rt = body["refresh_token"].as_str().unwrap();
        assert_eq!(
            introspect(&app, &c, body["access_token"].as_str().unwrap()).await["active"],
            true
        );
        let next = json(refresh(&app, &c, rt, Some("read")).await).await;
        assert_eq!(next["scope"], "read");
        assert_eq!(
            exchange(&app, &c, &code, &verifier).await.status(),
            400,
            "replay refused"
        );
        assert_eq!(
            introspect(&app, &c, next["access_token"].as_str().unwrap()).await["active"],
            false,
            "replay revoked the family"
        );
    }
);

// ---------------------------------------------------------------- developer apps

#[tokio::test]
async fn developer_apps_show_the_secret_once_and_rotate_it() {
    let app = signed_in_app().await;
    let res = app
        .post_form(
            "/settings/apps",
            "/settings/apps",
            &[
                ("name", "My App"),
                (
                    "redirect_uris",
                    "https://my.example/cb\nhttp://127.0.0.1/cb",
                ),
                ("scope", "read"),
                ("scope", "write"),
                ("client_type", "confidential"),
            ],
        )
        .await;
    let page = app.reveal(res).await.text().await.unwrap();
    assert!(page.contains("will not be shown again"));
    let secret = extract(&page, "id=\"client-secret\">");
    let id = extract(&page, "id=\"client-id\">");
    assert!(secret.starts_with("cs_"));
    let listing = app.get_html("/settings/apps").await;
    assert!(listing.contains("My App") && listing.contains(&id));
    assert!(!listing.contains(&secret), "secret not shown again");

    let c = TestClient {
        id: id.clone(),
        secret: Some(secret.clone()),
    };
    async fn probe(app: &TestApp, c: TestClient) -> u16 {
        let res = app
            .client
            .post(app.url("/oauth/introspect"))
            .header("authorization", c.basic())
            .form(&[("token", "x")])
            .send()
            .await
            .unwrap();
        res.status().as_u16()
    }
    assert_eq!(
        probe(
            &app,
            TestClient {
                id: id.clone(),
                secret: Some(secret.clone())
            }
        )
        .await,
        200
    );
    let res = app
        .post_form(
            "/settings/apps",
            &format!("/settings/apps/{id}/rotate-secret"),
            &[],
        )
        .await;
    let new_secret = extract(
        &app.reveal(res).await.text().await.unwrap(),
        "id=\"client-secret\">",
    );
    assert_ne!(new_secret, secret);
    assert_eq!(probe(&app, c).await, 401, "old secret stops working");
    assert_eq!(
        probe(
            &app,
            TestClient {
                id,
                secret: Some(new_secret)
            }
        )
        .await,
        200
    );
}

#[tokio::test]
async fn developer_app_registration_rejects_bad_redirect_uris() {
    let app = signed_in_app().await;
    for bad in [
        "http://my.example/cb",
        "https://my.example/cb#frag",
        "not a url",
    ] {
        let res = app
            .post_form(
                "/settings/apps",
                "/settings/apps",
                &[
                    ("name", "Bad"),
                    ("redirect_uris", bad),
                    ("client_type", "confidential"),
                ],
            )
            .await;
        assert_eq!(res.status(), 422, "{bad}");
    }
}

#[tokio::test]
async fn people_see_only_their_own_apps_and_admins_see_all() {
    let app = spawn_app().await;
    app.signed_in_user().await; // the first account is the administrator
    let bob = TestApp::with_client(&app, crate::helpers::client());
    bob.signed_in_user().await;
    let res = bob
        .post_form(
            "/settings/apps",
            "/settings/apps",
            &[
                ("name", "Bobs App"),
                ("redirect_uris", "https://bob.example/cb"),
                ("client_type", "confidential"),
            ],
        )
        .await;
    bob.reveal(res).await;
    assert!(
        app.get_html("/settings/apps").await.contains("Bobs App"),
        "admin sees it"
    );
    let carol = TestApp::with_client(&app, crate::helpers::client());
    carol.signed_in_user().await;
    assert!(
        !carol.get_html("/settings/apps").await.contains("Bobs App"),
        "others do not"
    );
}

/// The text after `marker` in a page, up to the next tag.
pub(crate) fn extract(page: &str, marker: &str) -> String {
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in page"))
        + marker.len();
    page[start..].split('<').next().unwrap().to_owned()
}

#[test]
fn client_create_cli_prints_json_with_the_secret() {
    crate::helpers::sqlite_only!("a CLI run on a database file of its own; serving is what differs by database");
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args([
            "client",
            "create",
            "--name",
            "CLI App",
            "--redirect-uri",
            "https://a.example/cb",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--scope",
            "read write",
            "--grant",
            "client_credentials",
            "--json",
        ])
        .env(
            "PORTCULLIS_DATABASE_URL",
            format!("sqlite://{}/c.db?mode=rwc", tmp.path().display()),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["client_id"].is_string());
    assert!(v["client_secret"].as_str().unwrap().starts_with("cs_"));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args([
            "client",
            "create",
            "--name",
            "SPA",
            "--redirect-uri",
            "https://a.example/cb",
            "--public",
            "--json",
        ])
        .env(
            "PORTCULLIS_DATABASE_URL",
            format!("sqlite://{}/c.db?mode=rwc", tmp.path().display()),
        )
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v.get("client_secret").is_none(),
        "public clients have no secret"
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args([
            "client",
            "create",
            "--name",
            "Bad",
            "--redirect-uri",
            "http://evil.example/cb",
        ])
        .env(
            "PORTCULLIS_DATABASE_URL",
            format!("sqlite://{}/c.db?mode=rwc", tmp.path().display()),
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
}
