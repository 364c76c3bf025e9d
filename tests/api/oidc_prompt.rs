//! OpenID Connect's interaction parameters at the authorization endpoint (Core §3.1.2.1):
//! `prompt` (none, login, consent, select_account), `max_age` and `login_hint`, with and without
//! a browser session, and the `auth_time` the ID token then carries.

use serde_json::Value;

use crate::helpers::{TestApp, location, spawn_app};
use crate::oauth_helpers::*;
use crate::oidc::{oidc_client, payload};

pub const PASSWORD: &str = "correct horse battery";

/// An authorization request for `scope` with PKCE, state `st`, nonce `n-1` and `extra`
/// parameters; returns the path and the PKCE verifier.
pub fn request(c: &TestClient, scope: &str, extra: &[(&str, &str)]) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut path = format!(
        "{}&nonce=n-1",
        authorize_path(&c.id, scope, "st", Some(&challenge))
    );
    for pair in extra {
        path.push('&');
        path.push_str(&serde_urlencoded::to_string([pair]).unwrap());
    }
    (path, verifier)
}

/// The query of the redirect to the client that `path` answers with.
pub async fn answer(app: &TestApp, path: &str) -> Vec<(String, String)> {
    let res = app.get(path).await;
    assert_eq!(res.status(), 303, "{path}");
    let loc = location(&res);
    assert!(loc.starts_with(REDIRECT), "not sent to the client: {loc}");
    query_of(&loc)
}

/// Asserts an error answer with `state` and `iss` and no code.
pub fn assert_error(app: &TestApp, pairs: &[(String, String)], error: &str) {
    assert_eq!(q(pairs, "error"), Some(error), "{pairs:?}");
    assert!(q(pairs, "error_description").is_some_and(|d| !d.is_empty()));
    assert_eq!(q(pairs, "state"), Some("st"));
    assert_eq!(q(pairs, "iss"), Some(app.address.as_str()));
    assert!(q(pairs, "code").is_none());
}

/// Approves `scope` once, so that later requests find the consent remembered.
pub async fn remember_consent(app: &TestApp, c: &TestClient, scope: &str) {
    let (path, _) = request(c, scope, &[]);
    consent(app, &path, "allow").await;
}

/// Exchanges a code and returns the token response.
pub async fn tokens(app: &TestApp, c: &TestClient, code: &str, verifier: &str) -> Value {
    let res = exchange(app, c, code, verifier).await;
    assert_eq!(res.status(), 200);
    json(res).await
}

/// The claims of the ID token a code is exchanged for.
async fn id_token(app: &TestApp, c: &TestClient, code: &str, verifier: &str) -> Value {
    payload(
        tokens(app, c, code, verifier).await["id_token"]
            .as_str()
            .unwrap(),
    )
}

/// A signed-in person with an OpenID client they already approved for `openid`.
async fn remembered() -> (TestApp, TestClient, String) {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let c = oidc_client(&app).await;
    remember_consent(&app, &c, "openid").await;
    (app, c, email)
}

/// The request is sent to the sign-in page, shown even though someone is signed in.
async fn sent_to_sign_in_again(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 303, "{path}");
    let to_signin = location(&res);
    assert!(to_signin.starts_with("/signin?return_to="), "{to_signin}");
    let page = app.get(&to_signin).await;
    assert_eq!(page.status(), 200, "the form, not a redirect");
    assert!(page.text().await.unwrap().contains("id=\"signin-again\""));
    to_signin
}

/// Signs in on the sign-in page the request sent to; the person comes back to the request.
async fn sign_in_on(app: &TestApp, to_signin: &str, email: &str, path: &str) {
    let res = app
        .post_form(
            to_signin,
            "/signin",
            &[
                ("email", email),
                ("password", PASSWORD),
                ("return_to", path),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), path);
}

// ---------------------------------------------------------------- prompt=none

#[tokio::test]
async fn prompt_none_without_a_session_answers_login_required() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    app.sign_out().await;
    let (path, _) = request(&c, "openid", &[("prompt", "none")]);
    assert_error(&app, &answer(&app, &path).await, "login_required");
}

#[tokio::test]
async fn prompt_none_without_consent_answers_consent_required() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let (path, _) = request(&c, "openid", &[("prompt", "none")]);
    assert_error(&app, &answer(&app, &path).await, "consent_required");
    // Consent for less than the request asks is not enough either.
    remember_consent(&app, &c, "openid").await;
    let (path, _) = request(&c, "openid email", &[("prompt", "none")]);
    assert_error(&app, &answer(&app, &path).await, "consent_required");
}

#[tokio::test]
async fn prompt_none_with_remembered_consent_returns_a_code_and_echoes_the_nonce() {
    let (app, c, _) = remembered().await;
    let (path, verifier) = request(&c, "openid", &[("prompt", "none")]);
    let pairs = answer(&app, &path).await;
    assert_eq!(q(&pairs, "state"), Some("st"));
    assert_eq!(q(&pairs, "iss"), Some(app.address.as_str()));
    let claims = id_token(&app, &c, q(&pairs, "code").unwrap(), &verifier).await;
    assert_eq!(claims["nonce"], "n-1");
    assert!(claims["auth_time"].is_i64());
}

#[tokio::test]
async fn prompt_none_for_a_public_client_answers_consent_required() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = register(&app, "openid", true, &[]).await;
    remember_consent(&app, &c, "openid").await;
    let (path, _) = request(&c, "openid", &[("prompt", "none")]);
    assert_error(&app, &answer(&app, &path).await, "consent_required");
}

#[tokio::test]
async fn prompt_none_with_any_other_value_is_an_invalid_request() {
    let (app, c, _) = remembered().await;
    for prompt in [
        "none login",
        "consent none",
        "none select_account",
        "none create",
    ] {
        let (path, _) = request(&c, "openid", &[("prompt", prompt)]);
        assert_error(&app, &answer(&app, &path).await, "invalid_request");
    }
}

// ---------------------------------------------------------------- prompt=login, select_account

#[tokio::test]
async fn prompt_login_signs_in_again_despite_a_session_and_auth_time_is_the_new_sign_in() {
    let (app, c, email) = remembered().await;
    let (path, verifier) = request(&c, "openid", &[]);
    let pairs = answer(&app, &path).await;
    let before = id_token(&app, &c, q(&pairs, "code").unwrap(), &verifier).await["auth_time"]
        .as_i64()
        .unwrap();
    app.clock.advance(100);

    let (path, verifier) = request(&c, "openid", &[("prompt", "login")]);
    let to_signin = sent_to_sign_in_again(&app, &path).await;
    assert!(to_signin.contains("again=1"));
    // Coming back without signing in is no way around it.
    sent_to_sign_in_again(&app, &path).await;

    sign_in_on(&app, &to_signin, &email, &path).await;
    let pairs = answer(&app, &path).await; // a code, not another sign-in
    let claims = id_token(&app, &c, q(&pairs, "code").unwrap(), &verifier).await;
    assert!(claims["auth_time"].as_i64().unwrap() >= before + 100);
    assert_eq!(claims["nonce"], "n-1");

    // Each request with prompt=login asks again.
    sent_to_sign_in_again(&app, &request(&c, "openid", &[("prompt", "login")]).0).await;
}

#[tokio::test]
async fn prompt_login_without_a_session_signs_in_once() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let c = oidc_client(&app).await;
    remember_consent(&app, &c, "openid").await;
    app.sign_out().await;
    let (path, _) = request(&c, "openid", &[("prompt", "login")]);
    let res = app.get(&path).await;
    let to_signin = location(&res);
    assert!(to_signin.starts_with("/signin?return_to="), "{to_signin}");
    sign_in_on(&app, &to_signin, &email, &path).await;
    assert!(q(&answer(&app, &path).await, "code").is_some());
}

#[tokio::test]
async fn prompt_select_account_lets_the_person_sign_in_again() {
    let (app, c, email) = remembered().await;
    let (path, _) = request(&c, "openid", &[("prompt", "select_account")]);
    let to_signin = sent_to_sign_in_again(&app, &path).await;
    sign_in_on(&app, &to_signin, &email, &path).await;
    assert!(q(&answer(&app, &path).await, "code").is_some());
}

// ---------------------------------------------------------------- prompt=consent, unknown

#[tokio::test]
async fn prompt_consent_shows_the_consent_page_although_consent_is_remembered() {
    let (app, c, _) = remembered().await;
    assert!(q(&answer(&app, &request(&c, "openid", &[]).0).await, "code").is_some());
    let (path, _) = request(&c, "openid", &[("prompt", "consent")]);
    let res = app.get(&path).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"consent-allow\""));
    let pairs = query_of(&consent(&app, &path, "allow").await);
    assert!(q(&pairs, "code").is_some());
}

#[tokio::test]
async fn prompt_values_not_understood_are_ignored() {
    let (app, c, _) = remembered().await;
    let (path, _) = request(&c, "openid", &[("prompt", "create")]);
    assert!(q(&answer(&app, &path).await, "code").is_some());
}

// ---------------------------------------------------------------- max_age

#[tokio::test]
async fn max_age_zero_forces_a_fresh_sign_in_and_auth_time_is_present() {
    let (app, c, email) = remembered().await;
    app.clock.advance(30);
    let (path, verifier) = request(&c, "openid", &[("max_age", "0")]);
    let to_signin = sent_to_sign_in_again(&app, &path).await;
    // The first sign-in was at least 30 s before this moment (the clock moved); the new one is
    // not before it. A bound on `iat - auth_time` would measure how busy the machine is.
    let before_new_sign_in = app.clock.now();
    sign_in_on(&app, &to_signin, &email, &path).await;
    let pairs = answer(&app, &path).await;
    let claims = id_token(&app, &c, q(&pairs, "code").unwrap(), &verifier).await;
    let auth_time = claims["auth_time"]
        .as_i64()
        .expect("auth_time with max_age");
    assert!(auth_time >= before_new_sign_in, "the new sign-in");
    assert!(claims["iat"].as_i64().unwrap() >= auth_time);
}

#[tokio::test]
async fn a_sign_in_younger_than_max_age_is_enough() {
    let (app, c, _) = remembered().await;
    app.clock.advance(60);
    let (path, verifier) = request(&c, "openid", &[("max_age", "3600")]);
    let pairs = answer(&app, &path).await;
    let claims = id_token(&app, &c, q(&pairs, "code").unwrap(), &verifier).await;
    assert!(claims["auth_time"].is_i64());
}

#[tokio::test]
async fn a_sign_in_older_than_max_age_signs_in_again_or_is_login_required_under_prompt_none() {
    let (app, c, email) = remembered().await;
    app.clock.advance(120);
    let (path, _) = request(&c, "openid", &[("max_age", "60"), ("prompt", "none")]);
    assert_error(&app, &answer(&app, &path).await, "login_required");
    let (path, _) = request(&c, "openid", &[("max_age", "60")]);
    let to_signin = sent_to_sign_in_again(&app, &path).await;
    sign_in_on(&app, &to_signin, &email, &path).await;
    assert!(q(&answer(&app, &path).await, "code").is_some());
}

#[tokio::test]
async fn a_malformed_max_age_is_an_invalid_request() {
    let (app, c, _) = remembered().await;
    for bad in ["-1", "1.5", "soon", "+60", "1e3"] {
        let (path, _) = request(&c, "openid", &[("max_age", bad)]);
        assert_error(&app, &answer(&app, &path).await, "invalid_request");
    }
}

// ---------------------------------------------------------------- login_hint

#[tokio::test]
async fn login_hint_pre_fills_the_email_field() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    app.sign_out().await;
    let (path, _) = request(&c, "openid", &[("login_hint", "ada@example.com")]);
    let to_signin = location(&app.get(&path).await);
    assert!(to_signin.starts_with("/signin?return_to="), "{to_signin}");
    let page = app.get_html(&to_signin).await;
    assert!(page.contains(r#"value="ada@example.com""#), "{page}");
}

#[tokio::test]
async fn a_hostile_login_hint_is_escaped_and_an_overlong_one_dropped() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    app.sign_out().await;
    let hostile = r#""><script>alert(1)</script>"#;
    let (path, _) = request(&c, "openid", &[("login_hint", hostile)]);
    let page = app.get_html(&location(&app.get(&path).await)).await;
    assert!(!page.contains(r#""><script>"#), "raw hint in the page");
    assert!(!page.contains("<script>alert"), "raw hint in the page");
    assert!(page.contains("alert(1)"), "the hint is shown, escaped");

    let long = format!("{}@example.com", "a".repeat(300));
    let (path, _) = request(&c, "openid", &[("login_hint", &long)]);
    let to_signin = location(&app.get(&path).await);
    let signin_query = query_of(&format!("http://x{to_signin}"));
    assert!(q(&signin_query, "login_hint").is_none(), "{to_signin}");
    assert!(!app.get_html(&to_signin).await.contains(&long));
}
