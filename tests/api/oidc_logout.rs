//! RP-Initiated Logout 1.0 at `/oauth/logout`: a hint naming this browser session signs out at
//! once and follows the app's registered post-logout URI with its state; anything less asks the
//! person first; an unregistered or unanchored post-logout URI, a forged hint or a mismatched
//! client is refused on a page, never redirected.

use crate::helpers::{TestApp, client, csrf_token, location, spawn_app};
use crate::oauth_helpers::*;
use crate::oidc::{payload, tokens_with_nonce};

const SIGNED_OUT: &str = "https://app.example/signed-out";

/// An app allowed the identity scopes that registered `SIGNED_OUT` (from the command line).
async fn logout_client(app: &TestApp) -> TestClient {
    cli_client(
        app,
        &[
            "--name",
            "Logout App",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid profile email",
            "--post-logout-redirect-uri",
            SIGNED_OUT,
        ],
    )
    .await
}

/// A signed-in person, an app, and an ID token issued to the app in this browser session.
async fn signed_in_with_id_token(app: &TestApp) -> (TestClient, String) {
    app.signed_in_user().await;
    let c = logout_client(app).await;
    let tokens = tokens_with_nonce(app, &c, "openid email", "n").await;
    (c, tokens["id_token"].as_str().unwrap().to_owned())
}

fn logout_path(pairs: &[(&str, &str)]) -> String {
    format!(
        "/oauth/logout?{}",
        serde_urlencoded::to_string(pairs).unwrap()
    )
}

async fn is_signed_in(app: &TestApp) -> bool {
    app.get("/account").await.status() == 200
}

#[tokio::test]
async fn discovery_names_the_end_session_endpoint() {
    let app = spawn_app().await;
    let doc: serde_json::Value = json(app.get("/.well-known/openid-configuration").await).await;
    assert_eq!(
        doc["end_session_endpoint"],
        format!("{}/oauth/logout", app.address)
    );
}

#[tokio::test]
async fn a_hint_for_this_session_signs_out_at_once_and_returns_to_the_app_with_its_state() {
    let app = spawn_app().await;
    let (_, id_token) = signed_in_with_id_token(&app).await;
    let session_token = app.session_token().await;
    assert!(payload(&id_token)["sid"].is_string());
    let me = |t: String| {
        let http = app.client.clone();
        let url = app.url("/v1/users/me");
        async move { http.get(url).bearer_auth(t).send().await.unwrap().status() }
    };
    assert_eq!(me(session_token.clone()).await, 200);

    let res = app
        .get(&logout_path(&[
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", SIGNED_OUT),
            ("state", "bye now"),
        ]))
        .await;
    assert_eq!(res.status(), 303);
    let to = url::Url::parse(&location(&res)).unwrap();
    assert_eq!(to.as_str().split('?').next(), Some(SIGNED_OUT));
    assert_eq!(q(&query_of(to.as_str()), "state"), Some("bye now"));
    assert!(!is_signed_in(&app).await, "the browser session ended");
    assert_eq!(
        me(session_token).await,
        401,
        "the session's tokens ended with it"
    );
}

#[tokio::test]
async fn without_a_hint_the_person_confirms_and_the_confirmation_needs_its_form_token() {
    let app = spawn_app().await;
    let c = {
        app.signed_in_user().await;
        logout_client(&app).await
    };
    let path = logout_path(&[
        ("client_id", &c.id),
        ("post_logout_redirect_uri", SIGNED_OUT),
        ("state", "s1"),
    ]);
    let page = app.get(&path).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Logout App"), "names the app");
    assert!(html.contains("action=\"/oauth/logout/confirm\""));
    assert!(is_signed_in(&app).await, "nothing ends before the answer");

    let fields = [
        ("client_id", c.id.as_str()),
        ("post_logout_redirect_uri", SIGNED_OUT),
        ("state", "s1"),
    ];
    let forged = app
        .client
        .post(app.url("/oauth/logout/confirm"))
        .form(&[fields.as_slice(), &[("csrf_token", "forged")]].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(is_signed_in(&app).await);

    let token = csrf_token(&html);
    let res = app
        .client
        .post(app.url("/oauth/logout/confirm"))
        .form(&[fields.as_slice(), &[("csrf_token", token.as_str())]].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("{SIGNED_OUT}?state=s1"));
    assert!(!is_signed_in(&app).await);
}

#[tokio::test]
async fn a_hint_from_another_browser_session_asks_first() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let c = logout_client(&app).await;
    let other = TestApp::with_client(&app, client());
    assert_eq!(
        other
            .sign_in(&email, "correct horse battery")
            .await
            .status(),
        303
    );
    let other_hint = tokens_with_nonce(&other, &c, "openid", "n").await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .get(&logout_path(&[("id_token_hint", &other_hint)]))
        .await;
    assert_eq!(res.status(), 200, "a confirmation page, not a sign-out");
    assert!(is_signed_in(&app).await);
    assert!(is_signed_in(&other).await);
}

#[tokio::test]
async fn an_unregistered_post_logout_uri_is_refused_on_a_page_and_signs_nobody_out() {
    let app = spawn_app().await;
    let (c, id_token) = signed_in_with_id_token(&app).await;
    for pairs in [
        vec![
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        // Exact matching: no trailing slash, no extra query.
        vec![
            ("client_id", c.id.as_str()),
            (
                "post_logout_redirect_uri",
                "https://app.example/signed-out/",
            ),
        ],
        vec![
            ("client_id", c.id.as_str()),
            (
                "post_logout_redirect_uri",
                "https://app.example/signed-out?x=1",
            ),
        ],
        // A registered URI, but no app named to hold it to.
        vec![("post_logout_redirect_uri", SIGNED_OUT)],
    ] {
        let res = app.get(&logout_path(&pairs)).await;
        assert_eq!(res.status(), 400, "{pairs:?}");
        assert!(res.headers().get("location").is_none(), "{pairs:?}");
        assert!(is_signed_in(&app).await, "{pairs:?}");
    }
}

#[tokio::test]
async fn a_forged_hint_or_a_client_id_that_is_not_its_audience_is_refused() {
    let app = spawn_app().await;
    let (_, id_token) = signed_in_with_id_token(&app).await;
    let other = register(&app, "openid", false, &[]).await;

    let (signed, sig) = id_token.rsplit_once('.').unwrap();
    let tampered = format!("{signed}.{}", sig.chars().rev().collect::<String>());
    let access = tokens_with_nonce(&app, &other, "openid", "n").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for pairs in [
        vec![("id_token_hint", tampered.as_str())],
        vec![("id_token_hint", "not-a-token")],
        vec![("id_token_hint", access.as_str())],
        vec![
            ("id_token_hint", id_token.as_str()),
            ("client_id", &other.id),
        ],
        vec![("client_id", "cli_unknown")],
    ] {
        let res = app.get(&logout_path(&pairs)).await;
        assert_eq!(res.status(), 400, "{pairs:?}");
        assert!(res.headers().get("location").is_none());
    }
    assert!(is_signed_in(&app).await);
}

#[tokio::test]
async fn an_app_may_post_the_request_and_it_continues_with_the_browsers_cookie() {
    let app = spawn_app().await;
    let (_, id_token) = signed_in_with_id_token(&app).await;
    let res = app
        .client
        .post(app.url("/oauth/logout"))
        .form(&[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", SIGNED_OUT),
            ("state", "p"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let next = location(&res);
    assert!(next.starts_with("/oauth/logout?"), "{next}");
    assert!(
        is_signed_in(&app).await,
        "a cross-site post alone ends nothing"
    );
    let done = app.get(&next).await;
    assert_eq!(location(&done), format!("{SIGNED_OUT}?state=p"));
    assert!(!is_signed_in(&app).await);
}

#[tokio::test]
async fn someone_already_signed_out_is_sent_on_to_the_app() {
    let app = spawn_app().await;
    let (_, id_token) = signed_in_with_id_token(&app).await;
    app.sign_out().await;
    let res = app
        .get(&logout_path(&[
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", SIGNED_OUT),
        ]))
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), SIGNED_OUT);
    // Without a post-logout URI: the sign-in page.
    let res = app.get(&logout_path(&[("id_token_hint", &id_token)])).await;
    assert_eq!(location(&res), "/signin");
}
