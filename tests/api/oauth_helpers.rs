//! Helpers for the OAuth tests: registering clients, PKCE pairs, and walking the browser side of
//! the authorization-code flow with the test's HTTP client.

#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use portcullis::domain::client::{self, GrantType, NewClient};
use portcullis::domain::context::{Actor, Context};
use portcullis::runtime::audit_writer::Auditor;
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, csrf_token, location};

pub const REDIRECT: &str = "https://app.example/callback";

/// A registered client.
pub struct TestClient {
    pub id: String,
    pub secret: Option<String>,
}

impl TestClient {
    pub fn basic(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!(
                "{}:{}",
                self.id,
                self.secret.as_deref().unwrap_or("")
            ))
        )
    }
}

/// Registers a client directly through the domain (as the CLI does).
pub async fn register(
    app: &TestApp,
    scope: &str,
    public: bool,
    grants: &[GrantType],
) -> TestClient {
    let new = NewClient {
        name: "Test App".into(),
        redirect_uris: vec![REDIRECT.into(), "http://127.0.0.1/cb".into()],
        scope: scope.into(),
        public,
        grants: grants.to_vec(),
        oidc: Default::default(),
        access_token_format: Default::default(),
    };
    register_new(app, new).await
}

/// Registers `new` directly through the domain (as the CLI does).
pub async fn register_new(app: &TestApp, new: NewClient) -> TestClient {
    let ctx = Context::new(
        app.db.clone(),
        Default::default(),
        portcullis::startup::load_hasher(&app.db).await.unwrap(),
        Auditor::start(portcullis::storage::writer::Writer::direct(&app.db)),
        Default::default(),
    );
    let reg = client::register(&ctx, Actor::CommandLine, new)
        .await
        .unwrap();
    ctx.flush().await;
    TestClient {
        id: reg.client.id,
        secret: reg.secret.map(|s| s.expose().to_owned()),
    }
}

/// A confidential client that may only use `client_credentials`, with the `read` scope.
pub async fn machine_client(app: &TestApp) -> TestClient {
    register(app, "read", false, &[GrantType::ClientCredentials]).await
}

/// `POST /oauth/token` with `client_credentials` and Basic auth.
pub async fn client_credentials(app: &TestApp, c: &TestClient) -> reqwest::Response {
    app.client
        .post(app.url("/oauth/token"))
        .header("authorization", c.basic())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

pub async fn confidential(app: &TestApp) -> TestClient {
    register(app, "read write admin", false, &[]).await
}

/// Runs `portcullis client create <args> --json` on the app's database, as an operator would on
/// the server, and returns the client it printed.
pub async fn cli_client(app: &TestApp, args: &[&str]) -> TestClient {
    cli_client_on(app.settings.database_url.expose(), args).await
}

/// Runs `portcullis client create <args> --json` on the database at `database_url`.
pub async fn cli_client_on(database_url: &str, args: &[&str]) -> TestClient {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.args(["client", "create", "--json"])
        .args(args)
        .env("PORTCULLIS_DATABASE_URL", database_url);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "client create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    TestClient {
        id: printed["client_id"].as_str().unwrap().to_owned(),
        secret: printed["client_secret"].as_str().map(str::to_owned),
    }
}

/// A confidential client (read, write, admin; the default grants) that the operator created as
/// a resource server (`portcullis client create --resource-server`): it may introspect every
/// token and long-lived credential, not only its own tokens.
pub async fn resource_server(app: &TestApp) -> TestClient {
    cli_client(
        app,
        &[
            "--name",
            "Resource Server",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "read write admin",
            "--resource-server",
        ],
    )
    .await
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = format!("v{}", portcullis::secret::random_token::<40>());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn authorize_path(
    client_id: &str,
    scope: &str,
    state: &str,
    challenge: Option<&str>,
) -> String {
    let mut pairs = vec![
        ("response_type", "code".to_owned()),
        ("client_id", client_id.to_owned()),
        ("redirect_uri", REDIRECT.to_owned()),
        ("scope", scope.to_owned()),
        ("state", state.to_owned()),
    ];
    if let Some(c) = challenge {
        pairs.push(("code_challenge", c.to_owned()));
        pairs.push(("code_challenge_method", "S256".to_owned()));
    }
    format!(
        "/oauth/authorize?{}",
        serde_urlencoded::to_string(pairs).unwrap()
    )
}

/// Query parameters of a redirect Location.
pub fn query_of(location: &str) -> Vec<(String, String)> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

pub fn q<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Opens the consent page and answers it; returns the redirect Location.
pub async fn consent(app: &TestApp, path: &str, decision: &str) -> String {
    let page = app.get(path).await;
    assert_eq!(page.status(), 200, "consent page expected");
    let csrf = csrf_token(&page.text().await.unwrap());
    let res = app
        .client
        .post(app.url(path))
        .form(&[("csrf_token", csrf.as_str()), ("decision", decision)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    location(&res)
}

/// Signs a fresh user in, approves `scope` for the client with PKCE, returns (code, verifier).
pub async fn obtain_code(app: &TestApp, c: &TestClient, scope: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let path = authorize_path(&c.id, scope, "xyz", Some(&challenge));
    let first = app.get(&path).await;
    let loc = if first.status() == 303 {
        location(&first) // consent remembered
    } else {
        consent(app, &path, "allow").await
    };
    let pairs = query_of(&loc);
    assert_eq!(q(&pairs, "state"), Some("xyz"));
    (
        q(&pairs, "code").expect("code in redirect").to_owned(),
        verifier,
    )
}

/// Exchanges a code at the token endpoint with Basic auth.
pub async fn exchange(
    app: &TestApp,
    c: &TestClient,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    let mut req = app.client.post(app.url("/oauth/token"));
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    if c.secret.is_some() {
        req = req.header("authorization", c.basic());
    } else {
        form.push(("client_id", &c.id));
    }
    req.form(&form).send().await.unwrap()
}

pub async fn refresh(
    app: &TestApp,
    c: &TestClient,
    token: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    app.client
        .post(app.url("/oauth/token"))
        .header("authorization", c.basic())
        .form(&form)
        .send()
        .await
        .unwrap()
}

pub async fn introspect(app: &TestApp, c: &TestClient, token: &str) -> serde_json::Value {
    let res = app
        .client
        .post(app.url("/oauth/introspect"))
        .header("authorization", c.basic())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

pub async fn json(res: reqwest::Response) -> serde_json::Value {
    res.json().await.unwrap()
}
