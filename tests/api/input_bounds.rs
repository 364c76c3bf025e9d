//! Nothing a stranger sends is stored or logged unbounded: an oversized email, `client_id` or
//! user agent is kept cut short or as a prefix plus a hash, and no request value can forge a
//! log line. The log tests run the real `portcullis` binary with its output going to a file.

use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::hardening::{Server, browser, create_admin, session_token, sign_in};
use crate::helpers::{TestApp, spawn_app};

/// The most an audit event may take once stored, serialized, whatever was sent.
const EVENT_MAX: usize = 1024;

/// Signs up the first account (an administrator): its email, and a token that reads the
/// audit log.
async fn admin(app: &TestApp) -> (String, String) {
    let email = app.signed_in_user().await;
    (email, app.session_token().await)
}

/// The events of `event_type`, newest first, as the API shows them.
async fn events_of(app: &TestApp, bearer: &str, event_type: &str) -> Vec<Value> {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/audit-events?event_type={event_type}")))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    page["data"].as_array().unwrap().clone()
}

/// Another browser on the same server, sending `user_agent` when given.
fn stranger(app: &TestApp, user_agent: Option<&str>) -> TestApp {
    let mut builder = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none());
    if let Some(ua) = user_agent {
        builder = builder.user_agent(ua);
    }
    TestApp::with_client(app, builder.build().unwrap())
}

fn assert_small(event: &Value) {
    let size = event.to_string().len();
    assert!(size <= EVENT_MAX, "{size} bytes stored: {event}");
}

// ---------------------------------------------------------------- stored values

#[tokio::test]
async fn a_200_kb_email_at_sign_in_is_refused_and_stored_as_at_most_a_kilobyte() {
    let app = spawn_app().await;
    let (_, admin) = admin(&app).await;
    let email = format!("{}@example.com", "a".repeat(200 * 1024));

    let res = stranger(&app, None).sign_in(&email, "some password").await;
    assert_eq!(res.status(), 422, "refused as malformed");
    let page = res.text().await.unwrap();
    assert!(
        page.len() < 100 * 1024,
        "the page is {} bytes: the address was echoed back",
        page.len()
    );
    assert!(page.contains("Enter a valid email address."), "{page}");
    assert!(
        !page.contains(&"a".repeat(255)),
        "more than any address echoed"
    );

    let failures = events_of(&app, &admin, "signin.failure").await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_small(&failures[0]);
    let stored = failures[0]["detail"]["email"].as_str().unwrap();
    assert!(
        stored.starts_with("aaaa") && stored.contains('#'),
        "{stored}"
    );
}

#[tokio::test]
async fn a_15_kb_client_id_at_the_token_endpoint_gets_an_oauth_error_and_is_stored_short() {
    let app = spawn_app().await;
    let (_, admin) = admin(&app).await;
    let client_id = "c".repeat(15 * 1024);

    for secret in [None, Some("cs_whatever")] {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
        ];
        if let Some(s) = secret {
            form.push(("client_secret", s));
        }
        let res = app
            .client
            .post(app.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client", "RFC 6749 §5.2: {body}");
    }

    let failures = events_of(&app, &admin, "token.failure").await;
    assert_eq!(failures.len(), 2, "{failures:?}");
    for event in &failures {
        assert_small(event);
        let actor = event["actor_id"].as_str().unwrap();
        assert!(actor.starts_with(&"c".repeat(16)), "{actor}");
        assert!(actor.len() < 64, "{actor}");
    }
    assert_eq!(
        failures[0]["actor_id"], failures[1]["actor_id"],
        "the same value, the same fingerprint"
    );
}

#[tokio::test]
async fn a_64_kb_user_agent_is_stored_truncated() {
    let app = spawn_app().await;
    let (email, admin) = admin(&app).await;
    let ua = "u".repeat(64 * 1024);

    let res = stranger(&app, Some(&ua))
        .sign_in(&email, "not the password")
        .await;
    assert_eq!(res.status(), 401);

    let failures = events_of(&app, &admin, "signin.failure").await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_small(&failures[0]);
    let stored = failures[0]["user_agent"].as_str().unwrap();
    assert!(stored.len() <= 256, "{} bytes", stored.len());
    assert!(stored.starts_with("uuuuuuuu"), "{stored}");
}

// ---------------------------------------------------------------- the log

/// A server binary with an administrator, its logs in `tmp`, at the default level and format.
async fn logged_server(tmp: &tempfile::TempDir) -> (Server, reqwest::Client) {
    let db_url = crate::helpers::suite_database_url(tmp.path(), "log.db").await;
    create_admin(&db_url, "root@example.com", "a long admin password");
    let server = Server::start(&db_url, &[("PORTCULLIS_LOG", "info")], tmp.path()).await;
    let (client, _) = browser();
    sign_in(
        &client,
        &server,
        "root@example.com",
        "a long admin password",
    )
    .await;
    (server, client)
}

/// Standard error of the stopped server.
fn stderr_of(tmp: &tempfile::TempDir) -> String {
    std::fs::read_to_string(tmp.path().join("stderr.log")).unwrap()
}

#[tokio::test]
async fn a_newline_in_a_request_value_cannot_forge_a_log_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut server, client) = logged_server(&tmp).await;
    let forged = "2099-01-01T00:00:00.000000Z  INFO portcullis: forged";
    let session = session_token(&client, &server).await;

    // A value the answer quotes back, so it reaches the log line of the refusal.
    let res = client
        .post(server.url("/api/v1/active/api-keys"))
        .bearer_auth(&session)
        .json(&json!({"name": "k", "permissions": [format!("read\n{forged}\r\n{forged}")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // A path segment, percent-encoded.
    let html = client
        .get(server.url("/settings/authorized-apps"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_token(&html);
    let encoded = forged.replace(' ', "%20");
    let res = client
        .post(server.url(&format!(
            "/settings/authorized-apps/abc%0A{encoded}%0D%0A{encoded}/revoke"
        )))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    server.stop();

    let log = stderr_of(&tmp);
    assert!(
        log.contains("forged"),
        "the value reached the log (escaped):\n{log}"
    );
    for line in log.lines() {
        assert!(!line.starts_with("2099-"), "a forged line:\n{log}");
        assert!(!line.contains('\r'), "a carriage return in a line:\n{log}");
    }
}

#[tokio::test]
async fn a_log_written_to_a_file_holds_no_colour_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut server, client) = logged_server(&tmp).await;
    let res = client
        .get(server.url("/api/v1/audit-events"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    server.stop();
    let log = stderr_of(&tmp);
    assert!(log.contains("listening"), "{log}");
    assert!(!log.contains("\x1b["), "colour codes in a file:\n{log}");
}

#[tokio::test]
async fn a_failed_request_writes_exactly_one_log_line_with_its_request_id() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut server, client) = logged_server(&tmp).await;
    let api = client
        .get(server.url("/api/v1/audit-events"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);
    let oauth = client
        .post(server.url("/oauth/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(oauth.status(), 401);
    server.stop();

    let log = stderr_of(&tmp);
    for (res, message) in [
        (&api, "Send a credential as `Authorization: Bearer <token>`"),
        (&oauth, "invalid_client"),
    ] {
        let id = res.headers()["x-request-id"].to_str().unwrap();
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(id)).collect();
        assert_eq!(lines.len(), 1, "one line for request {id}:\n{log}");
        assert!(lines[0].contains("status=401"), "{}", lines[0]);
        assert!(lines[0].contains(message), "{}", lines[0]);
    }
    assert!(!log.contains("otel."), "OpenTelemetry fields:\n{log}");
    assert!(!log.contains("exception."), "OpenTelemetry fields:\n{log}");
}
