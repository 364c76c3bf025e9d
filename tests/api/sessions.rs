//! Settings → Sessions lists a person's browsers (device, address, sign-in and last use, this
//! one marked) and ends any of their own, with its session tokens; Settings → Password changes
//! the password only with the current one, counts wrong ones like failed sign-ins, and signs
//! out every other browser, session token and app.

use serde_json::Value;

use crate::helpers::{
    TestApp, client, client_with_headers, location, spawn_app, spawn_app_with,
};
use crate::oauth_helpers::{confidential, exchange, json, obtain_code, refresh};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new passphrase";
const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const FIREFOX_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// One row of the sessions table.
#[derive(Debug)]
struct Row {
    sid: String,
    current: bool,
    device: String,
    address: String,
    signed_in: String,
    last_active: String,
}

fn after<'a>(chunk: &'a str, marker: &str) -> &'a str {
    let at = chunk.find(marker).unwrap_or_else(|| panic!("no {marker}")) + marker.len();
    &chunk[at..]
}

fn rows(page: &str) -> Vec<Row> {
    page.split("<tr data-session=\"")
        .skip(1)
        .map(|chunk| {
            let tag = chunk.split('>').next().unwrap();
            let device = after(after(chunk, "class=\"device\""), ">");
            let address = after(chunk, "class=\"address\">");
            Row {
                sid: chunk.split('"').next().unwrap().to_owned(),
                current: tag.contains("data-current=\"true\""),
                device: device.split('<').next().unwrap().trim().to_owned(),
                address: address.split('<').next().unwrap().to_owned(),
                signed_in: after(chunk, "class=\"signed-in\"><time datetime=\"")
                    .split('"')
                    .next()
                    .unwrap()
                    .to_owned(),
                last_active: after(chunk, "class=\"last-active\"><time datetime=\"")
                    .split('"')
                    .next()
                    .unwrap()
                    .to_owned(),
            }
        })
        .collect()
}

async fn listed(device: &TestApp) -> Vec<Row> {
    let res = device.get("/settings/sessions").await;
    assert_eq!(res.status(), 200);
    rows(&res.text().await.unwrap())
}

/// The row of the browser the page was fetched with.
async fn this_session(device: &TestApp) -> Row {
    listed(device)
        .await
        .into_iter()
        .find(|r| r.current)
        .expect("this browser is listed as current")
}

async fn me(app: &TestApp, bearer: &str) -> u16 {
    app.client
        .get(app.url("/v1/users/me"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Whether a browser is signed in: its account page answers, rather than sending it to sign in.
async fn signed_in(device: &TestApp) -> bool {
    let res = device.get("/account").await;
    match res.status().as_u16() {
        200 => true,
        303 => {
            assert!(location(&res).starts_with("/signin"));
            false
        }
        other => panic!("unexpected status {other}"),
    }
}

/// A server behind a trusted proxy at 127.0.0.1, so each test browser's `X-Forwarded-For` is
/// its address.
async fn behind_proxy() -> TestApp {
    spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    }).await
}

/// A browser of its own (cookie jar, user agent, address) on `app`'s server.
fn browser(app: &TestApp, user_agent: &str, address: &str) -> TestApp {
    TestApp::with_client(
        app,
        client_with_headers(&[("user-agent", user_agent), ("x-forwarded-for", address)]),
    )
}

/// The same account signed in from another browser.
async fn second_browser(app: &TestApp, email: &str) -> TestApp {
    let other = TestApp::with_client(app, client());
    assert_eq!(other.sign_in(email, PASSWORD).await.status(), 303);
    other
}

async fn end(device: &TestApp, sid: &str) -> reqwest::Response {
    device
        .post_form(
            "/settings/sessions",
            &format!("/settings/sessions/{sid}/end"),
            &[],
        )
        .await
}

async fn change_password(
    device: &TestApp,
    current: &str,
    new: &str,
    again: &str,
) -> reqwest::Response {
    device
        .post_form(
            "/settings/password",
            "/settings/password",
            &[
                ("current_password", current),
                ("new_password", new),
                ("new_password_again", again),
            ],
        )
        .await
}

/// Signs in from a fresh browser; the status of the answer (303 in, 401 refused).
async fn sign_in_status(app: &TestApp, email: &str, password: &str) -> u16 {
    let fresh = TestApp::with_client(app, client());
    fresh.sign_in(email, password).await.status().as_u16()
}

/// The audit log, read by an administrator's session token.
async fn audit_events(app: &TestApp, admin_token: &str) -> Vec<Value> {
    let body: Value = app
        .client
        .get(app.url("/api/v1/audit-events?limit=200"))
        .bearer_auth(admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"].as_array().unwrap().clone()
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("portcullis_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

#[tokio::test]
async fn the_sessions_page_lists_each_browser_with_its_device_and_address_and_marks_this_one() {
    let app = behind_proxy().await;
    let laptop = browser(&app, CHROME_LINUX, "203.0.113.7");
    let email = laptop.signed_in_user().await;
    let desktop = browser(&app, FIREFOX_WINDOWS, "198.51.100.4");
    assert_eq!(desktop.sign_in(&email, PASSWORD).await.status(), 303);

    let page = laptop.get_html("/settings/sessions").await;
    let rows = rows(&page);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let here = rows.iter().find(|r| r.current).expect("this browser");
    assert_eq!(here.device, "Chrome on Linux");
    assert_eq!(here.address, "203.0.113.7");
    let there = rows.iter().find(|r| !r.current).expect("the other browser");
    assert_eq!(there.device, "Firefox on Windows");
    assert_eq!(there.address, "198.51.100.4");
    assert!(!there.signed_in.is_empty() && !there.last_active.is_empty());
    assert!(page.contains("action=\"/account/sign-out-everywhere\""));

    // The other browser sees the same two, with itself marked.
    let theirs = this_session(&desktop).await;
    assert_eq!(theirs.sid, there.sid);

    // Sessions are named by their public id, never by the row id (the hash of the cookie key).
    let ids = sea_orm::ConnectionTrait::query_all_raw(
        &app.db,
        sea_orm::Statement::from_string(
            sea_orm::ConnectionTrait::get_database_backend(&app.db),
            "SELECT id, sid FROM sessions WHERE sid IS NOT NULL",
        ),
    )
    .await
    .unwrap();
    assert_eq!(ids.len(), 2);
    for row in ids {
        let id: String = row.try_get("", "id").unwrap();
        let sid: String = row.try_get("", "sid").unwrap();
        assert!(!page.contains(&id), "the row id is on the page");
        assert!(page.contains(&sid));
    }
}

#[tokio::test]
async fn the_sessions_page_is_linked_from_the_settings_navigation() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let page = app.get_html("/settings/authorized-apps").await;
    assert!(page.contains("href=\"/settings/sessions\""));
    assert!(page.contains("href=\"/settings/password\""));
}

crate::helpers::on_both_backends!(
    ending_another_browsers_session_signs_it_out_and_ends_its_session_tokens,
    |app: TestApp| async move {
        let email = app.signed_in_user().await;
        let other = second_browser(&app, &email).await;
        let mine = app.session_token().await;
        let theirs = other.session_token().await;
        let their_sid = this_session(&other).await.sid;

        let res = end(&app, &their_sid).await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/settings/sessions");

        assert!(!signed_in(&other).await, "the other browser is signed out");
        assert_eq!(me(&app, &theirs).await, 401, "its session token is dead");
        assert!(signed_in(&app).await, "this browser stays signed in");
        assert_eq!(me(&app, &mine).await, 200, "and its token works");
        let left = listed(&app).await;
        assert_eq!(left.len(), 1);
        assert!(left[0].current);

        let events = audit_events(&app, &mine).await;
        let ended: Vec<&Value> = events
            .iter()
            .filter(|e| e["event_type"] == "session.ended")
            .collect();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0]["target"], format!("session:{their_sid}"));
        assert_eq!(ended[0]["detail"]["session_tokens"], 1);
        assert!(
            events
                .iter()
                .any(|e| e["event_type"] == "session_token.revoked"
                    && e["detail"]["reason"] == "session_ended")
        );
    }
);

#[tokio::test]
async fn ending_this_browsers_own_session_signs_it_out() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    let sid = this_session(&app).await.sid;

    let res = end(&app, &sid).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/signin");
    assert!(!signed_in(&app).await);
    assert_eq!(me(&app, &token).await, 401);
}

#[tokio::test]
async fn ending_a_session_of_another_person_does_nothing() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let bob = TestApp::with_client(&app, client());
    bob.signed_in_user().await;
    let bobs_token = bob.session_token().await;
    let bobs_sid = this_session(&bob).await.sid;

    let res = end(&app, &bobs_sid).await;
    assert_eq!(res.status(), 404);
    assert!(signed_in(&bob).await, "Bob is still signed in");
    assert_eq!(me(&bob, &bobs_token).await, 200, "and his token works");
    assert_eq!(listed(&bob).await.len(), 1);
    assert!(
        listed(&app).await.iter().all(|r| r.sid != bobs_sid),
        "nobody sees another person's sessions"
    );
}

#[tokio::test]
async fn ending_a_session_needs_the_form_token() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let other = second_browser(&app, &email).await;
    let sid = this_session(&other).await.sid;
    let action = app.url(&format!("/settings/sessions/{sid}/end"));

    for form in [vec![("csrf_token", "forged")], vec![]] {
        let res = app.client.post(&action).form(&form).send().await.unwrap();
        assert_eq!(res.status(), 403);
    }
    assert!(signed_in(&other).await, "the session was not ended");
    assert_eq!(listed(&app).await.len(), 2);
}

crate::helpers::on_both_backends!(
    last_active_moves_forward_when_the_session_is_used_later,
    |app: TestApp| async move {
        app.signed_in_user().await;
        let before = this_session(&app).await;

        app.clock.advance(600);
        assert!(signed_in(&app).await, "used ten minutes later");
        let later = this_session(&app).await;
        assert_eq!(later.sid, before.sid);
        assert_eq!(later.signed_in, before.signed_in, "the sign-in time stays");
        assert!(
            later.last_active > before.last_active,
            "{} then {}",
            before.last_active,
            later.last_active
        );
    }
);

#[tokio::test]
async fn a_wrong_current_password_changes_nothing() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let other = second_browser(&app, &email).await;

    let res = change_password(&app, "not my password", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.status(), 401);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Your current password is not correct.")
    );
    assert!(signed_in(&other).await, "nobody was signed out");
    assert_eq!(sign_in_status(&app, &email, PASSWORD).await, 303);
    assert_eq!(sign_in_status(&app, &email, NEW_PASSWORD).await, 401);
}

#[tokio::test]
async fn new_passwords_that_differ_or_break_the_policy_are_refused() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;

    let res = change_password(&app, PASSWORD, NEW_PASSWORD, "a brand new passphrasE").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("do not match"));

    let res = change_password(&app, PASSWORD, "short", "short").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("at least 8 characters"));

    assert_eq!(sign_in_status(&app, &email, PASSWORD).await, 303);
}

#[tokio::test]
async fn the_password_form_needs_its_form_token() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let res = app
        .client
        .post(app.url("/settings/password"))
        .form(&[
            ("csrf_token", "forged"),
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
            ("new_password_again", NEW_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(sign_in_status(&app, &email, PASSWORD).await, 303);
}

crate::helpers::on_both_backends!(
    changing_the_password_signs_out_every_other_browser_app_and_session_token,
    |app: TestApp| async move {
        let email = "ada@example.com";
        let res = app.sign_up(email, "Ada", PASSWORD).await;
        assert_eq!(res.status(), 303);
        let old_cookie = session_cookie(&res).expect("a session cookie at sign-up");

        // An app the person approved, with a refresh token and an access token.
        let c = confidential(&app).await;
        let (code, verifier) = obtain_code(&app, &c, "read").await;
        let granted = json(exchange(&app, &c, &code, &verifier).await).await;
        let access = granted["access_token"].as_str().unwrap().to_owned();
        let refresh_token = granted["refresh_token"].as_str().unwrap().to_owned();
        assert_eq!(me(&app, &access).await, 200);
        // Another browser, and a session token in each.
        let other = second_browser(&app, email).await;
        let mine = app.session_token().await;
        let theirs = other.session_token().await;

        let page = app.get_html("/settings/password").await;
        assert!(page.contains("signs out your other devices and apps"));
        let res = change_password(&app, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(res.status(), 200);
        assert!(
            session_cookie(&res).is_some(),
            "this browser gets a new session key"
        );
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("id=\"password-changed\"")
        );

        assert!(signed_in(&app).await, "this browser stays signed in");
        assert!(!signed_in(&other).await, "the other browser is signed out");
        let stale = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = stale
            .get(app.url("/account"))
            .header("cookie", &old_cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            303,
            "the session key from before is worth nothing"
        );

        let res = refresh(&app, &c, &refresh_token, None).await;
        assert_eq!(res.status(), 400);
        assert_eq!(json(res).await["error"], "invalid_grant");
        assert_eq!(
            me(&app, &access).await,
            401,
            "the app's access token died too"
        );
        assert_eq!(me(&app, &mine).await, 401, "this browser's session token");
        assert_eq!(
            me(&app, &theirs).await,
            401,
            "the other browser's session token"
        );

        assert_eq!(sign_in_status(&app, email, PASSWORD).await, 401);
        assert_eq!(sign_in_status(&app, email, NEW_PASSWORD).await, 303);

        let admin = app.session_token().await;
        let events = audit_events(&app, &admin).await;
        let changed: Vec<&Value> = events
            .iter()
            .filter(|e| e["event_type"] == "user.password_changed")
            .collect();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0]["outcome"], "success");
        assert_eq!(changed[0]["detail"]["sessions_ended"], 1);
        assert_eq!(changed[0]["detail"]["session_tokens_revoked"], 2);
        assert_eq!(changed[0]["detail"]["token_families_revoked"], 1);
        let logged = serde_json::to_string(&events).unwrap();
        assert!(!logged.contains(PASSWORD) && !logged.contains(NEW_PASSWORD));
    }
);

#[tokio::test]
async fn wrong_current_passwords_count_toward_the_sign_in_throttle() {
    let app = spawn_app_with(|s| s.failure_limit = 3).await;
    let email = app.signed_in_user().await;
    for _ in 0..3 {
        let res = change_password(&app, "not my password", NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(res.status(), 401);
    }

    let res = change_password(&app, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.status(), 429, "throttled, even with the right password");
    assert!(res.headers().contains_key("retry-after"));
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Too many failed attempts")
    );
    assert_eq!(
        sign_in_status(&app, &email, PASSWORD).await,
        429,
        "signing in to the account from here is throttled too"
    );

    app.clock
        .advance(i64::from(app.settings.failure_window_secs) + 1);
    let res = change_password(&app, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.status(), 200, "the window passed");
}
