//! The grouped write path (`storage::writer`) under load: what a rotation answered with is on
//! disk, even when the server is killed the next instant.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::Value;

use crate::hardening::{Server, integrity_check};
use crate::helpers::spawn_app;
use crate::oauth_helpers::{confidential, exchange, obtain_code};

/// Rotations answered 200: (presented token, its successor).
#[derive(Default)]
struct Answered {
    rotations: Vec<(String, String)>,
    unexpected: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotations_answered_before_a_sigkill_are_all_on_disk_after_it() {
    crate::helpers::sqlite_only!("SIGKILL of a server process writing its SQLite file");
    // Grants are made on an in-process server, then a server process takes the load.
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = confidential(&app).await;
    let mut chains = Vec::new();
    for _ in 0..8 {
        let (code, verifier) = obtain_code(&app, &c, "read").await;
        let body: Value = exchange(&app, &c, &code, &verifier).await.json().await.unwrap();
        chains.push(body["refresh_token"].as_str().unwrap().to_owned());
    }
    let hasher = portcullis::startup::load_hasher(&app.db).await.unwrap();
    let db_url = app.settings.database_url.expose().to_owned();
    let logs = tempfile::tempdir().unwrap();
    let unlimited = [("PORTCULLIS_RATE_LIMIT_PER_MINUTE", "1000000000")];
    let mut server = Server::start(&db_url, &unlimited, logs.path()).await;

    let answered = Arc::new(Mutex::new(Answered::default()));
    let mut load = Vec::new();
    for mut token in chains {
        let (answered, basic) = (answered.clone(), c.basic());
        let url = server.url("/oauth/token");
        load.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                let form = [("grant_type", "refresh_token"), ("refresh_token", &token)];
                let sent = http
                    .post(&url)
                    .header("authorization", &basic)
                    .form(&form)
                    .send()
                    .await;
                let Ok(res) = sent else { break };
                let status = res.status();
                let Ok(body) = res.json::<Value>().await else {
                    break; // killed while the answer was on its way: not answered
                };
                let mut answered = answered.lock().unwrap();
                if status != 200 {
                    answered.unexpected.push(format!("{status} {body}"));
                    break;
                }
                let next = body["refresh_token"].as_str().unwrap().to_owned();
                answered.rotations.push((token, next.clone()));
                token = next;
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while answered.lock().unwrap().rotations.len() < 300 {
        assert!(Instant::now() < deadline, "the load made no progress");
        assert!(
            answered.lock().unwrap().unexpected.is_empty(),
            "{:?}",
            answered.lock().unwrap().unexpected
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for task in load {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("a load task hung after the kill")
            .unwrap();
    }
    let answered = std::mem::take(&mut *answered.lock().unwrap());
    assert!(answered.unexpected.is_empty(), "{:?}", answered.unexpected);
    assert_eq!(integrity_check(&db_url).await, "ok");

    // Every answered rotation is on disk: the presented token spent, its successor stored.
    let db = Database::connect(&db_url).await.unwrap();
    for (old, new) in &answered.rotations {
        let row = |hash: String| {
            Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT rotated_at FROM refresh_tokens WHERE token_hash = ?",
                [hash.into()],
            )
        };
        let spent = db.query_one_raw(row(hasher.hash(old))).await.unwrap();
        let spent: Option<i64> = spent.unwrap().try_get("", "rotated_at").unwrap();
        assert!(spent.is_some(), "a token whose rotation was answered is spent");
        let stored = db.query_one_raw(row(hasher.hash(new))).await.unwrap();
        assert!(stored.is_some(), "a successor that was handed out is stored");
    }
    db.close().await.unwrap();
}
