//! `email_verified`: false for every new account, set by a server administrator on Admin →
//! People or with `portcullis user verify-email`, and released by the ID token and UserInfo.

use serde_json::Value;

use crate::helpers::{TestApp, client, location, spawn_app};
use crate::oauth_helpers::*;
use crate::oidc::{oidc_client, payload, tokens_with_nonce, userinfo};
use crate::tenancy::stored_user_id;

/// UserInfo's `email_verified` for an access token.
async fn verified_per_userinfo(app: &TestApp, access_token: &str) -> Value {
    let res = userinfo(app, access_token).await;
    assert_eq!(res.status(), 200);
    json(res).await["email_verified"].clone()
}

/// The Users page's row of `email`.
fn person_row(page: &str, email: &str) -> String {
    let at = page
        .find(&format!("<td>{email}</td>"))
        .expect("person listed");
    page[at..].split("</tr>").next().unwrap().to_owned()
}

async fn mark(app: &TestApp, user_id: &str, verified: &str) -> reqwest::Response {
    app.post_form(
        "/admin/users",
        &format!("/admin/users/{user_id}/email-verified"),
        &[("verified", verified)],
    )
    .await
}

crate::helpers::on_both_backends!(
    an_address_is_unverified_until_an_administrator_marks_it_then_tokens_say_so,
    |admin: TestApp| async move {
        admin.signed_in_user().await;
        let admin_session = admin.session_token().await;
        let bob = TestApp::with_client(&admin, client());
        let email = bob.signed_in_user().await;
        let c = oidc_client(&admin).await;

        let before = tokens_with_nonce(&bob, &c, "openid email", "n").await;
        let id_token = payload(before["id_token"].as_str().unwrap());
        assert_eq!(id_token["email"], email.as_str());
        assert_eq!(id_token["email_verified"], false);
        let access = before["access_token"].as_str().unwrap();
        assert_eq!(verified_per_userinfo(&bob, access).await, false);
        let page = admin.get_html("/admin/users").await;
        assert!(person_row(&page, &email).contains("not verified"));

        let bob_id = stored_user_id(&bob).await;
        let res = mark(&admin, &bob_id, "true").await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/admin/users");
        let page = admin.get_html("/admin/users").await;
        assert!(person_row(&page, &email).contains(">verified</span>"));

        // UserInfo reads the account live; new ID tokens say so too.
        assert_eq!(verified_per_userinfo(&bob, access).await, true);
        let after = tokens_with_nonce(&bob, &c, "openid email", "m").await;
        assert_eq!(
            payload(after["id_token"].as_str().unwrap())["email_verified"],
            true
        );
        // Without the email scope, the ID token says nothing about the address.
        let bare = tokens_with_nonce(&bob, &c, "openid", "o").await;
        let bare = payload(bare["id_token"].as_str().unwrap());
        assert!(bare.get("email").is_none() && bare.get("email_verified").is_none());

        let res = admin
            .client
            .get(admin.url("/api/v1/audit-events?event_type=user.email_verified"))
            .bearer_auth(&admin_session)
            .send()
            .await
            .unwrap();
        let events: Value = res.json().await.unwrap();
        let events = events["data"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["subject_user_id"], bob_id.as_str());
        assert_eq!(events[0]["detail"]["email_verified"], true);

        // And back.
        assert_eq!(mark(&admin, &bob_id, "false").await.status(), 303);
        assert_eq!(verified_per_userinfo(&bob, access).await, false);
    }
);

#[tokio::test]
async fn a_person_who_is_not_an_administrator_can_neither_list_people_nor_mark_an_address() {
    let admin = spawn_app().await;
    admin.signed_in_user().await;
    let bob = TestApp::with_client(&admin, client());
    bob.signed_in_user().await;
    let c = oidc_client(&admin).await;
    let access = tokens_with_nonce(&bob, &c, "openid email", "n").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    assert!(
        !bob.get_html("/account")
            .await
            .contains("href=\"/admin/users\"")
    );
    assert_eq!(bob.get("/admin/users").await.status(), 403);
    let bob_id = stored_user_id(&bob).await;
    let res = bob
        .post_form(
            "/account",
            &format!("/admin/users/{bob_id}/email-verified"),
            &[("verified", "true")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(verified_per_userinfo(&bob, &access).await, false);
}

#[tokio::test]
async fn marking_an_address_without_the_csrf_token_changes_nothing() {
    let admin = spawn_app().await;
    admin.signed_in_user().await;
    let bob = TestApp::with_client(&admin, client());
    bob.signed_in_user().await;
    let c = oidc_client(&admin).await;
    let access = tokens_with_nonce(&bob, &c, "openid email", "n").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob_id = stored_user_id(&bob).await;
    let res = admin
        .client
        .post(admin.url(&format!("/admin/users/{bob_id}/email-verified")))
        .form(&[("verified", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(verified_per_userinfo(&bob, &access).await, false);
}

#[tokio::test]
async fn the_cli_marks_an_address_verified_and_unverified() {
    let admin = spawn_app().await;
    admin.signed_in_user().await;
    let bob = TestApp::with_client(&admin, client());
    let email = bob.signed_in_user().await;
    let c = oidc_client(&admin).await;
    let access = tokens_with_nonce(&bob, &c, "openid email", "n").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = |args: Vec<String>| {
        let url = admin.settings.database_url.expose().to_owned();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
                    .args(["user", "verify-email"])
                    .args(args)
                    .env("PORTCULLIS_DATABASE_URL", url)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };

    let out = run(vec!["--email".into(), email.to_uppercase()]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("email_verified true"));
    assert_eq!(verified_per_userinfo(&bob, &access).await, true);

    let out = run(vec!["--email".into(), email.clone(), "--unverified".into()]).await;
    assert!(out.status.success());
    assert_eq!(verified_per_userinfo(&bob, &access).await, false);

    let out = run(vec!["--email".into(), "nobody@example.com".into()]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}
