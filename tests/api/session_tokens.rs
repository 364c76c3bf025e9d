//! Session tokens belong to the browser session that created them: sign-out, the session's
//! expiry and "sign out everywhere" end them; the account page lists and revokes them; and
//! `/oauth/revoke` takes them back from whoever holds one.

use serde_json::Value;

use crate::helpers::{TestApp, client, location, revealed, spawn_app, spawn_app_with};
use crate::oauth_helpers::{client_credentials, confidential, introspect, json, machine_client};

const PASSWORD: &str = "correct horse battery";
const SESSION_CLIENT: &str = "portcullis-session";

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

/// The same account signed in from another browser (its own cookie jar).
async fn second_browser(app: &TestApp, email: &str) -> TestApp {
    let other = TestApp::with_client(app, client());
    assert_eq!(other.sign_in(email, PASSWORD).await.status(), 303);
    other
}

/// The ids of the session tokens the account page lists, in order.
fn listed(page: &str) -> Vec<String> {
    page.split("data-session-token=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// The `jti` of a token (the middle segment's JSON).
fn jti(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

async fn revoke_as_session_client(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/oauth/revoke"))
        .form(&[("token", token), ("client_id", SESSION_CLIENT)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_session_token_dies_when_its_browser_signs_out() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    assert_eq!(me(&app, &token).await, 200);

    assert_eq!(app.sign_out().await.status(), 303);
    assert_eq!(me(&app, &token).await, 401, "the token outlived sign-out");
}

#[tokio::test]
async fn signing_out_one_browser_leaves_the_other_browsers_session_tokens_working() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let other = second_browser(&app, &email).await;
    let mine = app.session_token().await;
    let theirs = other.session_token().await;

    app.sign_out().await;
    assert_eq!(me(&app, &mine).await, 401);
    assert_eq!(me(&app, &theirs).await, 200);
    assert_eq!(other.get("/account").await.status(), 200);
}

#[tokio::test]
async fn a_session_token_dies_when_its_session_passes_its_absolute_lifetime() {
    let mut app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    assert_eq!(me(&app, &token).await, 200);

    // The same database and browser, served with an absolute lifetime the session is past.
    app.settings.session_max_hours = 0;
    let app = app.restart().await;
    assert_eq!(
        me(&app, &token).await,
        401,
        "the token outlived its session"
    );
    let res = app.get("/account").await;
    assert_eq!(res.status(), 303, "the browser session is over too");
    assert!(location(&res).starts_with("/signin"));
}

#[tokio::test]
async fn a_session_token_dies_when_its_session_goes_idle() {
    // No caching, so the expiry written into the database is seen at once.
    let app = spawn_app_with(|s| s.cache_ttl_ms = 0).await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    assert_eq!(me(&app, &token).await, 200);

    // Pretend the browser was last used more than the idle timeout ago.
    let idle = i64::from(app.settings.session_idle_minutes) * 60;
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        &format!("UPDATE sessions SET expires_at = expires_at - {}", idle + 1),
    )
    .await
    .unwrap();
    assert_eq!(
        me(&app, &token).await,
        401,
        "the token outlived an idle session"
    );
    assert_eq!(app.get("/account").await.status(), 303);
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_browser_and_every_session_token() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let other = second_browser(&app, &email).await;
    let mine = app.session_token().await;
    let theirs = other.session_token().await;
    assert_eq!(me(&other, &theirs).await, 200);

    let res = app
        .post_form("/account", "/account/sign-out-everywhere", &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/signin");

    assert_eq!(me(&app, &theirs).await, 401, "the other browser's token");
    assert_eq!(me(&app, &mine).await, 401, "this browser's token");
    assert_eq!(
        other.get("/account").await.status(),
        303,
        "the other browser is signed out"
    );
    assert_eq!(app.get("/account").await.status(), 303, "and this one");

    // The log says what happened.
    assert_eq!(app.sign_in(&email, PASSWORD).await.status(), 303);
    let admin = app.session_token().await;
    let events: Value = app
        .client
        .get(app.url("/api/v1/audit-events?limit=200"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let of_type = |t: &str| {
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event_type"] == t)
            .count()
    };
    assert_eq!(of_type("session.signed_out_everywhere"), 1);
    assert_eq!(of_type("session_token.revoked"), 2);
}

#[tokio::test]
async fn a_session_from_before_sessions_had_an_id_is_ended_by_signing_out_everywhere() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    // What a session signed in before this version looks like: no id, no indexed columns.
    let without_sid = match sea_orm::ConnectionTrait::get_database_backend(&app.db) {
        sea_orm::DatabaseBackend::Postgres => "(state::jsonb - 'sid')::text",
        _ => "json_remove(state, '$.sid')",
    };
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        &format!(
            "UPDATE sessions SET state = {without_sid}, \
             sid = NULL, user_id = NULL, signed_in_at = NULL"
        ),
    )
    .await
    .unwrap();
    assert_eq!(app.get("/account").await.status(), 200);

    let other = second_browser(&app, &email).await;
    let res = other
        .post_form("/account", "/account/sign-out-everywhere", &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.get("/account").await.status(), 303);
}

#[tokio::test]
async fn signing_out_everywhere_needs_the_form_token() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    let res = app
        .client
        .post(app.url("/account/sign-out-everywhere"))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(me(&app, &token).await, 200);
    assert_eq!(app.get("/account").await.status(), 200);
}

#[tokio::test]
async fn revoking_one_session_token_on_the_account_page_leaves_the_others_working() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let first = app.session_token().await;
    let second = app.session_token().await;
    let page = app.get_html("/account").await;
    assert_eq!(listed(&page), vec![jti(&second), jti(&first)]);

    let res = app
        .post_form(
            "/account",
            &format!("/account/session-tokens/{}/revoke", jti(&first)),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(me(&app, &first).await, 401);
    assert_eq!(me(&app, &second).await, 200);
    assert_eq!(listed(&app.get_html("/account").await), vec![jti(&second)]);
}

#[tokio::test]
async fn nobody_revokes_another_persons_session_token_from_their_account_page() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let victims = app.session_token().await;
    let attacker = TestApp::with_client(&app, client());
    attacker.signed_in_user().await;

    let res = attacker
        .post_form(
            "/account",
            &format!("/account/session-tokens/{}/revoke", jti(&victims)),
            &[],
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(me(&app, &victims).await, 200);
}

#[tokio::test]
async fn the_account_page_lists_session_tokens_by_browser_and_never_shows_them() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let other = second_browser(&app, &email).await;
    let res = app
        .post_form(
            "/settings/credentials",
            "/settings/credentials/session-token",
            &[("name", "swagger on laptop")],
        )
        .await;
    let res = app.reveal(res).await;
    assert_eq!(
        res.headers().get("cache-control").unwrap(),
        "no-store",
        "the reveal page must not be cached"
    );
    let mine = revealed(&res.text().await.unwrap());
    let theirs = other.session_token().await;

    let page = app.get_html("/account").await;
    assert_eq!(listed(&page), vec![jti(&theirs), jti(&mine)]);
    for token in [&mine, &theirs] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!page.contains(signature), "the page shows a token");
    }
    let mine_row = page.split(&jti(&mine)).nth(1).unwrap();
    assert!(mine_row.contains("swagger on laptop"));
    assert!(mine_row.contains("this browser"));
    let theirs_row = page.split(&jti(&theirs)).nth(1).unwrap();
    assert!(theirs_row.contains("another browser"));
    let other_page = other.get_html("/account").await;
    let theirs_row = other_page.split(&jti(&theirs)).nth(1).unwrap();
    assert!(theirs_row.contains("this browser"));
}

#[tokio::test]
async fn a_label_longer_than_a_hundred_characters_is_refused() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let res = app
        .post_form(
            "/settings/credentials",
            "/settings/credentials/session-token",
            &[("name", &"x".repeat(101))],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(!res.text().await.unwrap().contains("revealed-secret"));
    assert!(listed(&app.get_html("/account").await).is_empty());
}

#[tokio::test]
async fn the_session_client_revokes_a_session_token_with_the_token_alone() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    let kept = app.session_token().await;

    let res = revoke_as_session_client(&app, &token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    assert_eq!(me(&app, &token).await, 401);
    assert_eq!(me(&app, &kept).await, 200);
    assert_eq!(listed(&app.get_html("/account").await), vec![jti(&kept)]);
    // Again, or with garbage: still 200 (RFC 7009 §2.2).
    assert_eq!(revoke_as_session_client(&app, &token).await.status(), 200);
    assert_eq!(revoke_as_session_client(&app, "a.b.c").await.status(), 200);
}

#[tokio::test]
async fn the_session_client_cannot_revoke_api_keys_or_other_clients_tokens() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let session = app.session_token().await;
    let (_, api_key) = crate::helpers::create_api_key(&app, &session, "k", &["read"]).await;
    let machine = machine_client(&app).await;
    let machine_token = json(client_credentials(&app, &machine).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resource_server = crate::oauth_helpers::resource_server(&app).await;

    for token in [api_key.as_str(), machine_token.as_str()] {
        assert_eq!(revoke_as_session_client(&app, token).await.status(), 200);
    }
    assert_eq!(me(&app, &api_key).await, 200, "the API key still works");
    assert_eq!(
        introspect(&app, &resource_server, &machine_token).await["active"],
        true,
        "the other client's token is still active"
    );

    // With a secret the pseudo-client is an unknown client, not a way around authentication.
    let res = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[
            ("token", session.as_str()),
            ("client_id", SESSION_CLIENT),
            ("client_secret", "guess"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(me(&app, &session).await, 200);
}

#[tokio::test]
async fn a_real_client_still_cannot_revoke_a_session_token() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    let c = confidential(&app).await;
    let res = app
        .client
        .post(app.url("/oauth/revoke"))
        .header("authorization", c.basic())
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(me(&app, &token).await, 200);
}

crate::helpers::on_both_backends!(
    session_tokens_end_with_their_session_on_either_database,
    |app: TestApp| async move {
        let email = app.signed_in_user().await;
        let other = second_browser(&app, &email).await;
        let first = app.session_token().await;
        let second = app.session_token().await;
        let theirs = other.session_token().await;
        assert_eq!(
            listed(&app.get_html("/account").await),
            vec![jti(&theirs), jti(&second), jti(&first)]
        );
        assert_eq!(revoke_as_session_client(&app, &first).await.status(), 200);
        assert_eq!(me(&app, &first).await, 401);
        app.sign_out().await;
        assert_eq!(me(&app, &second).await, 401);
        assert_eq!(me(&app, &theirs).await, 200);
        let res = other
            .post_form("/account", "/account/sign-out-everywhere", &[])
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(me(&app, &theirs).await, 401);
    }
);

#[tokio::test]
async fn a_session_removed_while_a_request_was_in_flight_comes_back_signed_out() {
    use actix_session::storage::SessionStore;
    use portcullis::storage::sessions::{DbSessionStore, STATE_SID, STATE_USER_ID};

    let app = spawn_app().await;
    let store = DbSessionStore::new(app.db.clone(), app.clock.clone());
    let ttl = actix_web::cookie::time::Duration::minutes(5);
    let state: std::collections::HashMap<String, String> = [
        (STATE_USER_ID.to_owned(), "\"someone\"".to_owned()),
        (STATE_SID.to_owned(), "\"sid-1\"".to_owned()),
        ("csrf".to_owned(), "\"x\"".to_owned()),
    ]
    .into();
    let key = store.save(state.clone(), &ttl).await.unwrap();
    // "Sign out everywhere" removes the row while a request of that browser is being handled;
    // the request then saves its changed state.
    store.delete(&key).await.unwrap();
    let key = store.update(key, state, &ttl).await.unwrap();
    let revived = store.load(&key).await.unwrap().unwrap();
    assert!(!revived.contains_key(STATE_USER_ID), "{revived:?}");
    assert!(!revived.contains_key(STATE_SID), "{revived:?}");
    assert_eq!(revived["csrf"], "\"x\"");
}
