//! Settings → Credentials (`/settings/credentials`): the page, its CSRF-protected forms and the
//! one-time reveal page, over HTTP and once in a real browser.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fantoccini::Locator;
use serde_json::Value;

use crate::browser::{click, fill, screenshot, wait_for_path, with_browser};
use crate::helpers::{TestApp, location, revealed, spawn_app};

const PAGE: &str = "/settings/credentials";
const API_KEYS: &str = "/settings/credentials/api-keys";
const NOT_SHOWN_AGAIN: &str = "it will not be shown again";

/// A fresh app with a signed-in person; returns the app and their email.
async fn signed_in() -> (TestApp, String) {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    (app, email)
}

/// `GET /v1/users/me` with a bearer credential.
async fn me(app: &TestApp, bearer: &str) -> reqwest::Response {
    app.client
        .get(app.url("/v1/users/me"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
}

async fn me_status(app: &TestApp, bearer: &str) -> u16 {
    me(app, bearer).await.status().as_u16()
}

/// `POST /api/v0/login` with a personal token.
async fn login_v0_status(app: &TestApp, personal: &str) -> u16 {
    app.client
        .post(app.url("/api/v0/login"))
        .bearer_auth(personal)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The API keys the person holds, as the REST API lists them.
async fn listed_api_keys(app: &TestApp) -> Vec<Value> {
    let session = app.session_token().await;
    let res = app
        .client
        .get(app.url("/api/v1/active/api-keys"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let b: Value = res.json().await.unwrap();
    b["data"].as_array().unwrap().clone()
}

/// Submits the API-key form with `read` permission and no other options.
async fn create_key_via_form(app: &TestApp, name: &str) -> String {
    let res = app
        .post_form(
            PAGE,
            API_KEYS,
            &[
                ("name", name),
                ("permission", "read"),
                ("environment", "live"),
                ("expires_on", ""),
                ("allowed_ips", ""),
            ],
        )
        .await;
    let res = app.reveal(res).await;
    revealed(&res.text().await.unwrap())
}

/// The section of the page with this element id, up to the end of its `<section>`.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// The table row (`<tr data-credential=…>…</tr>`) whose text contains `name`.
fn row<'a>(page: &'a str, name: &str) -> &'a str {
    page.split("<tr data-credential=")
        .skip(1)
        .map(|r| &r[..r.find("</tr>").unwrap()])
        .find(|r| r.contains(&format!("<td>{name}</td>")))
        .unwrap_or_else(|| panic!("no row named {name}"))
}

/// The credential id of a row.
fn row_id(row: &str) -> String {
    row.trim_start_matches('"')
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// The prefix shown in a row (`<code>ck_live_xxxx…</code>`), without the ellipsis.
fn row_prefix(row: &str) -> String {
    let start = row.find("<code>").unwrap() + "<code>".len();
    let shown = row[start..].split('<').next().unwrap();
    shown.trim_end_matches('…').to_owned()
}

/// A calendar date `days` from today (UTC) as `YYYY-MM-DD`.
fn date_in(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

// ---------------------------------------------------------------- API keys

#[tokio::test]
async fn creating_an_api_key_through_the_form_reveals_it_once_and_it_works_on_users_me() {
    let (app, email) = signed_in().await;
    let res = app
        .post_form(
            PAGE,
            API_KEYS,
            &[
                ("name", "Production integration"),
                ("permission", "read"),
                ("permission", "write"),
                ("environment", "live"),
                ("expires_on", "2099-12-31"),
                ("allowed_ips", "127.0.0.0/8, 10.0.0.0/8"),
            ],
        )
        .await;
    let res = app.reveal(res).await;
    let html = res.text().await.unwrap();
    assert!(html.contains(NOT_SHOWN_AGAIN), "{html}");
    assert!(html.contains("Production integration"));
    let key = revealed(&html);
    assert!(key.starts_with("ck_live_"), "{key}");

    let res = me(&app, &key).await;
    assert_eq!(res.status(), 200);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["data"]["email"], email.as_str());

    // What the form asked for is what was created.
    let keys = listed_api_keys(&app).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["name"], "Production integration");
    assert_eq!(keys[0]["permissions"], serde_json::json!(["read", "write"]));
    assert_eq!(keys[0]["environment"], "live");
    assert_eq!(keys[0]["expires_at"], "2099-12-31T23:59:59Z");
    assert_eq!(
        keys[0]["allowed_ips"],
        serde_json::json!(["127.0.0.0/8", "10.0.0.0/8"])
    );
}

#[tokio::test]
async fn the_test_environment_radio_makes_a_ck_test_key() {
    let (app, _) = signed_in().await;
    let res = app
        .post_form(
            PAGE,
            API_KEYS,
            &[
                ("name", "Sandbox"),
                ("permission", "read"),
                ("environment", "test"),
            ],
        )
        .await;
    let res = app.reveal(res).await;
    let key = revealed(&res.text().await.unwrap());
    assert!(key.starts_with("ck_test_"), "{key}");
    assert_eq!(me_status(&app, &key).await, 200);
}

#[tokio::test]
async fn the_listing_shows_the_name_and_prefix_but_never_the_secret() {
    let (app, _) = signed_in().await;
    let key = create_key_via_form(&app, "Listed key").await;
    let page = app.get(PAGE).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let r = row(section(&page, "api-keys"), "Listed key");
    let prefix = row_prefix(r);
    assert!(prefix.starts_with("ck_live_") && prefix.len() > "ck_live_".len());
    assert!(key.starts_with(&prefix), "{prefix} is the key's start");
    assert!(prefix.len() < key.len());
    assert!(!page.contains(&key), "the key is never on the page");
    assert!(
        !page.contains(&key[key.len() - 16..]),
        "nor its secret tail"
    );
}

#[tokio::test]
async fn a_form_without_a_csrf_token_is_refused_with_403_and_creates_nothing() {
    let (app, _) = signed_in().await;
    let fields = [("name", "Forged"), ("permission", "read")];
    let res = app
        .client
        .post(app.url(API_KEYS))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(!res.text().await.unwrap().contains("revealed-secret"));

    // A token that is not this session's is refused too.
    let mut with_wrong = fields.to_vec();
    with_wrong.push(("csrf_token", "not-the-session-token"));
    let res = app
        .client
        .post(app.url(API_KEYS))
        .form(&with_wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    assert!(listed_api_keys(&app).await.is_empty());
    let page = app.get_html(PAGE).await;
    assert!(!page.contains("Forged"));
    assert!(section(&page, "api-keys").contains("None yet."));
}

#[tokio::test]
async fn bad_api_key_input_re_renders_the_page_with_422_and_the_error() {
    let (app, _) = signed_in().await;
    let yesterday = date_in(-1);
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[("name", "No permissions"), ("environment", "live")],
            "Choose at least one of read, write, delete, admin.",
        ),
        (
            &[
                ("name", "Past expiry"),
                ("permission", "read"),
                ("expires_on", &yesterday),
            ],
            "The date must be in the future.",
        ),
        (
            &[
                ("name", "Bad IP"),
                ("permission", "read"),
                ("allowed_ips", "10.0.0.0/33"),
            ],
            "Not an IP address or CIDR range",
        ),
    ];
    for (fields, message) in cases {
        let res = app.post_form(PAGE, API_KEYS, fields).await;
        assert_eq!(res.status(), 422, "{fields:?}");
        let html = res.text().await.unwrap();
        assert!(html.contains("id=\"credentials-error\""), "{fields:?}");
        let error = section(&html, "credentials-error");
        assert!(error.contains(message), "{fields:?}: {error}");
        assert!(!html.contains("revealed-secret"));
        assert!(html.contains("id=\"create-api-key\""), "the form is back");
    }
    assert!(listed_api_keys(&app).await.is_empty(), "nothing created");
}

#[tokio::test]
async fn revoking_through_the_rows_revoke_form_makes_the_key_fail_with_401_at_once() {
    let (app, _) = signed_in().await;
    let key = create_key_via_form(&app, "Doomed").await;
    let kept = create_key_via_form(&app, "Kept").await;
    assert_eq!(me_status(&app, &key).await, 200);

    let page = app.get_html(PAGE).await;
    let r = row(&page, "Doomed");
    let id = row_id(r);
    let action = format!("/settings/credentials/api_key/{id}/revoke");
    assert!(r.contains(&format!("action=\"{action}\"")), "{r}");
    let res = app.post_form(PAGE, &action, &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), PAGE);

    let res = me(&app, &key).await;
    assert_eq!(res.status(), 401);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["error"]["code"], "authentication_failed");
    assert_eq!(
        me_status(&app, &kept).await,
        200,
        "the other key still works"
    );
    let page = app.get_html(PAGE).await;
    assert!(!page.contains(&id) && !page.contains("<td>Doomed</td>"));
    assert!(page.contains("<td>Kept</td>"));
}

#[tokio::test]
async fn an_expiry_within_seven_days_is_highlighted() {
    let (app, _) = signed_in().await;
    let soon = date_in(3);
    let later = date_in(30);
    for (name, date) in [("Soon", soon.as_str()), ("Later", later.as_str())] {
        let res = app
            .post_form(
                PAGE,
                API_KEYS,
                &[("name", name), ("permission", "read"), ("expires_on", date)],
            )
            .await;
        app.reveal(res).await;
    }
    let page = app.get_html(PAGE).await;
    let soon_row = row(&page, "Soon");
    assert!(
        soon_row.contains(&format!("<span class=\"soon\">{soon} 23:59:59 UTC</span>")),
        "{soon_row}"
    );
    let later_row = row(&page, "Later");
    assert!(
        later_row.contains(&format!("<td>{later} 23:59:59 UTC</td>")),
        "{later_row}"
    );
    assert!(!later_row.contains("class=\"soon\""), "{later_row}");
}

// ---------------------------------------------------------------- other credentials

#[tokio::test]
async fn a_personal_access_token_made_through_the_form_works_and_is_listed() {
    let (app, _) = signed_in().await;
    let res = app
        .post_form(
            PAGE,
            "/settings/credentials/tokens",
            &[("name", "CI script"), ("expires_on", "2099-12-31")],
        )
        .await;
    let res = app.reveal(res).await;
    let html = res.text().await.unwrap();
    assert!(html.contains(NOT_SHOWN_AGAIN));
    let token = revealed(&html);
    assert!(token.starts_with("sk-"), "{token}");
    assert_eq!(me_status(&app, &token).await, 200);

    let page = app.get_html(PAGE).await;
    let r = row(section(&page, "personal-access-tokens"), "CI script");
    assert!(r.contains("2099-12-31 23:59:59 UTC"), "{r}");
    assert!(token.starts_with(&row_prefix(r)));
    assert!(!page.contains(&token));

    // Without an expiry date it is refused.
    let res = app
        .post_form(
            PAGE,
            "/settings/credentials/tokens",
            &[("name", "No expiry"), ("expires_on", "")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("id=\"credentials-error\"")
    );
}

#[tokio::test]
async fn regenerating_the_personal_token_through_the_form_invalidates_the_old_one() {
    let (app, _) = signed_in().await;
    let page = app.get_html(PAGE).await;
    assert!(section(&page, "personal-token").contains("Generate personal token"));

    let res = app
        .post_form(PAGE, "/settings/credentials/personal-token", &[])
        .await;
    let res = app.reveal(res).await;
    let html = res.text().await.unwrap();
    assert!(html.contains(NOT_SHOWN_AGAIN));
    let first = revealed(&html);
    assert_eq!(login_v0_status(&app, &first).await, 200);

    let page = app.get_html(PAGE).await;
    assert!(section(&page, "personal-token").contains("Regenerate personal token"));

    let res = app
        .post_form(PAGE, "/settings/credentials/personal-token", &[])
        .await;
    let res = app.reveal(res).await;
    let second = revealed(&res.text().await.unwrap());
    assert_ne!(first, second);
    assert_eq!(login_v0_status(&app, &first).await, 401, "old one is dead");
    assert_eq!(login_v0_status(&app, &second).await, 200);
}

#[tokio::test]
async fn a_second_secret_key_is_refused_with_422_and_the_page_offers_delete() {
    let (app, email) = signed_in().await;
    let res = app
        .post_form(PAGE, "/settings/credentials/secret-key", &[])
        .await;
    let res = app.reveal(res).await;
    let html = res.text().await.unwrap();
    assert!(html.contains(NOT_SHOWN_AGAIN));
    let secret = revealed(&html);
    let res = app
        .client
        .post(app.url("/auth/token"))
        .json(&serde_json::json!({"email": email, "secretKey": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the revealed key logs in");

    let res = app
        .post_form(PAGE, "/settings/credentials/secret-key", &[])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        section(&html, "credentials-error").contains("A secret key already exists"),
        "conflict message"
    );
    assert!(!html.contains("revealed-secret"));
    for page in [html, app.get_html(PAGE).await] {
        let s = section(&page, "secret-key");
        assert!(s.contains("Delete secret key"), "{s}");
        assert!(!s.contains("Generate secret key"), "{s}");
    }
}

#[tokio::test]
async fn the_session_token_button_reveals_a_jwt_that_works_on_users_me() {
    let (app, email) = signed_in().await;
    let page = app.get_html(PAGE).await;
    assert!(page.contains("id=\"create-session-token\""));
    let res = app
        .post_form(PAGE, "/settings/credentials/session-token", &[])
        .await;
    let res = app.reveal(res).await;
    let html = res.text().await.unwrap();
    assert!(html.contains(NOT_SHOWN_AGAIN));
    let jwt = revealed(&html);
    assert_eq!(jwt.split('.').count(), 3, "a JWT: {jwt}");
    assert!(jwt.starts_with("eyJ"));
    let res = me(&app, &jwt).await;
    assert_eq!(res.status(), 200);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["data"]["email"], email.as_str());
}

#[tokio::test]
async fn a_signed_out_visitor_is_redirected_to_sign_in() {
    let app = spawn_app().await;
    let res = app.get(PAGE).await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(to.starts_with("/signin"), "{to}");

    // And after signing out, too.
    app.signed_in_user().await;
    assert_eq!(app.get(PAGE).await.status(), 200);
    assert_eq!(app.sign_out().await.status(), 303);
    let res = app.get(PAGE).await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/signin"));
}

// ---------------------------------------------------------------- in a real browser

#[tokio::test]
async fn a_person_creates_uses_and_revokes_an_api_key_in_a_real_browser() {
    let app = spawn_app().await;
    let email = format!("browser-{}@example.com", uuid::Uuid::new_v4().simple());
    assert_eq!(
        app.sign_up(&email, "Ada Lovelace", "correct horse battery")
            .await
            .status(),
        303
    );
    assert_eq!(app.sign_out().await.status(), 303);

    let base = app.address.clone();
    let out: Arc<Mutex<Option<String>>> = Arc::default();
    let out_in = Arc::clone(&out);
    with_browser("credentials-api-key", move |b| async move {
        let http = reqwest::Client::new();
        let me = |key: String| {
            let http = http.clone();
            let url = format!("{base}/v1/users/me");
            async move {
                http.get(url)
                    .bearer_auth(key)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };

        b.goto(&format!("{base}/signin")).await.unwrap();
        fill(&b, "email", &email).await;
        fill(&b, "password", "correct horse battery").await;
        click(&b, "form[action='/signin'] button[type=submit]").await;
        wait_for_path(&b, "/account").await;

        b.goto(&format!("{base}{PAGE}")).await.unwrap();
        wait_for_path(&b, PAGE).await;
        fill(&b, "key-name", "Browser key").await;
        click(&b, "#create-api-key").await;
        wait_for_path(&b, "/settings/reveal").await;
        let key = b
            .wait()
            .for_element(Locator::Id("revealed-secret"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .trim()
            .to_owned();
        assert!(key.starts_with("ck_live_"), "{key}");
        let body = b
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.to_lowercase().contains(NOT_SHOWN_AGAIN), "{body}");
        screenshot(&b, "credentials-reveal").await;
        *out_in.lock().unwrap() = Some(key.clone());

        assert_eq!(me(key.clone()).await, 200, "the revealed key works");

        // Reloading the reveal shows no secret and creates nothing; neither does Back.
        b.refresh().await.unwrap();
        b.wait()
            .for_element(Locator::Id("reveal-gone"))
            .await
            .unwrap();
        assert!(!b.source().await.unwrap().contains(&key), "not shown again");
        b.back().await.unwrap();
        wait_for_path(&b, PAGE).await;
        assert!(!b.source().await.unwrap().contains(&key));
        b.forward().await.unwrap();
        wait_for_path(&b, "/settings/reveal").await;
        assert!(!b.source().await.unwrap().contains(&key), "Forward neither");

        b.goto(&format!("{base}{PAGE}")).await.unwrap();
        let row_css = "#api-keys tr[data-credential]";
        let name = b
            .find(Locator::Css(&format!("{row_css} td")))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(name, "Browser key");
        click(&b, &format!("{row_css} button.danger")).await;
        // static/app.js asks window.confirm first: accept it, as the person would.
        b.accept_alert().await.unwrap();
        let mut gone = false;
        for _ in 0..100 {
            if b.find_all(Locator::Css(row_css)).await.unwrap().is_empty() {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(gone, "the revoked row left the page");
        wait_for_path(&b, PAGE).await;
        screenshot(&b, "credentials-revoked").await;
    })
    .await;

    let key = out
        .lock()
        .unwrap()
        .take()
        .expect("the browser revealed a key");
    let res = me(&app, &key).await;
    assert_eq!(res.status(), 401, "revoked in the browser, refused at once");
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["error"]["code"], "authentication_failed");
}
