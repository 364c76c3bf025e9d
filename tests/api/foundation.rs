//! Accounts, sessions, CSRF, health and the shared page behaviour.

use crate::helpers::{TestApp, csrf_token, location, spawn_app, spawn_app_with};
use crate::helpers::on_both_backends;
use sea_orm::{ConnectionTrait, Statement};

const PASSWORD: &str = "correct horse battery";

async fn user_count(app: &TestApp) -> u64 {
    portcullis::storage::users::count_users(&app.db)
        .await
        .unwrap()
}

on_both_backends!(
    simultaneous_first_sign_ups_make_exactly_one_administrator,
    |app: TestApp| async move {
        let people: Vec<TestApp> = (0..6)
            .map(|_| TestApp::with_client(&app, crate::helpers::client()))
            .collect();
        // Password hashing keeps each sign-up busy long enough for the others to overlap it.
        let answers = futures_util::future::join_all(people.iter().enumerate().map(|(i, p)| {
            let email = format!("person{i}@example.com");
            async move { p.sign_up(&email, "Someone", PASSWORD).await.status() }
        }))
        .await;
        assert!(answers.iter().all(|s| *s == 303), "{answers:?}");
        assert_eq!(user_count(&app).await, 6);
        let pages =
            futures_util::future::join_all(people.iter().map(|p| p.get_html("/account"))).await;
        let admins = pages
            .iter()
            .filter(|page| page.contains("Administrator"))
            .count();
        assert_eq!(admins, 1);
    }
);

on_both_backends!(
    sign_up_creates_the_first_account_as_administrator,
    |app: TestApp| async move {
        let res = app
            .sign_up("Ada@Example.com", "Ada Lovelace", PASSWORD)
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/account");
        let page = app.get_html("/account").await;
        assert!(
            page.contains("ada@example.com"),
            "email normalised and shown"
        );
        assert!(page.contains("Ada Lovelace"));
        assert!(page.contains("Administrator"), "first account is an admin");

        let other = crate::helpers::client();
        let csrf = csrf_token(
            &other
                .get(app.url("/signup"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        let res = other
            .post(app.url("/signup"))
            .form(&[
                ("email", "bob@example.com"),
                ("name", "Bob"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let page = other
            .get(app.url("/account"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("bob@example.com"));
        assert!(
            !page.contains("Administrator"),
            "second account is not an admin"
        );
    }
);

on_both_backends!(
    sign_in_with_the_right_password_reaches_the_account_page,
    |app: TestApp| async move {
        let email = app.signed_in_user().await;
        assert_eq!(app.sign_out().await.status(), 303);
        let res = app.sign_in(&email, PASSWORD).await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/account");
        let res = app.get("/account").await;
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains(&email));
    }
);

on_both_backends!(
    session_survives_a_server_restart,
    |app: TestApp| async move {
        let email = app.signed_in_user().await;
        let app = app.restart().await;
        let res = app.get("/account").await;
        assert_eq!(res.status(), 200, "still signed in after restart");
        assert!(res.text().await.unwrap().contains(&email));
    }
);

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_message() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    app.sign_out().await;

    let wrong = app.sign_in(&email, "not the password").await;
    assert_eq!(wrong.status(), 401);
    let wrong = wrong.text().await.unwrap();
    let unknown = app.sign_in("nobody@example.com", "not the password").await;
    assert_eq!(unknown.status(), 401);
    let unknown = unknown.text().await.unwrap();

    let message = |page: &str| {
        let start = page.find("id=\"signin-error\">").unwrap();
        page[start..].split('<').next().unwrap().to_owned()
    };
    assert_eq!(message(&wrong), message(&unknown));
    assert!(message(&wrong).contains("Incorrect email or password."));
    assert_eq!(app.get("/account").await.status(), 303, "not signed in");
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.get("/signup").await; // a session exists, so only the token is missing
    let fields = [
        ("email", "eve@example.com"),
        ("name", "Eve"),
        ("password", PASSWORD),
    ];

    let missing = app
        .client
        .post(app.url("/signup"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 403);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("could not be verified")
    );

    let mut forged = fields.to_vec();
    forged.push(("csrf_token", "forged-token"));
    let res = app
        .client
        .post(app.url("/signup"))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(user_count(&app).await, 0, "no account was created");

    // A signed-in session cannot be ended by a cross-site form either.
    app.signed_in_user().await;
    let res = app
        .client
        .post(app.url("/signout"))
        .form(&[("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(app.get("/account").await.status(), 200, "still signed in");

    // A token from another session is not accepted.
    let other = crate::helpers::client();
    let foreign = csrf_token(
        &other
            .get(app.url("/signin"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let res = app
        .client
        .post(app.url("/signout"))
        .form(&[("csrf_token", foreign.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn sign_out_ends_the_session_for_good() {
    let app = spawn_app().await;
    let res = app.sign_up("ada@example.com", "Ada", PASSWORD).await;
    let cookie = set_cookie(&res).expect("session cookie set at sign-up");
    let cookie = cookie.split(';').next().unwrap().to_owned();

    let res = app.sign_out().await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/signin?signed_out=1");
    assert_eq!(app.get("/account").await.status(), 303);

    // Replaying the old cookie does not revive the session: it was deleted server-side.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = replay
        .get(app.url("/account"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn session_key_is_renewed_at_sign_in() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    app.sign_out().await;
    let page = app.get("/signin").await;
    let before = set_cookie(&page).expect("anonymous session cookie");
    let csrf = csrf_token(&page.text().await.unwrap());
    let res = app
        .client
        .post(app.url("/signin"))
        .form(&[
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let after = set_cookie(&res).expect("new session cookie at sign-in");
    assert_ne!(before, after);
}

fn set_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("portcullis_session="))
        .map(ToOwned::to_owned)
}

#[tokio::test]
async fn session_cookie_is_http_only_and_same_site_lax() {
    let app = spawn_app().await;
    let res = app.get("/signin").await;
    let cookie = set_cookie(&res).unwrap();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(
        !cookie.contains("Secure"),
        "plain-http issuer: no Secure flag"
    );

    let https = spawn_app_with(|s| {
        s.issuer = Some("https://auth.example".parse().unwrap())
    }).await;
    let cookie = set_cookie(&https.get("/signin").await).unwrap();
    assert!(cookie.contains("Secure"));
}

#[tokio::test]
async fn sign_in_returns_to_the_page_that_asked_for_it() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    app.sign_out().await;

    let res = app.get("/account?tab=security").await;
    assert_eq!(res.status(), 303);
    let to_signin = location(&res);
    assert_eq!(to_signin, "/signin?return_to=%2Faccount%3Ftab%3Dsecurity");

    let page = app.get_html(&to_signin).await;
    assert!(page.contains("name=\"return_to\" value=\"/account?tab=security\""));
    let res = app
        .post_form(
            &to_signin,
            "/signin",
            &[
                ("email", &email),
                ("password", PASSWORD),
                ("return_to", "/account?tab=security"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account?tab=security");
}

#[tokio::test]
async fn sign_in_refuses_off_site_return_paths() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    for evil in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        app.sign_out().await;
        let page = app
            .get_html(&format!("/signin?return_to={}", urlencode(evil)))
            .await;
        assert!(
            page.contains("name=\"return_to\" value=\"\""),
            "{evil} kept in the form"
        );
        let res = app
            .post_form(
                "/signin",
                "/signin",
                &[
                    ("email", &email),
                    ("password", PASSWORD),
                    ("return_to", evil),
                ],
            )
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/account", "{evil} followed");
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn sign_up_rejects_bad_input_with_the_reason() {
    let app = spawn_app().await;
    let res = app.sign_up("ada@example.com", "Ada", "short").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("at least 8 characters"));
    let res = app.sign_up("not-an-email", "Ada", PASSWORD).await;
    assert_eq!(res.status(), 422);
    let res = app.sign_up("ada@example.com", "", PASSWORD).await;
    assert_eq!(res.status(), 422);
    assert_eq!(user_count(&app).await, 0);

    assert_eq!(
        app.sign_up("ada@example.com", "Ada", PASSWORD)
            .await
            .status(),
        303
    );
    let other = spawn_again_client(&app).await;
    let res = other
        .0
        .post(app.url("/signup"))
        .form(&[
            ("email", "ADA@example.com"),
            ("name", "Ada 2"),
            ("password", PASSWORD),
            ("csrf_token", other.1.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409, "email already taken");
    assert_eq!(user_count(&app).await, 1);
}

async fn spawn_again_client(app: &TestApp) -> (reqwest::Client, String) {
    let c = crate::helpers::client();
    let csrf = csrf_token(
        &c.get(app.url("/signup"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    (c, csrf)
}

#[tokio::test]
async fn closed_sign_up_still_allows_the_first_account_only() {
    let app = spawn_app_with(|s| s.signup = false).await;
    assert_eq!(
        app.get("/signup").await.status(),
        200,
        "first account allowed"
    );
    assert_eq!(
        app.sign_up("root@example.com", "Root", PASSWORD)
            .await
            .status(),
        303
    );
    let other = crate::helpers::client();
    let res = other.get(app.url("/signup")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let csrf = csrf_token(
        &other
            .get(app.url("/signin"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let res = other
        .post(app.url("/signup"))
        .form(&[
            ("email", "x@example.com"),
            ("name", "X"),
            ("password", PASSWORD),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(user_count(&app).await, 1);
}

async fn session_expiry(app: &TestApp) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT MAX(expires_at) AS e FROM sessions",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "e").unwrap()
}

#[tokio::test]
async fn activity_extends_the_session_and_idleness_ends_it() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let idle = 120 * 60;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (session_expiry(&app).await - (now + idle)).abs() <= 2,
        "expiry is one idle period away"
    );

    // Move the clock: pretend the session was last used just under the idle limit ago...
    app.db
        .execute_unprepared("UPDATE sessions SET expires_at = expires_at - 7000")
        .await
        .unwrap();
    assert_eq!(
        app.get("/account").await.status(),
        200,
        "still inside the idle window"
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        session_expiry(&app).await >= now + idle - 2,
        "the request pushed the expiry out again"
    );

    // ...and now past it.
    app.db
        .execute_unprepared(&format!(
            "UPDATE sessions SET expires_at = expires_at - {}",
            idle + 1
        ))
        .await
        .unwrap();
    assert_eq!(
        app.get("/account").await.status(),
        303,
        "an idle session is over"
    );
}

#[tokio::test]
async fn a_session_idle_past_its_timeout_by_the_servers_clock_is_over() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let idle = i64::from(app.settings.session_idle_minutes) * 60;
    app.clock.advance(idle - 60);
    assert_eq!(
        app.get("/account").await.status(),
        200,
        "still inside the idle window"
    );
    assert!(
        session_expiry(&app).await >= app.clock.now() + idle - 2,
        "the request pushed the expiry out by the server's clock"
    );
    app.clock.advance(idle + 1);
    assert_eq!(
        app.get("/account").await.status(),
        303,
        "an idle session is over"
    );
}

#[tokio::test]
async fn sessions_end_after_the_absolute_timeout() {
    let app = spawn_app_with(|s| s.session_max_hours = 0).await;
    app.signed_in_user().await;
    assert_eq!(app.get("/account").await.status(), 303);
}

#[tokio::test]
async fn first_run_sign_in_page_points_to_creating_the_administrator() {
    let app = spawn_app().await;
    let page = app.get_html("/signin").await;
    assert!(page.contains("Create the administrator account"));
    app.signed_in_user().await;
    app.sign_out().await;
    assert!(
        !app.get_html("/signin")
            .await
            .contains("Create the administrator account")
    );
}

#[tokio::test]
async fn healthz_reports_the_database() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    // Closing the shared pool makes every query fail: the check must say so.
    app.db.clone().close().await.unwrap();
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
}

#[tokio::test]
async fn unknown_pages_render_a_friendly_error_with_the_request_id() {
    let app = spawn_app().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let page = res.text().await.unwrap();
    assert!(page.contains("Not found"));
    assert!(page.contains(&id), "page shows the request id");
}

#[tokio::test]
async fn pages_carry_security_headers_and_load_embedded_assets() {
    let app = spawn_app().await;
    let res = app.get("/signin").await;
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline"));

    let css = app.get("/static/app.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(app.get("/static/app.js").await.status(), 200);
    assert_eq!(app.get("/static/nope.js").await.status(), 404);
}

#[tokio::test]
async fn root_sends_people_to_sign_in_or_their_account() {
    let app = spawn_app().await;
    assert_eq!(location(&app.get("/").await), "/signin");
    app.signed_in_user().await;
    assert_eq!(location(&app.get("/").await), "/account");
}

#[tokio::test]
async fn livez_answers_without_the_database() {
    let app = spawn_app().await;
    app.db.clone().close().await.unwrap();
    let res = app.get("/livez").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), r#"{"status":"ok"}"#);
}
