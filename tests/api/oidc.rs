//! OpenID Connect: discovery, the ID token on the authorization-code and refresh grants, and
//! UserInfo, driven by the `openidconnect` crate as a relying party would, plus the edges by
//! hand.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

use crate::helpers::{TestApp, spawn_app};
use crate::oauth_client::send;
use crate::oauth_helpers::*;

/// The payload of a compact JWS, unverified (the signature is checked by the crate elsewhere).
pub fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The JOSE header of a compact JWS.
pub fn header(jwt: &str) -> Value {
    let part = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Ed25519's `at_hash`: the left half of the SHA-512 of the access token.
pub fn ed25519_at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha512::digest(access_token.as_bytes())[..32])
}

/// RS256's `at_hash`: the left half of the SHA-256 of the access token.
pub fn rs256_at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

/// A client allowed the identity scopes and `read`, with the default ID token algorithm.
pub async fn oidc_client(app: &TestApp) -> TestClient {
    register(app, "openid profile email offline_access read", false, &[]).await
}

/// Approves `scope` (with PKCE and a nonce; a remembered consent approves by itself) and
/// exchanges the code; returns the token response.
pub async fn tokens_with_nonce(app: &TestApp, c: &TestClient, scope: &str, nonce: &str) -> Value {
    let (verifier, challenge) = pkce();
    let path = format!(
        "{}&nonce={nonce}",
        authorize_path(&c.id, scope, "s", Some(&challenge))
    );
    let first = app.get(&path).await;
    let loc = if first.status() == 303 {
        crate::helpers::location(&first)
    } else {
        consent(app, &path, "allow").await
    };
    let code = q(&query_of(&loc), "code").unwrap().to_owned();
    let res = exchange(app, c, &code, &verifier).await;
    assert_eq!(res.status(), 200);
    json(res).await
}

pub async fn userinfo(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_openidconnect_crate_discovers_signs_in_verifies_and_reads_userinfo() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let http_client = |req| send(http.clone(), req);

    let issuer = json(app.get("/.well-known/openid-configuration").await).await["issuer"]
        .as_str()
        .unwrap()
        .to_owned();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(issuer).unwrap(), &http_client)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(c.id.clone()),
        c.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let path = format!("{}?{}", auth_url.path(), auth_url.query().unwrap());
    let pairs = query_of(&consent(&app, &path, "allow").await);
    assert_eq!(q(&pairs, "state"), Some(state.secret().as_str()));
    let code = q(&pairs, "code").unwrap().to_owned();

    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http_client)
        .await
        .unwrap();
    let id_token = response.id_token().expect("an ID token");
    // The crate's default: RS256 only, which is what a client registered without saying gets.
    let id_verifier = client.id_token_verifier();
    let claims = id_token.claims(&id_verifier, &nonce).unwrap();
    assert!(claims.subject().as_str().starts_with("usr_"));
    assert!(claims.auth_time().is_some());
    let expected = AccessTokenHash::from_token(
        response.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));

    let info: CoreUserInfoClaims = client
        .user_info(
            response.access_token().to_owned(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http_client)
        .await
        .unwrap();
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(
        info.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        Some("Test User")
    );
    assert!(info.email().is_some());
    assert_eq!(info.email_verified(), Some(false));
}

#[tokio::test]
async fn discovery_agrees_with_the_oauth_metadata_and_adds_openid_fields() {
    let app = spawn_app().await;
    let oauth = json(app.get("/.well-known/oauth-authorization-server").await).await;
    let res = app.get("/.well-known/openid-configuration").await;
    assert_eq!(res.status(), 200);
    let oidc = json(res).await;
    for (key, value) in oauth.as_object().unwrap() {
        assert_eq!(&oidc[key], value, "{key} differs between the two documents");
    }
    let iss = oauth["issuer"].as_str().unwrap();
    assert_eq!(oidc["userinfo_endpoint"], format!("{iss}/oauth/userinfo"));
    assert_eq!(
        oidc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "EdDSA"])
    );
    assert_eq!(oidc["claims_parameter_supported"], false);
    assert_eq!(oidc["request_parameter_supported"], false);
    assert_eq!(oidc["request_uri_parameter_supported"], false);
    for claim in [
        "sub",
        "name",
        "email",
        "email_verified",
        "nonce",
        "at_hash",
        "amr",
        "sid",
    ] {
        assert!(
            oidc["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&Value::from(claim))
        );
    }
    for scope in ["openid", "profile", "email", "offline_access", "read"] {
        assert!(
            oidc["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&Value::from(scope))
        );
    }
}

#[tokio::test]
async fn the_id_token_echoes_the_nonce_and_binds_the_access_token() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let body = tokens_with_nonce(&app, &c, "openid", "n-0S6_WzA2Mj").await;
    let access = body["access_token"].as_str().unwrap();
    let id_token = body["id_token"].as_str().unwrap();
    let h = header(id_token);
    assert_eq!(
        (h["alg"].as_str(), h["typ"].as_str()),
        (Some("RS256"), Some("JWT"))
    );
    assert!(h["kid"].is_string());
    let p = payload(id_token);
    assert_eq!(p["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(p["at_hash"], rs256_at_hash(access));
    assert_eq!(
        (&p["aud"], &p["azp"]),
        (&Value::from(c.id.clone()), &Value::from(c.id.clone()))
    );
    assert_eq!(p["sub"], payload(access)["sub"]);
    assert!(p["iat"].as_i64().unwrap() >= p["auth_time"].as_i64().unwrap());
    assert!(p["exp"].as_i64().unwrap() > p["iat"].as_i64().unwrap());
    assert!(
        p.get("email").is_none(),
        "profile claims go through userinfo"
    );
}

#[tokio::test]
async fn a_refresh_brings_a_new_id_token_with_the_same_subject_and_auth_time() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let first = tokens_with_nonce(&app, &c, "openid offline_access", "abc").await;
    let before = payload(first["id_token"].as_str().unwrap());
    let res = refresh(&app, &c, first["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(res.status(), 200);
    let second = json(res).await;
    let after = payload(second["id_token"].as_str().unwrap());
    assert_eq!(after["sub"], before["sub"]);
    assert_eq!(after["auth_time"], before["auth_time"]);
    assert!(
        after.get("nonce").is_none(),
        "a refreshed ID token carries no nonce"
    );
    assert_eq!(
        after["at_hash"],
        rs256_at_hash(second["access_token"].as_str().unwrap())
    );

    // Narrowed to no openid: no ID token.
    let res = refresh(
        &app,
        &c,
        second["refresh_token"].as_str().unwrap(),
        Some("offline_access"),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(json(res).await.get("id_token").is_none());
}

#[tokio::test]
async fn a_client_without_openid_gets_exactly_the_old_token_response() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let body = json(exchange(&app, &c, &code, &verifier).await).await;
    let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    // And its token may not read userinfo.
    let res = userinfo(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 403);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn userinfo_releases_claims_by_scope() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let c = oidc_client(&app).await;

    let only = tokens_with_nonce(&app, &c, "openid", "a").await;
    let res = userinfo(&app, only["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let claims = json(res).await;
    assert_eq!(claims.as_object().unwrap().len(), 1, "{claims}");
    assert!(claims["sub"].as_str().unwrap().starts_with("usr_"));

    let all = tokens_with_nonce(&app, &c, "openid profile email", "b").await;
    let token = all["access_token"].as_str().unwrap();
    let claims = json(userinfo(&app, token).await).await;
    assert_eq!(claims["name"], "Test User");
    assert!(claims["updated_at"].is_i64());
    assert_eq!(claims["email"], email);
    assert_eq!(claims["email_verified"], false);

    // POST with the token in the form body (RFC 6750 §2.2).
    let res = app
        .client
        .post(app.url("/oauth/userinfo"))
        .form(&[("access_token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["email"], email);
}

#[tokio::test]
async fn userinfo_refuses_a_bad_or_missing_token() {
    let app = spawn_app().await;
    let res = userinfo(&app, "not-a-token").await;
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );

    let res = app.get("/oauth/userinfo").await;
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        !challenge.contains("error="),
        "no token, no error code: {challenge}"
    );
}

#[tokio::test]
async fn clients_may_be_registered_with_the_identity_scopes_from_the_command_line() {
    let app = spawn_app().await;
    let c = cli_client(
        &app,
        &[
            "--name",
            "Relying Party",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid profile email",
        ],
    )
    .await;
    app.signed_in_user().await;
    let body = tokens_with_nonce(&app, &c, "openid email", "x").await;
    assert_eq!(body["scope"], "email openid");
    assert!(body["id_token"].is_string());
}

#[tokio::test]
async fn the_consent_page_describes_the_identity_scopes_in_plain_words() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let (_, challenge) = pkce();
    let path = authorize_path(
        &c.id,
        "openid profile email offline_access",
        "s",
        Some(&challenge),
    );
    let page = app.get_html(&path).await;
    for words in [
        "Confirm who you are when you sign in",
        "See your name and when your profile last changed",
        "See your email address",
        "Stay connected to your account when you are not using the app",
    ] {
        assert!(
            page.contains(words),
            "{words} missing from the consent page"
        );
    }
}

#[tokio::test]
async fn a_developer_app_may_be_registered_with_the_identity_scopes() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let form = app.get_html("/settings/apps").await;
    assert!(form.contains(r#"name="scope" value="openid""#));
    let fields = [
        ("name", "Relying Party"),
        ("redirect_uris", REDIRECT),
        ("client_type", "confidential"),
        ("scope", "openid"),
        ("scope", "email"),
    ];
    let created = app
        .post_form("/settings/apps", "/settings/apps", &fields)
        .await;
    app.reveal(created).await;
    let listed = app.get_html("/settings/apps").await;
    assert!(listed.contains("email openid"), "{listed}");
}

#[tokio::test]
async fn an_id_token_is_not_an_access_token() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let body = tokens_with_nonce(&app, &c, "openid", "n").await;
    let res = userinfo(&app, body["id_token"].as_str().unwrap()).await;
    assert_eq!(
        res.status(),
        401,
        "typ JWT is refused where at+jwt is required"
    );
    let res = app
        .client
        .get(app.url("/v1/users/me"))
        .bearer_auth(body["id_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn an_overlong_nonce_is_refused_at_the_redirect_uri() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let (_, challenge) = pkce();
    let path = format!(
        "{}&nonce={}",
        authorize_path(&c.id, "openid", "s", Some(&challenge)),
        "n".repeat(513)
    );
    let res = app.get(&path).await;
    assert_eq!(res.status(), 303);
    let pairs = query_of(&crate::helpers::location(&res));
    assert_eq!(q(&pairs, "error"), Some("invalid_request"));
    assert_eq!(q(&pairs, "state"), Some("s"));
}

#[tokio::test]
async fn a_client_not_allowed_openid_may_not_ask_for_it() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = confidential(&app).await;
    let (_, challenge) = pkce();
    let res = app
        .get(&authorize_path(&c.id, "openid read", "s", Some(&challenge)))
        .await;
    assert_eq!(res.status(), 303);
    let pairs = query_of(&crate::helpers::location(&res));
    assert_eq!(q(&pairs, "error"), Some("invalid_scope"));
}
