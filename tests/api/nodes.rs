//! Several nodes on one PostgreSQL database: servers (real processes) starting at the same
//! instant on an empty database, `portcullis migrate` run twice at once, and a node whose
//! database goes away and comes back (through a TCP forwarder the test owns and can cut).
//! PostgreSQL only: without `PORTCULLIS_TEST_POSTGRES_URL` each test reports itself skipped.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::hardening::Server;
use crate::helpers::{
    Backend, PG_ENV, TestApp, create_api_key, fresh_postgres_database, spawn_with,
};
use crate::oauth_helpers::{TestClient, cli_client_on, client_credentials, machine_client};

const ISSUER: &str = "http://portcullis.nodes.test";

fn skipped(what: &str) {
    eprintln!("skipped: {PG_ENV} is not set, so {what} did not run");
}

/// One number from a query.
async fn count(url: &str, sql: &str) -> i64 {
    let db = Database::connect(url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    let n = row.try_get_by_index::<i64>(0).unwrap();
    db.close().await.unwrap();
    n
}

/// `POST /oauth/token` with client credentials at `base`; the access token.
async fn token_from(http: &reqwest::Client, base: &str, c: &TestClient) -> String {
    let res = http
        .post(format!("{base}/oauth/token"))
        .header("authorization", c.basic())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// `portcullis migrate` on `url`; panics unless it succeeds.
fn migrate(url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.arg("migrate")
        .env("PORTCULLIS_DATABASE_URL", url)
        .env("PORTCULLIS_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[tokio::test]
async fn three_servers_starting_at_once_on_an_empty_database_create_one_key_and_share_everything() {
    let Some(url) = fresh_postgres_database().await else {
        return skipped("the three-node start");
    };
    three_start_at_once(&url).await;
}

#[tokio::test]
async fn three_servers_starting_at_once_on_a_migrated_database_create_its_keys_once() {
    let Some(url) = fresh_postgres_database().await else {
        return skipped("the three-node start");
    };
    // A database migrated ahead of a rollout: the schema is there, no secret or key yet.
    assert!(migrate(&url).status().unwrap().success());
    assert_eq!(count(&url, "SELECT COUNT(*) FROM signing_keys").await, 0);
    three_start_at_once(&url).await;
}

async fn three_start_at_once(url: &str) {
    let url = url.to_owned();
    let logs = tempfile::tempdir().unwrap();
    let env = [("PORTCULLIS_ISSUER", ISSUER)];
    let (a, b, c) = tokio::join!(
        Server::start(&url, &env, logs.path()),
        Server::start(&url, &env, logs.path()),
        Server::start(&url, &env, logs.path()),
    );
    // `Server::start` returns once /healthz answers 200: all three are ready. It starts a
    // process again on another port when one exits, so check none exited for any other reason
    // (a failed migration, say) than a port taken meanwhile.
    let nodes = [&a, &b, &c];
    let stderr = std::fs::read_to_string(logs.path().join("stderr.log")).unwrap();
    let failures: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error:") && !l.contains("ddress already in use"))
        .collect();
    assert!(failures.is_empty(), "a node failed to start: {failures:?}");

    let active = "SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL";
    let algorithms = "SELECT COUNT(DISTINCT alg) FROM signing_keys WHERE retired_at IS NULL";
    assert_eq!(
        count(&url, active).await,
        count(&url, algorithms).await,
        "one active key per algorithm"
    );
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM signing_keys").await,
        count(&url, active).await
    );
    let secrets = "SELECT COUNT(*) FROM server_secrets WHERE name IN ('hmac_key', 'session_key')";
    assert_eq!(count(&url, secrets).await, 2);

    let http = reqwest::Client::new();
    let mut jwks = Vec::new();
    for node in nodes {
        let res = http
            .get(node.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap();
        jwks.push(res.json::<serde_json::Value>().await.unwrap()["keys"].clone());
    }
    assert!(
        jwks.iter().all(|k| *k == jwks[0]),
        "every node publishes the same keys"
    );

    // A client secret checks out on every node (one HMAC key), and a token one node issues is
    // active on the others (one signing key).
    let client = cli_client_on(&url, &["--name", "Nodes", "--grant", "client_credentials"]).await;
    let token = token_from(&http, &a.url(""), &client).await;
    for node in [&b, &c] {
        let res = http
            .post(node.url("/oauth/introspect"))
            .header("authorization", client.basic())
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["active"], true, "{body}");
        assert_eq!(body["iss"], ISSUER);
    }
}

#[tokio::test]
async fn two_migrate_commands_at_once_both_succeed() {
    let Some(url) = fresh_postgres_database().await else {
        return skipped("the concurrent migrate");
    };
    let (first, second) = (
        migrate(&url).spawn().unwrap(),
        migrate(&url).spawn().unwrap(),
    );
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let applied = "SELECT COUNT(*) FROM seaql_migrations";
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migration/src"))
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("m20")
        })
        .count();
    assert_eq!(count(&url, applied).await, i64::try_from(files).unwrap());
}

/// A TCP forwarder in front of PostgreSQL that the test can cut (every connection dropped, no
/// new one accepted) and restore on the same port.
struct Forwarder {
    port: u16,
    target: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Forwarder {
    async fn start(target: SocketAddr) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        Forwarder {
            port,
            target,
            task: Some(tokio::spawn(forward(listener, target))),
        }
    }

    async fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    async fn restore(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.task = Some(tokio::spawn(forward(listener, self.target)));
    }
}

/// Accepts and pipes each connection to `target`. The pipes belong to this task: aborting it
/// drops the listener and every connection.
async fn forward(listener: TcpListener, target: SocketAddr) {
    let mut pipes = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut inbound, _)) = accepted else { continue };
                pipes.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
            Some(_) = pipes.join_next() => {}
        }
    }
}

/// Polls `path` without cookies, as a load balancer does, until it answers `status`, for at
/// most `within`; whether it did.
async fn answers_within(app: &TestApp, path: &str, status: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if reqwest::get(app.url(path)).await.unwrap().status() == status {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What a node answers a session token (a JWT), an API key and a client; `app`'s client sends
/// no cookie, so nothing but the credential is looked up.
async fn answers(
    app: &TestApp,
    jwt: &str,
    api_key: &str,
    client: &TestClient,
) -> [reqwest::Response; 3] {
    let me = |bearer: &str| {
        app.client
            .get(app.url("/v1/users/me"))
            .bearer_auth(bearer)
            .send()
    };
    [
        me(jwt).await.unwrap(),
        me(api_key).await.unwrap(),
        client_credentials(app, client).await,
    ]
}

#[tokio::test]
async fn a_node_whose_database_goes_away_answers_503_with_retry_after_and_recovers_by_itself() {
    let Ok(base) = std::env::var(PG_ENV) else {
        return skipped("the database outage");
    };
    let pg = url::Url::parse(&base).unwrap();
    let target = format!("{}:{}", pg.host_str().unwrap(), pg.port().unwrap_or(5432));
    let target = tokio::net::lookup_host(target)
        .await
        .unwrap()
        .next()
        .unwrap();
    let mut forwarder = Forwarder::start(target).await;
    let port = forwarder.port;
    let app = spawn_with(Backend::Postgres, |s| {
        let mut url = url::Url::parse(s.database_url.expose()).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(port)).unwrap();
        s.database_url = url.to_string().into();
        // Every check reads the database, as it does once cached verdicts have expired.
        s.cache_ttl_ms = 0;
        s.database_acquire_timeout_ms = 1000;
    })
    .await
    .unwrap();
    app.sign_up("ada@example.com", "Ada Lovelace", "correct horse battery")
        .await;
    let jwt = app.session_token().await;
    let (_, api_key) = create_api_key(&app, &jwt, "ci", &["read"]).await;
    let client = machine_client(&app).await;
    let bare = TestApp::with_client(&app, crate::helpers::client());
    for res in answers(&bare, &jwt, &api_key, &client).await {
        assert_eq!(res.status(), 200, "before the outage");
    }

    forwarder.cut().await;
    assert!(
        answers_within(&app, "/healthz", 503, Duration::from_secs(3)).await,
        "readiness fails within 3 s"
    );
    assert!(
        answers_within(&app, "/livez", 200, Duration::ZERO).await,
        "liveness does not"
    );
    let [jwt_res, key_res, token_res] = answers(&bare, &jwt, &api_key, &client).await;
    for res in [jwt_res, key_res] {
        assert_eq!(
            res.status(),
            503,
            "a bearer that may be valid is not refused"
        );
        assert!(res.headers().contains_key("retry-after"));
        assert!(!res.headers().contains_key("www-authenticate"));
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unavailable");
        assert_eq!(body["error"]["status"], 503);
    }
    assert_eq!(token_res.status(), 503);
    assert!(token_res.headers().contains_key("retry-after"));
    assert_eq!(token_res.headers()["cache-control"], "no-store");
    let body: serde_json::Value = token_res.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // A signed-in page: the session itself cannot be read.
    let page = app.get("/account").await;
    assert_eq!(page.status(), 503);
    assert!(page.headers().contains_key("retry-after"));
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Temporarily unavailable")
    );

    forwarder.restore().await;
    assert!(
        answers_within(&app, "/healthz", 200, Duration::from_secs(30)).await,
        "readiness comes back by itself"
    );
    for res in answers(&bare, &jwt, &api_key, &client).await {
        assert_eq!(res.status(), 200, "after the outage");
    }
    assert_eq!(app.get("/account").await.status(), 200);
}

#[tokio::test]
async fn a_token_signed_by_a_key_a_cut_off_node_has_not_loaded_is_answered_503_not_401() {
    let Ok(base) = std::env::var(PG_ENV) else {
        return skipped("the outage with an unknown key");
    };
    let pg = url::Url::parse(&base).unwrap();
    let target = format!("{}:{}", pg.host_str().unwrap(), pg.port().unwrap_or(5432));
    let target = tokio::net::lookup_host(target)
        .await
        .unwrap()
        .next()
        .unwrap();
    let mut forwarder = Forwarder::start(target).await;
    let port = forwarder.port;
    let mut direct = String::new();
    let app = spawn_with(Backend::Postgres, |s| {
        direct = s.database_url.expose().to_owned();
        let mut url = url::Url::parse(&direct).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(port)).unwrap();
        s.database_url = url.to_string().into();
        s.database_acquire_timeout_ms = 1000;
    })
    .await
    .unwrap();
    // Another node, reaching the database directly, signs with keys the first has not seen.
    let peer = crate::helpers::spawn_peer(&app, |s| s.database_url = direct.clone().into()).await;
    let client = machine_client(&app).await;
    let http = crate::helpers::client();
    let kid_of = |token: &str| {
        crate::oidc::header(token)["kid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let old_kid = kid_of(&token_from(&http, &peer.address, &client).await);
    forwarder.cut().await;
    let rotated = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["keys", "rotate", "--activation-delay-secs", "0"])
        .env("PORTCULLIS_DATABASE_URL", &direct)
        .env("PORTCULLIS_LOG", "warn")
        .output()
        .unwrap();
    assert!(rotated.status.success());
    let mut fresh = String::new();
    for _ in 0..100 {
        fresh = token_from(&http, &peer.address, &client).await;
        if kid_of(&fresh) != old_kid {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(
        kid_of(&fresh),
        old_kid,
        "the other node signs with the new key"
    );
    let me = |base: String| {
        let http = http.clone();
        let fresh = fresh.clone();
        async move {
            http.get(format!("{base}/v1/users/me"))
                .bearer_auth(fresh)
                .send()
                .await
                .unwrap()
        }
    };
    let on_peer = me(peer.address.clone()).await.status();
    let res = me(app.address.clone()).await;
    assert_eq!(res.status(), 503, "the key may well exist: not refused");
    assert!(res.headers().contains_key("retry-after"));
    assert!(!res.headers().contains_key("www-authenticate"));

    forwarder.restore().await;
    assert!(answers_within(&app, "/healthz", 200, Duration::from_secs(30)).await);
    let mut after = 0;
    for _ in 0..50 {
        after = me(app.address.clone()).await.status().as_u16();
        if after != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        after,
        on_peer.as_u16(),
        "once the keys can be read, as on the other node"
    );
}
