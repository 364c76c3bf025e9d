//! The policies around second factors: an administrator requiring one of everyone and resetting
//! a person's, an app requiring one (step-up, also asked for with `acr_values`), and the `amr`
//! and `acr` that tokens carry from the sign-in (ID token, refresh, introspection).

use portcullis::domain::auth_methods::{ACR_MULTI, ACR_SINGLE};
use serde_json::{Value, json};

use crate::factor_helpers::*;
use crate::helpers::{TestApp, client, location, spawn_app, spawn_app_with};
use crate::oauth_helpers::*;
use crate::oidc::{oidc_client, payload};

const PASSWORD: &str = "correct horse battery";
const SCOPE: &str = "openid offline_access read";

/// An app only multi-factor sign-ins may authorize (`client create --require-second-factor`).
async fn mfa_app(app: &TestApp) -> TestClient {
    cli_client(
        app,
        &[
            "--name",
            "Needs MFA",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid offline_access read",
            "--require-second-factor",
        ],
    )
    .await
}

/// Follows an authorization request from a signed-in browser to its code: consent is given
/// when asked. Returns the redirect to the app.
async fn approve(app: &TestApp, path: &str) -> String {
    let first = app.get(path).await;
    if first.status() == 303 {
        return location(&first);
    }
    consent(app, path, "allow").await
}

/// Exchanges the code in `redirect` and returns the token response.
async fn tokens(app: &TestApp, c: &TestClient, redirect: &str, verifier: &str) -> Value {
    let code = q(&query_of(redirect), "code").expect("a code").to_owned();
    let res = exchange(app, c, &code, verifier).await;
    assert_eq!(res.status(), 200);
    json(res).await
}

/// A person signed in with a password in `app`'s browser, who enrolled an authenticator app in
/// another browser: this session is still password-only.
async fn password_session_with_app_elsewhere(app: &TestApp) -> (String, Enrolled) {
    let email = app.signed_in_user().await;
    let other = TestApp::with_client(app, client());
    assert_eq!(other.sign_in(&email, PASSWORD).await.status(), 303);
    let enrolled = enrol(&other).await;
    (email, enrolled)
}

#[tokio::test]
async fn a_password_only_sign_in_gives_pwd_and_the_single_factor_acr() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let (verifier, challenge) = pkce();
    let path = authorize_path(&c.id, SCOPE, "s", Some(&challenge));
    let body = tokens(&app, &c, &approve(&app, &path).await, &verifier).await;
    let id = payload(body["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], json!(["pwd"]));
    assert_eq!(id["acr"], ACR_SINGLE);
}

#[tokio::test]
async fn an_app_requiring_a_second_factor_steps_the_session_up_and_tokens_say_so() {
    let app = spawn_app().await;
    let (_, enrolled) = password_session_with_app_elsewhere(&app).await;
    // What the session was before: password only, and its public id.
    let plain = oidc_client(&app).await;
    let (verifier, challenge) = pkce();
    let path = authorize_path(&plain.id, SCOPE, "s", Some(&challenge));
    let before = tokens(&app, &plain, &approve(&app, &path).await, &verifier).await;
    let before = payload(before["id_token"].as_str().unwrap());
    assert_eq!(before["acr"], ACR_SINGLE);

    let c = mfa_app(&app).await;
    let (verifier, challenge) = pkce();
    let path = authorize_path(&c.id, SCOPE, "s", Some(&challenge));
    let res = app.get(&path).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/signin/second-factor");
    let page = app.get_html("/signin/second-factor").await;
    assert!(page.contains("id=\"step-up\""));
    let res = second_step(&app, "totp", &next_code(&app, &enrolled.seed)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), path, "the request continues");
    let body = tokens(&app, &c, &approve(&app, &path).await, &verifier).await;
    let id = payload(body["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(id["acr"], ACR_MULTI);
    let sid = id["sid"].clone();
    assert_eq!(sid, before["sid"], "step-up kept the session's public id");

    // Refresh keeps them.
    let refresh_token = body["refresh_token"].as_str().unwrap();
    let res = refresh(&app, &c, refresh_token, None).await;
    assert_eq!(res.status(), 200);
    let refreshed = json(res).await;
    let id = payload(refreshed["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(id["acr"], ACR_MULTI);
    assert_eq!(id["sid"], sid);

    // Introspection shows them, for access tokens and the grant's refresh token.
    for access in [
        &body["access_token"],
        &refreshed["access_token"],
        &refreshed["refresh_token"],
    ] {
        let seen = introspect(&app, &c, access.as_str().unwrap()).await;
        assert_eq!(seen["active"], true);
        assert_eq!(seen["amr"], json!(["pwd", "otp", "mfa"]));
        assert_eq!(seen["acr"], ACR_MULTI);
    }

    // Now multi-factor, the session is not asked again.
    let (_, challenge) = pkce();
    let again = authorize_path(&c.id, SCOPE, "s", Some(&challenge));
    let res = app.get(&again).await;
    assert!(location(&res).starts_with(REDIRECT), "straight to the app");
}

#[tokio::test]
async fn acr_values_asking_for_multi_factor_step_up_any_app() {
    let app = spawn_app().await;
    let (_, enrolled) = password_session_with_app_elsewhere(&app).await;
    let c = oidc_client(&app).await;
    let (verifier, challenge) = pkce();
    let path = format!(
        "{}&acr_values={}",
        authorize_path(&c.id, SCOPE, "s", Some(&challenge)),
        ACR_MULTI.replace(':', "%3A")
    );
    let res = app.get(&path).await;
    assert_eq!(location(&res), "/signin/second-factor");
    let res = second_step(&app, "recovery_code", &enrolled.recovery_codes[0]).await;
    assert_eq!(location(&res), path);
    let body = tokens(&app, &c, &approve(&app, &path).await, &verifier).await;
    let id = payload(body["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(id["acr"], ACR_MULTI);
    let discovery: Value = json(app.get("/.well-known/openid-configuration").await).await;
    assert_eq!(discovery["acr_values_supported"], json!([ACR_SINGLE, ACR_MULTI]));
}

#[tokio::test]
async fn a_person_without_a_factor_is_sent_to_enrol_before_an_app_that_requires_one() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = mfa_app(&app).await;
    let (verifier, challenge) = pkce();
    let path = authorize_path(&c.id, SCOPE, "s", Some(&challenge));
    let res = app.get(&path).await;
    let to = location(&res);
    assert!(to.starts_with("/settings/security?return_to="), "{to}");
    let page = app.get_html(&to).await;
    let seed = seed_on(&page);
    let res = app.reveal(confirm(&app, &code_now(&app, &seed), &path).await).await;
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"recovery-continue\""));
    assert!(page.contains("href=\"/oauth/authorize?"), "continues to the app");
    let body = tokens(&app, &c, &approve(&app, &path).await, &verifier).await;
    let id = payload(body["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], ACR_MULTI, "enrolling proved the app in this session");
}

/// The stored id of the person with `email`, from Admin → Users.
async fn person_id(admin: &TestApp, email: &str) -> String {
    let page = admin.get_html("/admin/users").await;
    let row = page
        .split("<tr data-user=\"")
        .find(|r| r.contains(&format!("<td>{email}</td>")))
        .expect("person listed");
    row.split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn with_the_requirement_on_a_person_without_a_factor_must_enrol_first() {
    let admin = spawn_app().await;
    admin.signed_in_user().await;
    let res = admin
        .post_form(
            "/admin/users",
            "/admin/second-factor-required",
            &[("required", "true")],
        )
        .await;
    assert_eq!(res.status(), 303);

    let person = TestApp::with_client(&admin, client());
    let res = person.sign_up("p@example.com", "P", PASSWORD).await;
    assert_eq!(location(&res), "/settings/security");
    // Sign-out works while enrolment is due.
    let res = person
        .post_form("/settings/security", "/signout", &[])
        .await;
    assert_eq!(location(&res), "/signin?signed_out=1");
    let res = person.sign_in("p@example.com", PASSWORD).await;
    assert_eq!(location(&res), "/settings/security");
    let c = oidc_client(&admin).await;
    let (_, challenge) = pkce();
    let path = authorize_path(&c.id, SCOPE, "s", Some(&challenge));
    for blocked in ["/account", "/settings/password", path.as_str()] {
        let res = person.get(blocked).await;
        assert_eq!(res.status(), 303, "{blocked}");
        assert_eq!(location(&res), "/settings/security", "{blocked}");
    }
    assert!(
        person
            .get_html("/settings/security")
            .await
            .contains("id=\"enrol-required\"")
    );
    enrol(&person).await;
    assert_eq!(person.get("/account").await.status(), 200);
    let res = person.get(&path).await;
    assert_eq!(res.status(), 200, "the authorization endpoint asks for consent again");
}

#[tokio::test]
async fn an_administrator_resets_a_persons_factors_and_their_next_sign_in_is_password_only() {
    let admin = spawn_app().await;
    admin.signed_in_user().await;
    let admin_session = admin.session_token().await;
    let person = TestApp::with_client(&admin, client());
    let email = person.signed_in_user().await;
    enrol(&person).await;
    let id = person_id(&admin, &email).await;

    // A person who is not an administrator may do neither.
    let res = person
        .post_form("/account", &format!("/admin/users/{id}/reset-factors"), &[])
        .await;
    assert_eq!(res.status(), 403);
    let res = person
        .post_form("/account", "/admin/second-factor-required", &[("required", "true")])
        .await;
    assert_eq!(res.status(), 403);

    let res = admin
        .post_form("/admin/users", &format!("/admin/users/{id}/reset-factors"), &[])
        .await;
    assert_eq!(location(&res), "/admin/users");
    assert_eq!(person.get("/account").await.status(), 200, "their session goes on");
    person.sign_out().await;
    let res = person.sign_in(&email, PASSWORD).await;
    assert_eq!(location(&res), "/account", "password only");

    let events: Value = admin
        .client
        .get(admin.url("/api/v1/audit-events?event_type=user.factors_reset"))
        .bearer_auth(&admin_session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = events["data"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
}

#[tokio::test]
async fn the_admin_apps_page_and_the_command_line_set_the_requirement() {
    // No client cache, so the command line's change holds at once (on SQLite nothing announces
    // it to the running server).
    let app = spawn_app_with(|s| s.cache_ttl_ms = 0).await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let (_, challenge) = pkce();
    let path = authorize_path(&c.id, SCOPE, "s", Some(&challenge));
    assert_eq!(app.get(&path).await.status(), 200, "consent: no step-up yet");

    let res = app
        .post_form(
            "/admin/apps",
            &format!("/admin/apps/{}/flags", c.id),
            &[("require_second_factor", "on")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let to = location(&app.get(&path).await);
    assert!(to.starts_with("/settings/security?return_to="), "{to}");

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.args(["client", "set", &c.id, "--require-second-factor", "false"])
        .env("PORTCULLIS_DATABASE_URL", app.settings.database_url.expose());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("require_second_factor: false"));
    assert_eq!(app.get(&path).await.status(), 200, "no step-up any more");
}
