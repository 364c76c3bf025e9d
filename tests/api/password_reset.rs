//! "Forgot password": a single-use link mailed through a real SMTP conversation (the catcher in
//! `smtp.rs`), the reset it allows, and what it refuses; without mail, the command-line reset.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{TestApp, client, csrf_token, location, spawn_app};
use crate::smtp::{MailCatcher, spawn_app_with_mail};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new passphrase";

/// Asks for a reset link for `email` from `app`'s browser.
async fn forgot(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_form("/forgot-password", "/forgot-password", &[("email", email)])
        .await
}

/// The path of the reset link in the next reset mail to `email`.
async fn reset_link(mail: &MailCatcher, email: &str) -> String {
    let m = mail.next_about(email, "Reset your password").await;
    assert_eq!(m.from, "noreply@portcullis.test");
    m.link("/reset-password")
}

/// Opens `link` and sets `new` (twice) with the form it shows.
async fn reset_with(app: &TestApp, link: &str, new: &str, again: &str) -> reqwest::Response {
    let token = link.split("token=").nth(1).unwrap().to_owned();
    app.post_form(
        link,
        "/reset-password",
        &[
            ("token", &token),
            ("new_password", new),
            ("new_password_again", again),
        ],
    )
    .await
}

#[tokio::test]
async fn a_mailed_link_resets_the_password_ends_every_session_and_says_so() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    let elsewhere = TestApp::with_client(&app, client());
    assert_eq!(elsewhere.sign_in(&email, PASSWORD).await.status(), 303);
    let session_token = app.session_token().await;

    let stranger = TestApp::with_client(&app, client());
    assert!(
        stranger.get_html("/signin").await.contains("href=\"/forgot-password\""),
        "the sign-in page links to the form"
    );
    let res = forgot(&stranger, &email).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"forgot-sent\""));
    let link = reset_link(&mail, &email).await;

    let res = stranger.get(&link).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let page = res.text().await.unwrap();
    assert!(page.contains("name=\"new_password_again\""));

    let res = reset_with(&stranger, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(res.text().await.unwrap().contains("id=\"reset-done\""));

    let changed = mail.next_about(&email, "Your password was changed").await;
    assert!(changed.body().contains(&app.address), "{}", changed.body());

    // Every session and token the old password let in has ended.
    assert_eq!(app.get("/account").await.status(), 303);
    assert_eq!(elsewhere.get("/account").await.status(), 303);
    let res = app
        .client
        .get(app.url("/v1/users/me"))
        .bearer_auth(&session_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let fresh = TestApp::with_client(&app, client());
    assert_eq!(fresh.sign_in(&email, PASSWORD).await.status(), 401);
    let res = fresh.sign_in(&email, NEW_PASSWORD).await;
    assert_eq!(res.status(), 303);
    // The person read mail sent to the address: it is verified now.
    let page = fresh.get_html("/settings/email").await;
    assert!(page.contains("<span class=\"badge\">verified</span>"), "{page}");

    // Recorded, for the person's own security log.
    let log = fresh.get_html("/settings/security-log").await;
    assert!(
        log.contains("data-type=\"user.password_reset\""),
        "{log}"
    );
}

#[tokio::test]
async fn a_reset_link_works_once() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    forgot(&app, &email).await;
    let link = reset_link(&mail, &email).await;
    assert_eq!(reset_with(&app, &link, NEW_PASSWORD, NEW_PASSWORD).await.status(), 200);

    let res = app.get(&link).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("id=\"link-refused\""));
    let token = link.split("token=").nth(1).unwrap();
    let res = app
        .post_form(
            "/forgot-password",
            "/reset-password",
            &[
                ("token", token),
                ("new_password", "yet another passphrase"),
                ("new_password_again", "yet another passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(app.sign_in(&email, NEW_PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn an_expired_reset_link_is_refused() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    forgot(&app, &email).await;
    let link = reset_link(&mail, &email).await;
    app.clock.advance(30 * 60 + 1);
    let res = app.get(&link).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("id=\"link-refused\""));
    let token = link.split("token=").nth(1).unwrap();
    let res = app
        .post_form(
            "/forgot-password",
            "/reset-password",
            &[
                ("token", token),
                ("new_password", NEW_PASSWORD),
                ("new_password_again", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let fresh = TestApp::with_client(&app, client());
    assert_eq!(fresh.sign_in(&email, PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn a_newer_reset_link_replaces_the_older() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    forgot(&app, &email).await;
    let older = reset_link(&mail, &email).await;
    forgot(&app, &email).await;
    let newer = reset_link(&mail, &email).await;
    assert_ne!(older, newer);
    assert_eq!(app.get(&older).await.status(), 400);
    assert_eq!(app.get(&newer).await.status(), 200);
    assert_eq!(reset_with(&app, &newer, NEW_PASSWORD, NEW_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn a_new_password_the_policy_refuses_leaves_the_link_usable() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    forgot(&app, &email).await;
    let link = reset_link(&mail, &email).await;
    let res = reset_with(&app, &link, "short", "short").await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let res = reset_with(&app, &link, NEW_PASSWORD, "a different passphrase").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("do not match"));
    assert_eq!(reset_with(&app, &link, NEW_PASSWORD, NEW_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn the_answer_for_an_unknown_address_is_the_same_and_mails_nothing() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    let stranger = TestApp::with_client(&app, client());
    let unknown = "nobody-here@example.com";

    let res = forgot(&stranger, unknown).await;
    let (status_unknown, body_unknown) = (res.status(), res.bytes().await.unwrap());
    let res = forgot(&stranger, &email).await;
    let (status_known, body_known) = (res.status(), res.bytes().await.unwrap());
    assert_eq!(status_unknown, status_known);
    assert_eq!(body_unknown, body_known, "byte for byte the same answer");

    // Mail goes out in order: once the known address's link has arrived, any mail to the
    // unknown one (asked for first) would have too.
    reset_link(&mail, &email).await;
    assert_eq!(mail.waiting_for(unknown), 0);
}

#[tokio::test]
async fn asking_for_links_is_throttled_per_target_address() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    for _ in 0..5 {
        assert_eq!(forgot(&app, &email).await.status(), 200);
    }
    let res = forgot(&app, &email).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // From another address too: the budget is the target's.
    let other = TestApp::with_client(
        &app,
        crate::helpers::client_with_headers(&[("x-forwarded-for", "203.0.113.9")]),
    );
    assert_eq!(forgot(&other, &email).await.status(), 429);
    // Another target is still served.
    assert_eq!(forgot(&app, "someone-else@example.com").await.status(), 200);
    // The newest link sent before the limit works.
    let mut last = String::new();
    for _ in 0..5 {
        last = reset_link(&mail, &email).await;
    }
    assert_eq!(app.get(&last).await.status(), 200);
}

#[tokio::test]
async fn the_forgot_and_reset_forms_refuse_a_post_without_the_csrf_token() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    let res = app
        .client
        .post(app.url("/forgot-password"))
        .form(&[("email", email.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    forgot(&app, &email).await;
    let link = reset_link(&mail, &email).await;
    let token = link.split("token=").nth(1).unwrap();
    let res = app
        .client
        .post(app.url("/reset-password"))
        .form(&[
            ("token", token),
            ("new_password", NEW_PASSWORD),
            ("new_password_again", NEW_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let fresh = TestApp::with_client(&app, client());
    assert_eq!(fresh.sign_in(&email, PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn without_mail_the_forgot_password_page_names_the_command_line_reset() {
    let app = spawn_app().await;
    let page = app.get_html("/forgot-password").await;
    assert!(page.contains("portcullis user reset-password --email"), "{page}");
    assert!(!page.contains("action=\"/forgot-password\""), "no form");
    let csrf = csrf_token(&app.get_html("/signin").await);
    let res = app
        .client
        .post(app.url("/forgot-password"))
        .form(&[("email", "a@example.com"), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"forgot-no-mail\""));
}

/// `portcullis user reset-password --email EMAIL` on `url` with `password` piped in.
fn cli_reset(url: &str, email: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["user", "reset-password", "--email", email])
        .env("PORTCULLIS_DATABASE_URL", url)
        .env("PORTCULLIS_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn the_command_line_resets_a_password_from_stdin_and_ends_every_session() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let url = app.settings.database_url.expose().to_owned();

    let (u, e) = (url.clone(), email.clone());
    let out = tokio::task::spawn_blocking(move || cli_reset(&u, &e, NEW_PASSWORD))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("password reset"));

    assert_eq!(app.get("/account").await.status(), 303, "signed out");
    assert_eq!(app.sign_in(&email, PASSWORD).await.status(), 401);
    let res = app.sign_in(&email, NEW_PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");

    // Audited as the command line's doing (the account is the administrator, so reads the log).
    let token = app.session_token().await;
    let events: serde_json::Value = app
        .client
        .get(app.url("/api/v1/audit-events?event_type=user.password_reset"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = events["data"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor_type"], "cli");

    // A short password or an unknown address changes nothing.
    let (u, e) = (url.clone(), email.clone());
    let out = tokio::task::spawn_blocking(move || cli_reset(&u, &e, "short"))
        .await
        .unwrap();
    assert!(!out.status.success());
    let out = tokio::task::spawn_blocking(move || cli_reset(&url, "nobody@example.com", NEW_PASSWORD))
        .await
        .unwrap();
    assert!(!out.status.success());
    let fresh = TestApp::with_client(&app, client());
    assert_eq!(fresh.sign_in(&email, NEW_PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn a_password_changed_on_settings_is_reported_by_mail() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    let res = app
        .post_form(
            "/settings/password",
            "/settings/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("new_password_again", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let notice = mail.next_about(&email, "Your password was changed").await;
    assert!(notice.body().contains("signed out"), "{}", notice.body());
    assert!(!notice.body().contains("token="), "a notice carries no link token");
}

#[tokio::test]
async fn a_mail_server_that_is_down_fails_no_request() {
    // A port nothing listens on any more: every send is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = crate::helpers::spawn_app_with(|s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").parse().unwrap());
        s.mail_from = Some("noreply@portcullis.test".parse().unwrap());
    })
    .await;
    let email = app.signed_in_user().await;
    let stranger = TestApp::with_client(&app, client());
    let res = forgot(&stranger, &email).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"forgot-sent\""));
    let res = app
        .post_form("/settings/email", "/settings/email/resend", &[])
        .await;
    assert_eq!(res.status(), 200);
}
