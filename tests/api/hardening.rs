//! Hardening: many concurrent writers, a server killed mid-write, and logs that never hold a
//! secret. The last two run the real `portcullis` binary as a child process.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::cookie::CookieStore as _;
use reqwest::redirect::Policy;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, csrf_token, location, revealed};
use crate::helpers::on_both_backends;

const REDIRECT: &str = "https://app.example/callback";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

// ---------------------------------------------------------------- concurrent writers

const WRITERS: usize = 64;

on_both_backends!(
    sixty_four_concurrent_writers_with_one_token_all_succeed,
    |app: TestApp| async move {
        app.signed_in_user().await;
        let session = app.session_token().await;
        let key = |i: usize| {
            app.client
                .post(app.url("/api/v1/active/api-keys"))
                .bearer_auth(&session)
                .json(&json!({"name": format!("key {i}"), "permissions": ["read", "write"]}))
                .send()
        };
        let pat = |i: usize| {
            app.client
                .post(app.url("/api/v1/active/tokens/"))
                .bearer_auth(&session)
                .json(&json!({"name": format!("token {i}"), "expiry_date": "2099-01-01T00:00:00Z"}))
                .send()
        };
        let (keys, pats) = futures_util::future::join(
            futures_util::future::join_all((0..WRITERS).map(key)),
            futures_util::future::join_all((0..WRITERS).map(pat)),
        )
        .await;
        for res in keys.into_iter().chain(pats) {
            let res = res.unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            assert_eq!(status, 201, "{text}");
        }
        for (path, field) in [
            ("/api/v1/active/api-keys?limit=200", "key"),
            ("/api/v1/active/tokens/?limit=200", "token"),
        ] {
            let list: Value = app
                .client
                .get(app.url(path))
                .bearer_auth(&session)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let items = list["data"].as_array().unwrap();
            assert_eq!(items.len(), WRITERS, "{path}");
            let mut names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), WRITERS, "every {field} stored once");
        }
    }
);

// ---------------------------------------------------------------- the real binary

fn portcullis() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    // Only what each test sets, whatever the surrounding environment holds.
    for (name, _) in std::env::vars() {
        if name.starts_with("PORTCULLIS_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

pub(crate) fn sqlite_url(dir: &Path, file: &str) -> String {
    format!("sqlite://{}/{file}?mode=rwc", dir.display())
}

/// A `portcullis serve` child process, killed (SIGKILL) when dropped.
pub(crate) struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts the binary on a free loopback port and waits until `/healthz` answers. Its
    /// standard output and error are appended to `stdout.log` and `stderr.log` in `logs`.
    pub(crate) async fn start(db_url: &str, env: &[(&str, &str)], logs: &Path) -> Server {
        let open = |name: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(logs.join(name))
                .unwrap()
        };
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = portcullis()
                .arg("serve")
                .env("PORTCULLIS_BIND", format!("127.0.0.1:{port}"))
                .env("PORTCULLIS_DATABASE_URL", db_url)
                .env("PORTCULLIS_WORKERS", "2")
                .env("PORTCULLIS_LOG", "warn")
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(open("stdout.log"))
                .stderr(open("stderr.log"))
                .spawn()
                .unwrap();
            let mut server = Server {
                child,
                base: format!("http://127.0.0.1:{port}"),
            };
            match server.ready().await {
                Ok(()) => return server,
                // Most likely the port was taken between probing and binding: try another.
                Err(Some(_)) => continue,
                Err(None) => break,
            }
        }
        panic!(
            "the server did not start:\n{}",
            std::fs::read_to_string(logs.join("stderr.log")).unwrap_or_default()
        );
    }

    /// Waits for `/healthz`; `Err(Some(status))` when the process exited first.
    async fn ready(&mut self) -> Result<(), Option<std::process::ExitStatus>> {
        let probe = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Err(Some(status));
            }
            if let Ok(res) = probe.get(format!("{}/healthz", self.base)).send().await
                && res.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(None)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM, then wait for the graceful shutdown to finish.
    pub(crate) fn stop(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no shutdown handler runs.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(crate) fn create_admin(db_url: &str, email: &str, password: &str) {
    let mut child = portcullis()
        .args([
            "user", "create", "--email", email, "--name", "Admin", "--admin",
        ])
        .env("PORTCULLIS_DATABASE_URL", db_url)
        .env("PORTCULLIS_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A browser: cookies kept (and readable), redirects not followed.
pub(crate) fn browser() -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    (client, jar)
}

/// Posts a form with the CSRF token of `page`.
pub(crate) async fn post_form(
    client: &reqwest::Client,
    server: &Server,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let html = client
        .get(server.url(page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_token(&html);
    let mut all = fields.to_vec();
    all.push(("csrf_token", &csrf));
    client
        .post(server.url(action))
        .form(&all)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn sign_in(
    client: &reqwest::Client,
    server: &Server,
    email: &str,
    password: &str,
) {
    let res = post_form(
        client,
        server,
        "/signin",
        "/signin",
        &[("email", email), ("password", password)],
    )
    .await;
    assert_eq!(res.status(), 303, "sign-in");
}

pub(crate) async fn session_token(client: &reqwest::Client, server: &Server) -> String {
    let res = post_form(
        client,
        server,
        "/settings/credentials",
        "/settings/credentials/session-token",
        &[],
    )
    .await;
    assert_eq!(res.status(), 303, "to the one-time reveal");
    let page = client
        .get(server.url("/settings/reveal"))
        .send()
        .await
        .unwrap();
    revealed(&page.text().await.unwrap())
}

async fn json_ok(res: reqwest::Response, expected: u16) -> Value {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(status, expected, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn me_status(client: &reqwest::Client, server: &Server, bearer: &str) -> u16 {
    client
        .get(server.url("/v1/users/me"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

pub(crate) async fn integrity_check(db_url: &str) -> String {
    let db = Database::connect(db_url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap();
    let verdict: String = row.try_get("", "integrity_check").unwrap();
    db.close().await.unwrap();
    verdict
}

// ---------------------------------------------------------------- crash safety

/// What the load saw before the kill.
#[derive(Default)]
struct Acknowledged {
    /// (id, key) of every API key whose creation answered 201 with its body.
    keys: Vec<(String, String)>,
    /// Tokens issued (login and token exchange).
    tokens: usize,
    /// Any answer that was neither the expected success nor a dropped connection.
    unexpected: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_acknowledged_before_a_sigkill_survive_it_and_the_database_stays_intact() {
    crate::helpers::sqlite_only!("SIGKILL during writes, then SQLite's own integrity check on the file");
    let tmp = tempfile::Builder::new()
        .prefix("pc-crash")
        .tempdir()
        .unwrap();
    let db_url = sqlite_url(tmp.path(), "crash.db");
    create_admin(&db_url, "root@example.com", "a long admin password");
    let mut server = Server::start(&db_url, &[], tmp.path()).await;
    let (client, _) = browser();
    sign_in(
        &client,
        &server,
        "root@example.com",
        "a long admin password",
    )
    .await;
    let session = session_token(&client, &server).await;
    let pt = json_ok(
        client
            .post(server.url("/api/v1/active/personal-token"))
            .bearer_auth(&session)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let exchanged = json_ok(
        client
            .post(server.url("/api/v1/active/api-keys"))
            .bearer_auth(&session)
            .json(&json!({"name": "exchanged", "permissions": ["read"]}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let seen = Arc::new(Mutex::new(Acknowledged::default()));
    let mut load = Vec::new();
    for writer in 0..6 {
        let (client, seen, session) = (client.clone(), seen.clone(), session.clone());
        let url = server.url("/api/v1/active/api-keys");
        load.push(tokio::spawn(async move {
            for i in 0.. {
                let sent = client
                    .post(&url)
                    .bearer_auth(&session)
                    .json(&json!({"name": format!("w{writer}-{i}"), "permissions": ["read"]}))
                    .send()
                    .await;
                let Ok(res) = sent else { break };
                let status = res.status();
                let Ok(body) = res.json::<Value>().await else {
                    break; // killed while the body was on its way: not acknowledged
                };
                let mut seen = seen.lock().unwrap();
                if status == 201 {
                    let id = body["id"].as_str().unwrap().to_owned();
                    seen.keys
                        .push((id, body["key"].as_str().unwrap().to_owned()));
                } else {
                    seen.unexpected.push(format!("create: {status} {body}"));
                }
            }
        }));
    }
    for issuer in 0..4 {
        let (client, seen) = (client.clone(), seen.clone());
        let (pt, exchanged) = (pt.clone(), exchanged.clone());
        let base = server.base.clone();
        load.push(tokio::spawn(async move {
            loop {
                let sent = if issuer % 2 == 0 {
                    client
                        .post(format!("{base}/api/v0/login"))
                        .bearer_auth(&pt)
                        .send()
                        .await
                } else {
                    client
                        .post(format!("{base}/oauth/token"))
                        .form(&[
                            ("grant_type", TOKEN_EXCHANGE),
                            ("subject_token", &exchanged),
                            ("subject_token_type", ACCESS_TOKEN_TYPE),
                        ])
                        .send()
                        .await
                };
                let Ok(res) = sent else { break };
                let status = res.status();
                let Ok(text) = res.text().await else { break };
                let mut seen = seen.lock().unwrap();
                if status == 200 {
                    seen.tokens += 1;
                } else {
                    seen.unexpected.push(format!("token: {status} {text}"));
                }
            }
        }));
    }

    // Let the load run until a good number of keys exist, then pull the plug mid-stream.
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen.lock().unwrap().keys.len() < 40 {
        assert!(Instant::now() < deadline, "the load made no progress");
        assert!(
            seen.lock().unwrap().unexpected.is_empty(),
            "{:?}",
            seen.lock().unwrap().unexpected
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(25)).await;
    server.kill();
    for task in load {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("a load task hung after the kill")
            .unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(seen.unexpected.is_empty(), "{:?}", seen.unexpected);
    assert!(seen.tokens > 0, "tokens were issued during the load");
    assert!(seen.keys.len() >= 40);

    assert_eq!(integrity_check(&db_url).await, "ok", "after the kill");

    let server = Server::start(&db_url, &[], tmp.path()).await;
    let (client, _) = browser();
    for (id, key) in &seen.keys {
        assert_eq!(
            me_status(&client, &server, key).await,
            200,
            "key {id}, acknowledged before the kill, works after the restart"
        );
    }
    // The server keeps working normally on the recovered database.
    sign_in(
        &client,
        &server,
        "root@example.com",
        "a long admin password",
    )
    .await;
    let session = session_token(&client, &server).await;
    let after = json_ok(
        client
            .post(server.url("/api/v1/active/api-keys"))
            .bearer_auth(&session)
            .json(&json!({"name": "after", "permissions": ["read"]}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(
        me_status(&client, &server, after["key"].as_str().unwrap()).await,
        200
    );
    drop(server);
    assert_eq!(integrity_check(&db_url).await, "ok", "after the restart");
}

// ---------------------------------------------------------------- secrets stay out of logs

/// A secret the server saw, and the fragments of it that must not be logged either.
struct Secret {
    what: &'static str,
    value: String,
}

impl Secret {
    fn new(what: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        assert!(!value.is_empty(), "{what} is empty");
        Self { what, value }
    }

    /// The value, and what identifies it on its own: the random part of a Portcullis secret
    /// (past the 4 characters its public prefix shows) and a JWT's signature.
    fn fragments(&self) -> Vec<&str> {
        let v = self.value.as_str();
        let mut out = vec![v];
        let kinds = portcullis::domain::secret_format::Kind::ALL;
        if let Some(kind) = kinds.iter().find(|k| v.starts_with(k.prefix()))
            && v.len() > kind.prefix().len() + 4
        {
            out.push(&v[kind.prefix().len() + 4..]);
        } else if v.split('.').count() == 3 {
            out.push(v.rsplit('.').next().unwrap());
        }
        out
    }
}

/// Every kind of secret, issued through HTTP and used once, against a server logging at debug.
async fn run_every_secret_past_a_debug_log(format: &str) {
    let tmp = tempfile::Builder::new()
        .prefix("pc-logs")
        .tempdir()
        .unwrap();
    let db_url = crate::helpers::suite_database_url(tmp.path(), "logs.db").await;
    let logs: PathBuf = tmp.path().join("out");
    std::fs::create_dir(&logs).unwrap();
    let mut secrets: Vec<Secret> = Vec::new();

    // An OAuth client, registered from the command line before the server starts.
    let out = portcullis()
        .args([
            "client",
            "create",
            "--name",
            "Log App",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "read write admin",
            "--json",
        ])
        .env("PORTCULLIS_DATABASE_URL", &db_url)
        .env("PORTCULLIS_LOG", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let registered: Value = serde_json::from_slice(&out.stdout).unwrap();
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let client_secret = registered["client_secret"].as_str().unwrap().to_owned();
    secrets.push(Secret::new("OAuth client secret", &client_secret));
    // A machine client with opaque access tokens.
    let out = portcullis()
        .args(["client", "create", "--name", "Opaque Log App", "--json"])
        .args(["--grant", "client_credentials", "--token-format", "opaque"])
        .env("PORTCULLIS_DATABASE_URL", &db_url)
        .env("PORTCULLIS_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success());
    let registered: Value = serde_json::from_slice(&out.stdout).unwrap();
    let opaque_id = registered["client_id"].as_str().unwrap().to_owned();
    let opaque_secret = registered["client_secret"].as_str().unwrap().to_owned();
    secrets.push(Secret::new("OAuth client secret", &opaque_secret));

    let server = Server::start(
        &db_url,
        &[
            ("PORTCULLIS_LOG", "debug"),
            ("PORTCULLIS_LOG_FORMAT", format),
        ],
        &logs,
    )
    .await;
    let (client, jar) = browser();
    let http = client.clone();

    // Passwords: at sign-up, a failed sign-in and a good one.
    let email = "owner@example.com";
    let password = "Tr0ub4dor-and-3-horses-staple";
    let wrong = "Wr0ng-horse-battery-staple-9";
    secrets.push(Secret::new("password", password));
    secrets.push(Secret::new("wrong password", wrong));
    let res = post_form(
        &client,
        &server,
        "/signup",
        "/signup",
        &[("email", email), ("name", "Owner"), ("password", password)],
    )
    .await;
    assert_eq!(res.status(), 303, "sign-up");
    let res = post_form(&client, &server, "/account", "/signout", &[]).await;
    assert!(res.status().is_redirection());
    let res = post_form(
        &client,
        &server,
        "/signin",
        "/signin",
        &[("email", email), ("password", wrong)],
    )
    .await;
    assert_eq!(res.status(), 401);
    sign_in(&client, &server, email, password).await;
    let cookies = jar
        .cookies(&server.base.parse().unwrap())
        .expect("a session cookie");
    for pair in cookies.to_str().unwrap().split("; ") {
        if let Some((_, value)) = pair.split_once('=')
            && value.len() >= 16
        {
            secrets.push(Secret::new("session cookie", value));
        }
    }

    let session = session_token(&client, &server).await;
    secrets.push(Secret::new("session token", &session));
    assert_eq!(me_status(&http, &server, &session).await, 200);

    // API keys, live and test, and a mistyped one.
    let mut live = String::new();
    for env in ["live", "test"] {
        let created = json_ok(
            http.post(server.url("/api/v1/active/api-keys"))
                .bearer_auth(&session)
                .json(&json!({"name": env, "permissions": ["read", "admin"], "environment": env}))
                .send()
                .await
                .unwrap(),
            201,
        )
        .await;
        let key = created["key"].as_str().unwrap().to_owned();
        assert_eq!(me_status(&http, &server, &key).await, 200);
        secrets.push(Secret::new("API key", &key));
        if env == "live" {
            live = key;
        }
    }
    let mut typo = live.clone().into_bytes();
    typo[20] = if typo[20] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).unwrap();
    assert_eq!(me_status(&http, &server, &typo).await, 401);
    secrets.push(Secret::new("mistyped API key", typo));

    // A personal access token.
    let pat = json_ok(
        http.post(server.url("/api/v1/active/tokens/"))
            .bearer_auth(&session)
            .json(&json!({"name": "pat", "expiry_date": "2099-01-01T00:00:00Z"}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me_status(&http, &server, &pat).await, 200);
    secrets.push(Secret::new("personal access token", pat));

    // The personal token, exchanged at /api/v0/login.
    let pt = json_ok(
        http.post(server.url("/api/v1/active/personal-token"))
            .bearer_auth(&session)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(Secret::new("personal token", &pt));
    let access = json_ok(
        http.post(server.url("/api/v0/login"))
            .bearer_auth(&pt)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me_status(&http, &server, &access).await, 200);
    secrets.push(Secret::new("access token from /api/v0/login", access));

    // The account secret key, exchanged at /auth/token.
    let usk = json_ok(
        http.put(server.url("/user/generate_secret_key"))
            .bearer_auth(&session)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await["secretKey"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(Secret::new("account secret key", &usk));
    let token = json_ok(
        http.post(server.url("/auth/token"))
            .json(&json!({"email": email, "secretKey": usk}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me_status(&http, &server, &token).await, 200);
    secrets.push(Secret::new("token from /auth/token", token));

    // Token exchange of an API key.
    let exchanged = json_ok(
        http.post(server.url("/oauth/token"))
            .form(&[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", &live),
                ("subject_token_type", ACCESS_TOKEN_TYPE),
            ])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me_status(&http, &server, &exchanged).await, 200);
    secrets.push(Secret::new("exchanged access token", exchanged));

    // The authorization-code flow: code, PKCE verifier, access and refresh tokens.
    let verifier = format!("v{}", portcullis::secret::random_token::<40>());
    secrets.push(Secret::new("PKCE verifier", &verifier));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let authorize = format!(
        "/oauth/authorize?{}",
        serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "read write"),
            ("state", "st"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .unwrap()
    );
    let res = post_form(
        &client,
        &server,
        &authorize,
        &authorize,
        &[("decision", "allow")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let to = url::Url::parse(&location(&res)).unwrap();
    let code = to
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
        .into_owned();
    secrets.push(Secret::new("authorization code", &code));
    let grant = json_ok(
        http.post(server.url("/oauth/token"))
            .basic_auth(&client_id, Some(&client_secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let oauth_access = grant["access_token"].as_str().unwrap().to_owned();
    let refresh = grant["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(me_status(&http, &server, &oauth_access).await, 200);
    secrets.push(Secret::new("OAuth access token", &oauth_access));
    secrets.push(Secret::new("refresh token", &refresh));
    let rotated = json_ok(
        http.post(server.url("/oauth/token"))
            .basic_auth(&client_id, Some(&client_secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let refreshed_access = rotated["access_token"].as_str().unwrap().to_owned();
    let rotated_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(me_status(&http, &server, &refreshed_access).await, 200);
    let info = json_ok(
        http.post(server.url("/oauth/introspect"))
            .basic_auth(&client_id, Some(&client_secret))
            .form(&[("token", &refreshed_access)])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(info["active"], true);
    let revoked = http
        .post(server.url("/oauth/revoke"))
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[("token", &rotated_refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    secrets.push(Secret::new("refreshed access token", refreshed_access));
    secrets.push(Secret::new("rotated refresh token", rotated_refresh));

    // A system credential, logging in with HTTP Basic.
    let system = json_ok(
        http.post(server.url("/api/v1/auth-management/clients"))
            .bearer_auth(&session)
            .json(&json!({"name": "Log system"}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let system_id = system["client_id"].as_str().unwrap();
    let system_secret = system["client_secret"].as_str().unwrap().to_owned();
    secrets.push(Secret::new("system credential secret", &system_secret));
    let system_access = json_ok(
        http.post(server.url("/api/v0/login"))
            .basic_auth(system_id, Some(&system_secret))
            .json(&json!({"grant_type": "client_credentials"}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(Secret::new("system access token", system_access));

    // An opaque access token: introspected, presented mistyped, revoked, presented again.
    let opaque = json_ok(
        http.post(server.url("/oauth/token"))
            .basic_auth(&opaque_id, Some(&opaque_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(opaque.starts_with("at_"));
    let info = json_ok(
        http.post(server.url("/oauth/introspect"))
            .basic_auth(&opaque_id, Some(&opaque_secret))
            .form(&[("token", &opaque)])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(info["active"], true);
    let mut typo = opaque.clone().into_bytes();
    typo[20] = if typo[20] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).unwrap();
    assert_eq!(me_status(&http, &server, &typo).await, 401);
    secrets.push(Secret::new("mistyped opaque access token", typo));
    let revoked = http
        .post(server.url("/oauth/revoke"))
        .basic_auth(&opaque_id, Some(&opaque_secret))
        .form(&[("token", &opaque)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(me_status(&http, &server, &opaque).await, 401);
    secrets.push(Secret::new("opaque access token", opaque));

    let mut server = server;
    server.stop();
    let mut log = String::new();
    for file in ["stdout.log", "stderr.log"] {
        log.push_str(&std::fs::read_to_string(logs.join(file)).unwrap());
    }
    assert!(
        log.lines().count() > 10,
        "the log was on and captured:\n{log}"
    );
    let debug_marker = if format == "json" {
        "\"level\":\"DEBUG\""
    } else {
        "DEBUG"
    };
    assert!(log.contains(debug_marker), "debug lines were logged");
    assert!(log.contains("signed in"), "application events were logged");
    for secret in &secrets {
        for fragment in secret.fragments() {
            assert!(
                !log.contains(fragment),
                "the {} (or part of it) appears in the {format} log",
                secret.what
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_of_any_kind_appears_in_a_debug_log() {
    run_every_secret_past_a_debug_log("text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_of_any_kind_appears_in_a_debug_log_written_as_json() {
    run_every_secret_past_a_debug_log("json").await;
}
