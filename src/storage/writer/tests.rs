//! The writer against a real SQLite file: grouping, a failure in a group, single use.

use super::*;
use crate::config::PoolSettings;
use crate::error::AppError;
use crate::storage::tokens::CodeOutcome;

async fn sqlite(dir: &std::path::Path) -> (Db, Writer) {
    let url = format!("sqlite://{}/w.db?mode=rwc", dir.display()).into();
    let pool = PoolSettings {
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
    };
    let db = crate::storage::connect(&url, pool).await.unwrap();
    crate::storage::migrate(&db).await.unwrap();
    let writer = crate::storage::open_writer(&db, &url).await.unwrap();
    (db, writer)
}

fn code(family: &str) -> CodeRecord {
    CodeRecord {
        client_id: "c".into(),
        user_id: "u".into(),
        redirect_uri: "https://app.example/cb".into(),
        scope: "read".into(),
        extensions: "[]".into(),
        expires_at: i64::MAX,
        family_id: family.into(),
    }
}

fn refresh(family: &str) -> RefreshRecord {
    RefreshRecord {
        family_id: family.into(),
        client_id: "c".into(),
        user_id: "u".into(),
        scope: "read".into(),
        expires_at: i64::MAX,
        rotated: false,
        family_revoked: false,
        auth_time: None,
        sid: None,
        methods: None,
    }
}

/// Sends every write at once (tasks on one thread: all are queued before the writing task
/// runs again) and answers in order.
async fn all_at_once(writer: &Writer, writes: Vec<Write>) -> Vec<Result<Written>> {
    let tasks: Vec<_> = writes
        .into_iter()
        .map(|w| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.write(w).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn writes_queued_together_commit_in_fewer_transactions_and_all_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (db, writer) = sqlite(dir.path()).await;
    writer
        .write(Write::InsertCode {
            hash: "h".into(),
            code: code("f"),
            at: 1,
        })
        .await
        .unwrap();
    let before = writer.groups();
    let writes = (0..64)
        .map(|i| Write::InsertCode {
            hash: format!("r{i}"),
            code: code(&format!("f{i}")),
            at: 1,
        })
        .collect();
    for r in all_at_once(&writer, writes).await {
        assert!(matches!(r, Ok(Written::Done)), "{r:?}");
    }
    let groups = writer.groups() - before;
    assert!(groups < 64, "64 queued writes took {groups} transactions");
    for i in 0..64 {
        let found = tokens::find_unspent_code(&db, &format!("r{i}"))
            .await
            .unwrap();
        assert!(found.is_some(), "code r{i} was kept");
    }
}

#[tokio::test]
async fn a_failing_write_fails_alone_and_its_group_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (db, writer) = sqlite(dir.path()).await;
    let insert = |hash: &str| Write::InsertCode {
        hash: hash.into(),
        code: code(&format!("family-{hash}")),
        at: 1,
    };
    writer.write(insert("taken")).await.unwrap();
    // The third reuses a stored code's hash: a unique violation in the middle of a group.
    let writes = vec![insert("a"), insert("b"), insert("taken"), insert("c")];
    let results = all_at_once(&writer, writes).await;
    assert!(
        matches!(results[2], Err(AppError::Conflict(_))),
        "{results:?}"
    );
    for (i, hash) in [(0, "a"), (1, "b"), (3, "c")] {
        assert!(results[i].is_ok(), "{results:?}");
        let kept = tokens::find_unspent_code(&db, hash).await.unwrap();
        assert!(kept.is_some(), "code {hash} was kept");
    }
}

#[tokio::test]
async fn one_code_spent_many_times_in_one_group_is_redeemed_once() {
    let dir = tempfile::tempdir().unwrap();
    let (db, writer) = sqlite(dir.path()).await;
    writer
        .write(Write::InsertCode {
            hash: "once".into(),
            code: code("f"),
            at: 1,
        })
        .await
        .unwrap();
    let spends = (0..16)
        .map(|i| Write::ConsumeCode {
            hash: "once".into(),
            at: 2,
            refresh: Some((format!("first{i}"), refresh("f"))),
        })
        .collect();
    let outcomes: Vec<CodeOutcome> = all_at_once(&writer, spends)
        .await
        .into_iter()
        .map(|r| r.unwrap().code().unwrap())
        .collect();
    let redeemed = outcomes
        .iter()
        .filter(|o| matches!(o, CodeOutcome::Redeemed(_)))
        .count();
    assert_eq!(redeemed, 1, "{outcomes:?}");
    // Only the presentation that spent the code had its refresh token stored.
    let mut stored = Vec::new();
    for i in 0..16 {
        if tokens::find_refresh(&db, &format!("first{i}"))
            .await
            .unwrap()
            .is_some()
        {
            stored.push(i);
        }
    }
    let winner = outcomes
        .iter()
        .position(|o| matches!(o, CodeOutcome::Redeemed(_)));
    assert_eq!(stored, winner.into_iter().collect::<Vec<_>>());
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, CodeOutcome::Redeemed(_) | CodeOutcome::Replayed { .. })),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_refresh_token_rotated_many_times_in_one_group_has_one_successor() {
    let dir = tempfile::tempdir().unwrap();
    let (db, writer) = sqlite(dir.path()).await;
    writer
        .write(Write::InsertCode {
            hash: "c".into(),
            code: code("f"),
            at: 1,
        })
        .await
        .unwrap();
    let first = writer.write(Write::ConsumeCode {
        hash: "c".into(),
        at: 1,
        refresh: Some(("old".into(), refresh("f"))),
    });
    assert!(matches!(
        first.await.unwrap().code().unwrap(),
        CodeOutcome::Redeemed(_)
    ));
    let rotations = (0..8)
        .map(|i| Write::RotateRefresh {
            old: "old".into(),
            new: format!("new{i}"),
            rec: refresh("f"),
            at: 2,
        })
        .collect();
    let won: Vec<bool> = all_at_once(&writer, rotations)
        .await
        .into_iter()
        .map(|r| r.unwrap().rotated().unwrap())
        .collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    let mut stored = 0;
    for (i, won) in won.iter().enumerate() {
        let found = tokens::find_refresh(&db, &format!("new{i}")).await.unwrap();
        assert_eq!(
            found.is_some(),
            *won,
            "successor {i} stored only if its rotation won"
        );
        stored += usize::from(found.is_some());
    }
    assert_eq!(stored, 1);
}
