//! Confirming an address by a mailed link (on sign-up, on a change of address, on request), and
//! changing the address on Settings → Email with the current password.

use crate::helpers::{TestApp, client, spawn_app_with};
use crate::smtp::{MailCatcher, spawn_app_with_mail};

const PASSWORD: &str = "correct horse battery";
const CONFIRM: &str = "Confirm your email address";

/// Whether Settings → Email says the signed-in person's address is verified.
async fn verified(app: &TestApp) -> bool {
    let page = app.get_html("/settings/email").await;
    page.contains("<span class=\"badge\">verified</span>")
}

/// Presses the button on the page `link` opens, in `app`'s browser.
async fn confirm(app: &TestApp, link: &str) -> reqwest::Response {
    let token = link.split("token=").nth(1).unwrap();
    app.post_form(link, "/verify-email", &[("token", token)])
        .await
}

async fn change_email(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_form(
        "/settings/email",
        "/settings/email",
        &[("email", email), ("current_password", password)],
    )
    .await
}

async fn confirm_link(mail: &MailCatcher, email: &str) -> String {
    mail.next_about(email, CONFIRM)
        .await
        .link("/verify-email")
}

#[tokio::test]
async fn sign_up_mails_a_link_whose_button_verifies_the_address() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    assert!(!verified(&app).await);
    let link = confirm_link(&mail, &email).await;

    // Opening the link, as a mail scanner would, changes nothing.
    let scanner = TestApp::with_client(&app, client());
    let res = scanner.get(&link).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(!verified(&app).await);

    // The button does, in any browser.
    let res = confirm(&scanner, &link).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"verify-done\""));
    assert!(verified(&app).await);
    // The administrator (the first account) sees it on Admin → Users.
    let people = app.get_html("/admin/users").await;
    let row = &people[people.find(&format!("<td>{email}</td>")).unwrap()..];
    assert!(row.split("</tr>").next().unwrap().contains(">verified</span>"));

    // Once only.
    assert_eq!(scanner.get(&link).await.status(), 400);
    assert_eq!(confirm(&app, &link).await.status(), 400);
}

#[tokio::test]
async fn confirming_needs_the_csrf_token() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    let link = confirm_link(&mail, &email).await;
    let token = link.split("token=").nth(1).unwrap();
    let res = app
        .client
        .post(app.url("/verify-email"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(!verified(&app).await);
}

#[tokio::test]
async fn changing_the_address_takes_the_password_mails_the_new_one_and_tells_the_old() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    let first_link = confirm_link(&mail, &email).await;
    assert_eq!(confirm(&app, &first_link).await.status(), 200);
    assert!(verified(&app).await);

    let new = format!("new-{email}");
    let res = change_email(&app, &new, "not my password").await;
    assert_eq!(res.status(), 401);
    assert!(app.get_html("/settings/email").await.contains(&email));

    let res = change_email(&app, &new, PASSWORD).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains(&format!("id=\"email-current\">{new}<")), "{page}");
    assert!(!verified(&app).await, "the new address is not verified yet");

    let told = mail.next_about(&email, "email address was changed").await;
    assert!(told.body().contains(&app.address));
    let link = confirm_link(&mail, &new).await;
    assert_eq!(confirm(&app, &link).await.status(), 200);
    assert!(verified(&app).await);

    // The new address signs in; the old one names no account any more.
    let fresh = TestApp::with_client(&app, client());
    assert_eq!(fresh.sign_in(&email, PASSWORD).await.status(), 401);
    assert_eq!(fresh.sign_in(&new, PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn a_link_mailed_to_the_old_address_confirms_nothing_after_a_change() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    let old_link = confirm_link(&mail, &email).await;
    let new = format!("moved-{email}");
    assert_eq!(change_email(&app, &new, PASSWORD).await.status(), 200);
    assert_eq!(app.get(&old_link).await.status(), 400);
    assert!(!verified(&app).await);
}

#[tokio::test]
async fn an_address_another_account_has_cannot_be_taken() {
    let (app, _mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    let other = TestApp::with_client(&app, client());
    let taken = other.signed_in_user().await;
    let res = change_email(&app, &taken.to_uppercase(), PASSWORD).await;
    assert_eq!(res.status(), 409);
    let page = res.text().await.unwrap();
    assert!(page.contains("An account with that email already exists."), "{page}");
    assert!(app.get_html("/settings/email").await.contains(&email));
    let res = change_email(&app, "not an address", PASSWORD).await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn wrong_passwords_on_a_change_of_address_are_throttled_like_sign_ins() {
    let catcher = MailCatcher::start().await;
    let url = catcher.url();
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(url.parse().unwrap());
        s.mail_from = Some("noreply@portcullis.test".parse().unwrap());
        s.failure_limit = 2;
    })
    .await;
    let email = app.signed_in_user().await;
    let new = format!("x-{email}");
    for _ in 0..2 {
        assert_eq!(change_email(&app, &new, "wrong password!").await.status(), 401);
    }
    let res = change_email(&app, &new, PASSWORD).await;
    assert_eq!(res.status(), 429, "even the right password waits");
    assert!(res.headers().contains_key("retry-after"));
    // They counted as failed sign-ins for the account from this address.
    let fresh = TestApp::with_client(&app, client());
    assert_eq!(fresh.sign_in(&email, PASSWORD).await.status(), 429);
}

#[tokio::test]
async fn a_new_link_can_be_asked_for_replaces_the_older_and_is_throttled() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    let first = confirm_link(&mail, &email).await;
    let resend = || app.post_form("/settings/email", "/settings/email/resend", &[]);
    assert_eq!(resend().await.status(), 200);
    let second = confirm_link(&mail, &email).await;
    assert_eq!(app.get(&first).await.status(), 400, "replaced");
    for _ in 0..4 {
        assert_eq!(resend().await.status(), 200);
    }
    let res = resend().await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let mut last = second;
    for _ in 0..4 {
        last = confirm_link(&mail, &email).await;
    }
    assert_eq!(confirm(&app, &last).await.status(), 200);
    assert!(verified(&app).await);
}

#[tokio::test]
async fn without_mail_sign_up_mails_nothing_and_settings_say_so() {
    let app = crate::helpers::spawn_app().await;
    app.signed_in_user().await;
    let page = app.get_html("/settings/email").await;
    assert!(page.contains("This server sends no mail"), "{page}");
    assert!(!page.contains("/settings/email/resend"));
}
