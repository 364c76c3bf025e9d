//! Portcullis driven by third-party software: the `oauth2` crate as a client application, and a
//! real browser approving the consent page.

use std::time::Duration;

use fantoccini::Locator;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse, TokenUrl,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::browser::{click, fill, screenshot, wait_for_path, with_browser};
use crate::helpers::{TestApp, location, spawn_app};
use crate::oauth::verify_with_jwks;
use crate::oauth_helpers::*;

#[derive(Debug)]
pub struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

/// The `oauth2` crate's HTTP hook, served by reqwest.
pub async fn send(
    http: reqwest::Client,
    req: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, HttpError> {
    let req = reqwest::Request::try_from(req).map_err(|e| HttpError(e.to_string()))?;
    let res = http
        .execute(req)
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    let mut builder = http::Response::builder().status(res.status());
    for (k, v) in res.headers() {
        builder = builder.header(k, v);
    }
    let body = res
        .bytes()
        .await
        .map_err(|e| HttpError(e.to_string()))?
        .to_vec();
    builder.body(body).map_err(|e| HttpError(e.to_string()))
}

#[tokio::test]
async fn the_oauth2_crate_completes_code_with_pkce_and_refresh() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let c = confidential(&app).await;
    let client = BasicClient::new(ClientId::new(c.id.clone()))
        .set_client_secret(ClientSecret::new(c.secret.clone().unwrap()))
        .set_auth_uri(AuthUrl::new(app.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read".into()))
        .add_scope(Scope::new("write".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The person's browser: open the URL, approve.
    let path = format!("{}?{}", auth_url.path(), auth_url.query().unwrap());
    let loc = consent(&app, &path, "allow").await;
    let pairs = query_of(&loc);
    assert_eq!(q(&pairs, "state"), Some(state.secret().as_str()));
    let code = q(&pairs, "code").unwrap().to_owned();

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let hook = |req| send(http.clone(), req);
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&hook)
        .await
        .expect("code exchange");
    assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
    let claims = verify_with_jwks(&app, token.access_token().secret()).await;
    assert_eq!(claims["client_id"], c.id.as_str());
    assert_eq!(claims["scope"], "read write");
    let me: serde_json::Value = app
        .client
        .get(app.url("/v1/users/me"))
        .bearer_auth(token.access_token().secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["email"], email.as_str());

    let refreshed = client
        .exchange_refresh_token(token.refresh_token().unwrap())
        .request_async(&hook)
        .await
        .expect("refresh");
    verify_with_jwks(&app, refreshed.access_token().secret()).await;
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        token.refresh_token().unwrap().secret()
    );
}

/// A one-shot HTTP listener standing in for the app's redirect URI: answers the first request
/// and hands back its path and query.
async fn redirect_listener() -> (u16, tokio::sync::oneshot::Receiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut tx = Some(tx);
        // Browsers may also ask for /favicon.ico: answer everything, report the callback.
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            let target = head
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 24\r\nconnection: close\r\n\r\n<h1>Signed in to app</h1>").await;
            if target.starts_with("/cb")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(target);
            }
        }
    });
    (port, rx)
}

#[tokio::test]
async fn a_person_approves_an_app_in_a_real_browser_and_the_app_gets_tokens() {
    let app: TestApp = spawn_app().await;
    let email = app.signed_in_user().await;
    app.sign_out().await;
    let c = register(&app, "read email:read", false, &[]).await;
    let (port, callback) = redirect_listener().await;
    let redirect = format!("http://127.0.0.1:{port}/cb");
    let (verifier, challenge) = pkce();
    let authorize = format!(
        "{}/oauth/authorize?{}",
        app.address,
        serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", c.id.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("scope", "read email:read"),
            ("state", "browser-state"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .unwrap()
    );
    with_browser("oauth-consent", move |b| async move {
        b.goto(&authorize).await.unwrap();
        wait_for_path(&b, "/signin").await;
        fill(&b, "email", &email).await;
        fill(&b, "password", "correct horse battery").await;
        click(&b, "form[action='/signin'] button[type=submit]").await;
        wait_for_path(&b, "/oauth/authorize").await;
        let app_name = b
            .find(Locator::Id("consent-app"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(app_name, "Test App");
        let scopes = b
            .find(Locator::Id("consent-scopes"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(scopes.contains("Read your email address"));
        screenshot(&b, "oauth-consent").await;
        click(&b, "#consent-allow").await;
        wait_for_path(&b, "/cb").await;
    })
    .await;

    let target = tokio::time::timeout(Duration::from_secs(5), callback)
        .await
        .expect("callback reached")
        .unwrap();
    let pairs = query_of(&format!("http://x{target}"));
    assert_eq!(q(&pairs, "state"), Some("browser-state"));
    assert_eq!(q(&pairs, "iss"), Some(app.address.as_str()));
    let code = q(&pairs, "code").unwrap();
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("authorization", c.basic())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "email:read read");
    let _ = location;
}
