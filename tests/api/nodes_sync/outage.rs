//! A node whose listener is cut: it says so on `/healthz`, stays ready, relies on cache expiry
//! meanwhile, and catches up once it listens again.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

use super::{Nodes, nodes, skipped};
use crate::helpers::PG_ENV;
use crate::oauth_helpers::machine_client;

#[tokio::test]
async fn a_node_whose_listener_is_cut_says_so_falls_back_to_expiry_and_catches_up_when_back() {
    let Some(n) = nodes(1, "info").await else {
        return skipped("the listener outage test");
    };
    let (a, b) = (&n.a, n.peer_bases().remove(0));
    for base in [&a.address, &b] {
        let (status, health) = n.healthz(base).await;
        assert_eq!(status, 200);
        assert_eq!(health["invalidation"], "listening", "{base}");
    }
    let machine = machine_client(a).await;
    let token = n.token_on(&a.address, &machine).await;
    let active = async || n.introspect(&b, &machine, &token).await.1["active"].clone();
    assert_eq!(active().await, true);

    // Nobody may connect to the database for now, and B's listener is cut.
    let database = url::Url::parse(a.settings.database_url.expose()).unwrap();
    let database = database.path().trim_start_matches('/').to_owned();
    let admin = Database::connect(std::env::var(PG_ENV).unwrap())
        .await
        .unwrap();
    let sql = |s: String| {
        let admin = &admin;
        async move { admin.execute_unprepared(&s).await.unwrap() }
    };
    sql(format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false"
    ))
    .await;
    let port = url::Url::parse(&b).unwrap().port().unwrap();
    let cut = sql(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' \
         AND application_name = 'portcullis listener 127.0.0.1:{port}'"
    ))
    .await;
    assert_eq!(cut.rows_affected(), 1, "B's listener");
    let degraded = wait_for_health(&n, &b, "degraded (ttl fallback)").await;
    assert_eq!(degraded["status"], "ok", "still ready: {degraded}");
    assert_eq!(
        n.healthz(&a.address).await.1["invalidation"],
        "listening",
        "A still listens"
    );

    // A revocation on A now goes unheard on B, which relies on its cache's lifetime...
    let res = a
        .client
        .post(a.url("/oauth/revoke"))
        .header("authorization", machine.basic())
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(active().await, true, "B's cached verdict lives its TTL");

    // ...until its listener is back: everything it cached is dropped then.
    sql(format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true"
    ))
    .await;
    wait_for_health(&n, &b, "listening").await;
    assert_eq!(active().await, false);

    let logs = std::fs::read_to_string(n.logs.path().join("stderr.log")).unwrap();
    let count = |what: &str| logs.matches(what).count();
    assert_eq!(
        count("stopped hearing other nodes' changes")
            + count("cannot listen for other nodes' changes"),
        1,
        "one warning per outage:\n{logs}"
    );
    assert_eq!(
        count("listening for other nodes' changes again"),
        1,
        "{logs}"
    );
}

/// Polls `/healthz` at `base` until its `invalidation` says `state` (20 s at most: the
/// listener's backoff reaches 10 s); the body then. Every answer meanwhile is a 200.
async fn wait_for_health(n: &Nodes, base: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, health) = n.healthz(base).await;
        assert_eq!(status, 200, "{health}");
        if health["invalidation"] == state {
            return health;
        }
        assert!(Instant::now() < deadline, "still {health} at {base}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
