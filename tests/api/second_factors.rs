//! Authenticator apps (TOTP) and recovery codes: enrolment on Settings → Security, the
//! two-step sign-in, single use of codes, the sign-in throttle, and removal.

use crate::factor_helpers::*;
use crate::helpers::{TestApp, client, location, spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

/// The audit log's events of one type, read by the signed-in administrator.
async fn audit_events(app: &TestApp, event_type: &str) -> Vec<serde_json::Value> {
    let token = app.session_token().await;
    let page: serde_json::Value = app
        .client
        .get(app.url(&format!("/api/v1/audit-events?event_type={event_type}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["data"].as_array().unwrap().clone()
}

/// Signs `email` out and in again with its password; returns the sign-in response.
async fn sign_in_again(app: &TestApp, email: &str) -> reqwest::Response {
    app.sign_out().await;
    app.sign_in(email, PASSWORD).await
}

#[tokio::test]
async fn an_enrolled_app_makes_sign_in_ask_for_its_code_and_the_code_completes_it() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let page = app.get("/settings/security").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let page = page.text().await.unwrap();
    assert!(page.contains("<svg"), "the QR code is inline SVG");
    assert!(!page.contains("<script>"), "no inline script");
    let app_seed = enrol(&app).await.seed;
    let security = app.get_html("/settings/security").await;
    assert!(security.contains("id=\"totp-status\""));
    assert!(security.contains("10 unused recovery code(s) left"));

    let res = sign_in_again(&app, &email).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/signin/second-factor");
    let res = second_step(&app, "totp", &next_code(&app, &app_seed)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");
    assert_eq!(app.get("/account").await.status(), 200, "signed in");
    for event in ["user.totp_enrolled", "signin.second_factor_success"] {
        assert_eq!(audit_events(&app, event).await.len(), 1, "{event}");
    }
}

#[tokio::test]
async fn a_wrong_enrolment_code_is_refused_and_nothing_is_enrolled() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let seed = seed_on(&app.get_html("/settings/security").await);
    let wrong = if code_now(&app, &seed) == "000000" { "111111" } else { "000000" };
    let res = confirm(&app, wrong, "").await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("id=\"security-error\""));
    // Reloading shows the same enrolment, still waiting.
    assert_eq!(seed_on(&app.get_html("/settings/security").await), seed);
    let res = sign_in_again(&app, &email).await;
    assert_eq!(location(&res), "/account", "password alone still signs in");
}

#[tokio::test]
async fn a_code_is_accepted_once() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let seed = enrol(&app).await.seed;
    // The enrolment spent this step's code.
    sign_in_again(&app, &email).await;
    let res = second_step(&app, "totp", &code_now(&app, &seed)).await;
    assert_eq!(res.status(), 401, "the enrolment's code again");
    let code = next_code(&app, &seed);
    assert_eq!(location(&second_step(&app, "totp", &code).await), "/account");
    sign_in_again(&app, &email).await;
    let res = second_step(&app, "totp", &code).await;
    assert_eq!(res.status(), 401, "a code already used to sign in");
}

#[tokio::test]
async fn the_pending_sign_in_is_not_a_session() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    enrol(&app).await;
    let res = sign_in_again(&app, &email).await;
    assert_eq!(location(&res), "/signin/second-factor");
    for page in ["/account", "/settings/security", "/settings/credentials"] {
        let res = app.get(page).await;
        assert_eq!(res.status(), 303, "{page}");
        assert!(location(&res).starts_with("/signin?"), "{page}");
    }
}

#[tokio::test]
async fn wrong_codes_count_in_the_sign_in_throttle() {
    let app = spawn_app_with(|s| s.failure_limit = 3).await;
    let email = app.signed_in_user().await;
    let seed = enrol(&app).await.seed;
    sign_in_again(&app, &email).await;
    let wrong = |c: &str| if c == "000000" { "111111" } else { "000000" }.to_owned();
    for _ in 0..3 {
        let res = second_step(&app, "totp", &wrong(&code_now(&app, &seed))).await;
        assert_eq!(res.status(), 401);
    }
    let res = second_step(&app, "totp", &next_code(&app, &seed)).await;
    assert_eq!(res.status(), 429, "the right code, but the budget is spent");
    assert!(res.headers().contains_key("retry-after"));
    let res = app.sign_in(&email, PASSWORD).await;
    assert_eq!(res.status(), 429, "and so is the password's");
}

#[tokio::test]
async fn too_many_wrong_codes_end_the_pending_sign_in() {
    let app = spawn_app_with(|s| s.failure_limit = 50).await;
    let email = app.signed_in_user().await;
    enrol(&app).await;
    sign_in_again(&app, &email).await;
    for attempt in 1..=5 {
        let res = second_step(&app, "recovery_code", "aaaaa-aaaaa").await;
        let expected = if attempt < 5 { 401 } else { 303 };
        assert_eq!(res.status(), expected, "attempt {attempt}");
    }
    let res = app.get("/signin/second-factor").await;
    assert_eq!(location(&res), "/signin", "start again");
}

#[tokio::test]
async fn a_pending_sign_in_expires_after_five_minutes() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let seed = enrol(&app).await.seed;
    sign_in_again(&app, &email).await;
    app.clock.advance(301);
    let res = app.get("/signin/second-factor").await;
    assert_eq!(location(&res), "/signin");
    let res = app
        .post_form("/signin", "/signin/second-factor", &[("method", "totp"), ("code", &code_now(&app, &seed))])
        .await;
    assert_eq!(location(&res), "/signin", "nothing pending to finish");
    assert_eq!(app.get("/account").await.status(), 303, "not signed in");
}

#[tokio::test]
async fn recovery_codes_work_once_and_a_new_set_voids_the_old() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let codes = enrol(&app).await.recovery_codes;
    sign_in_again(&app, &email).await;
    let res = second_step(&app, "recovery_code", &codes[0].to_uppercase()).await;
    assert_eq!(location(&res), "/account");
    let security = app.get_html("/settings/security").await;
    assert!(security.contains("9 unused recovery code(s) left"));
    // The first account is an administrator, who may read the audit log.
    let used = audit_events(&app, "user.recovery_code_used").await;
    assert_eq!(used.len(), 1);
    assert_eq!(used[0]["detail"]["left"], 9);

    sign_in_again(&app, &email).await;
    let res = second_step(&app, "recovery_code", &codes[0]).await;
    assert_eq!(res.status(), 401, "spent");

    let res = second_step(&app, "recovery_code", &codes[1]).await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form("/settings/security", "/settings/security/recovery-codes", &[])
        .await;
    let res = app.reveal(res).await;
    let page = res.text().await.unwrap();
    assert!(page.contains("/static/recovery_codes.js"));
    let fresh = codes_on(&page);
    assert_eq!(fresh.len(), 10);

    sign_in_again(&app, &email).await;
    let res = second_step(&app, "recovery_code", &codes[2]).await;
    assert_eq!(res.status(), 401, "the old set is void");
    let res = second_step(&app, "recovery_code", &fresh[0]).await;
    assert_eq!(location(&res), "/account");
}

#[tokio::test]
async fn few_recovery_codes_left_are_warned_about() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let codes = enrol(&app).await.recovery_codes;
    for code in &codes[..7] {
        sign_in_again(&app, &email).await;
        let res = second_step(&app, "recovery_code", code).await;
        if res.status() == 200 {
            let page = res.text().await.unwrap();
            assert!(page.contains("id=\"recovery-few-left\""));
            assert!(page.contains("3 recovery code(s) left"));
        } else {
            assert_eq!(res.status(), 303);
        }
    }
    assert!(
        app.get_html("/settings/security")
            .await
            .contains("id=\"recovery-few-left\"")
    );
}

#[tokio::test]
async fn removing_the_app_needs_the_password_or_a_code() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let seed = enrol(&app).await.seed;
    let remove = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_form("/settings/security", "/settings/security/totp/remove", &fields)
                .await
        }
    };
    let res = remove(vec![("password", "wrong password".into()), ("code", String::new())]).await;
    assert_eq!(res.status(), 401);
    let res = remove(vec![("password", String::new()), ("code", "12345".into())]).await;
    assert_eq!(res.status(), 401);
    let res = remove(vec![("password", String::new()), ("code", next_code(&app, &seed))]).await;
    assert_eq!(location(&res), "/settings/security");
    assert_eq!(location(&sign_in_again(&app, &email).await), "/account");

    let seed = enrol(&app).await.seed;
    let _ = seed;
    let res = remove(vec![("password", PASSWORD.into())]).await;
    assert_eq!(location(&res), "/settings/security");
    assert_eq!(location(&sign_in_again(&app, &email).await), "/account");
}

#[tokio::test]
async fn second_factor_forms_without_a_csrf_token_are_refused() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    for action in [
        "/settings/security/totp/confirm",
        "/settings/security/totp/remove",
        "/settings/security/recovery-codes",
        "/signin/second-factor",
        "/admin/second-factor-required",
    ] {
        let res = app
            .client
            .post(app.url(action))
            .form(&[("code", "123456"), ("method", "totp"), ("required", "true")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{action}");
    }
    let stranger = TestApp::with_client(&app, client());
    let res = stranger.get("/settings/security").await;
    assert_eq!(res.status(), 303);
}
