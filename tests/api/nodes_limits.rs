//! Several servers on one PostgreSQL database share their limits: three real `portcullis`
//! processes on the same database and issuer, driven round-robin, hold a credential to one rate
//! limit, an attacker to one failure budget, and show one request count. PostgreSQL only (a
//! SQLite server is alone): each test is skipped without `PORTCULLIS_TEST_POSTGRES_URL`, and the
//! `--redis-url` variant without `PORTCULLIS_TEST_REDIS_URL` too.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt as _;
use portcullis::config::Settings;

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::hardening::Server;
use crate::helpers::{Backend, PG_ENV, TestApp, create_api_key, spawn_with};
use crate::oauth_helpers::{TestClient, json, machine_client};

/// Names the Redis server for the `--redis-url` variant.
const REDIS_ENV: &str = "PORTCULLIS_TEST_REDIS_URL";

/// Three server processes on one fresh PostgreSQL database, and an in-process server on it that
/// the tests use to create accounts and credentials (and once as a fourth node).
struct Cluster {
    setup: TestApp,
    nodes: Vec<Server>,
    _logs: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// One cluster at a time: four servers each, started alongside the rest of the suite, would
/// crowd the machine the other tests share.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A cluster whose nodes run with `env` besides the database and issuer, and whose setup server
/// runs with `adjust`; `None` (the test is skipped) without a PostgreSQL server to run on.
async fn cluster(env: &[(&str, &str)], adjust: impl FnOnce(&mut Settings)) -> Option<Cluster> {
    let turn = ONE_AT_A_TIME.lock().await;
    let Some(setup) = spawn_with(Backend::Postgres, adjust).await else {
        eprintln!("skipped: {PG_ENV} is not set, so the multi-node test did not run");
        return None;
    };
    let logs = tempfile::tempdir().unwrap();
    let mut all = vec![("PORTCULLIS_ISSUER", setup.address.as_str())];
    all.extend_from_slice(env);
    let mut nodes = Vec::new();
    // The setup server has migrated the database, so the nodes can start together.
    for _ in 0..3 {
        nodes.push(Server::start(setup.settings.database_url.expose(), &all, logs.path()).await);
    }
    Some(Cluster {
        setup,
        nodes,
        _logs: logs,
        _turn: turn,
    })
}

/// `POST /oauth/token` with `client_credentials` to one node.
async fn token_on(node: &Server, c: &TestClient) -> reqwest::Response {
    reqwest::Client::new()
        .post(node.url("/oauth/token"))
        .header("authorization", c.basic())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

/// Hammers `key` with 450 requests, round-robin over the nodes, twelve at a time (each node
/// alone would admit all of its 150), and checks that together they admitted 300 ± 10% and that
/// every node refused some.
async fn hammer_within_ten_percent(c: &Cluster, key: &str) {
    let http = reqwest::Client::new();
    let answers: Vec<(usize, u16)> = futures_util::stream::iter(0..450usize)
        .map(|i| {
            let req = http
                .get(c.nodes[i % 3].url("/v1/users/me"))
                .bearer_auth(key)
                .send();
            async move { (i % 3, req.await.unwrap().status().as_u16()) }
        })
        .buffer_unordered(12)
        .collect()
        .await;
    let admitted = answers.iter().filter(|(_, s)| *s == 200).count();
    let refused = answers.iter().filter(|(_, s)| *s == 429).count();
    assert_eq!(admitted + refused, 450, "only 200s and 429s: {answers:?}");
    assert!(
        (270..=330).contains(&admitted),
        "admitted {admitted} against a limit of 300 a minute shared by three nodes"
    );
    for node in 0..3 {
        let of = |status| {
            answers
                .iter()
                .filter(|(n, s)| *n == node && *s == status)
                .count()
        };
        assert!(
            of(200) > 0 && of(429) > 0,
            "node {node} served some and refused some: the limit is the cluster's"
        );
    }
}

/// An API key made by a fresh account on the setup server: (id, secret).
async fn api_key(c: &Cluster, name: &str) -> (String, String) {
    c.setup.signed_in_user().await;
    let session = c.setup.session_token().await;
    create_api_key(&c.setup, &session, name, &["read"]).await
}

#[tokio::test]
async fn three_nodes_hold_a_credential_to_its_rate_limit_within_ten_percent() {
    let Some(c) = cluster(&[("PORTCULLIS_RATE_LIMIT_PER_MINUTE", "300")], |_| {}).await else {
        return;
    };
    let (_, key) = api_key(&c, "shared").await;
    hammer_within_ten_percent(&c, &key).await;
}

#[tokio::test]
async fn three_nodes_with_a_redis_url_hold_a_credential_to_its_rate_limit_there() {
    let Ok(redis) = std::env::var(REDIS_ENV) else {
        eprintln!("skipped: {REDIS_ENV} is not set, so the Redis variant did not run");
        return;
    };
    let env = [
        ("PORTCULLIS_RATE_LIMIT_PER_MINUTE", "300"),
        ("PORTCULLIS_REDIS_URL", redis.as_str()),
    ];
    let Some(c) = cluster(&env, |_| {}).await else {
        return;
    };
    let (id, key) = api_key(&c, "in redis").await;
    hammer_within_ten_percent(&c, &key).await;
    let in_postgres = c
        .setup
        .db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM rate_buckets WHERE bucket = $1",
            [id.into()],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(
        in_postgres, 0,
        "the bucket is kept in Redis, not the database"
    );
}

#[tokio::test]
async fn wrong_client_secrets_over_three_nodes_are_throttled_after_the_limit_and_then_so_is_the_right_one()
 {
    const LIMIT: usize = 6;
    let env = [
        ("PORTCULLIS_FAILURE_LIMIT", "6"),
        ("PORTCULLIS_FAILURE_WINDOW_SECS", "8"),
    ];
    let same = |s: &mut Settings| {
        s.failure_limit = 6;
        s.failure_window_secs = 8;
    };
    let Some(c) = cluster(&env, same).await else {
        return;
    };
    let good = machine_client(&c.setup).await;
    let bad = TestClient {
        id: good.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    let mut failures = 0;
    for attempt in 0.. {
        assert!(
            attempt < 4 * LIMIT,
            "never throttled after {failures} failures"
        );
        let res = token_on(&c.nodes[attempt % 3], &bad).await;
        match res.status().as_u16() {
            401 => failures += 1,
            429 => break,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        (LIMIT..=LIMIT + 3).contains(&failures),
        "throttled after {failures} failures spread over three nodes, against a limit of {LIMIT}"
    );
    // Now every node refuses the guesses, and the right secret with them, until the window
    // has passed.
    let mut wait = 0;
    for node in &c.nodes {
        assert_eq!(token_on(node, &bad).await.status(), 429);
        let res = token_on(node, &good).await;
        assert_eq!(res.status(), 429, "the right secret is refused too");
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=8).contains(&retry), "Retry-After {retry}");
        wait = wait.max(retry);
        assert_eq!(json(res).await["error"], "invalid_client");
    }
    // A fourth server that saw none of the failures learns of the throttle from the others
    // within a second or so (it may let the right secret through until then).
    let deadline = Instant::now() + Duration::from_secs(4);
    while crate::oauth_helpers::client_credentials(&c.setup, &good)
        .await
        .status()
        != 429
    {
        assert!(Instant::now() < deadline, "the fourth server never refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(wait + 1)).await;
    for node in &c.nodes {
        assert_eq!(
            token_on(node, &good).await.status(),
            200,
            "the window has passed"
        );
    }
}

/// Makes four requests on node A and three on C, and waits for node B's settings page to count
/// all seven.
async fn page_on_b_counts_requests_on_a_and_c(c: &Cluster) {
    // The page counts this minute's requests: start early in one.
    let second = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if second > 40 {
        tokio::time::sleep(Duration::from_secs(61 - second)).await;
    }
    let (_, key) = api_key(c, "counted").await;
    let http = reqwest::Client::new();
    for (node, times) in [(0, 4), (2, 3)] {
        for _ in 0..times {
            let res = http
                .get(c.nodes[node].url("/v1/users/me"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
    }
    // The nodes share their counts once a second; the browser's session is good on every node.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page = c
            .setup
            .client
            .get(c.nodes[1].url("/settings/credentials"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("counted"), "signed in on node B");
        if page.contains("7 request(s) this minute, 0% of the 1200/min limit") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node B never showed the 7 requests made on A and C"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_settings_page_on_one_node_counts_the_requests_made_on_the_others() {
    if let Some(c) = cluster(&[], |_| {}).await {
        page_on_b_counts_requests_on_a_and_c(&c).await;
    }
}

#[tokio::test]
async fn with_a_redis_url_the_settings_page_counts_the_requests_made_on_the_others() {
    let Ok(redis) = std::env::var(REDIS_ENV) else {
        eprintln!("skipped: {REDIS_ENV} is not set, so the Redis variant did not run");
        return;
    };
    if let Some(c) = cluster(&[("PORTCULLIS_REDIS_URL", redis.as_str())], |_| {}).await {
        page_on_b_counts_requests_on_a_and_c(&c).await;
    }
}
