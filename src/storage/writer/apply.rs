//! Applying a group of writes inside one transaction with as few statements as the group
//! allows: codes, refresh tokens and opaque access tokens stored by multi-row inserts, codes
//! spent and refresh tokens rotated by one conditional update each, in chunks of a few fixed
//! sizes (`storage::chunks`). A statement costs far more than a
//! row here (a round trip to SQLite's thread, building and binding), so a group of thirty costs
//! little more than a group of one.
//!
//! Writes that depend on one another never meet in a group: a code or token is handed out only
//! after the write storing it has committed, so spending or rotating it comes in a later group.
//! Writes on the same row in one group are decided in the order they were sent, as they would be
//! one after the other: the first spends a code, the next is a replay.

use sea_orm::DatabaseTransaction;

use super::{Write, Written};
use crate::domain::tokens::RefreshRecord;
use crate::error::Result;
use crate::storage::tokens::CodeOutcome;
use crate::storage::{audit, chunks, credentials, opaque_tokens, purge, sessions, tokens, usage};

/// A code to spend: the write's place in the group, the code's hash, when, and the refresh
/// token to store if this presentation spends it.
type Spend<'a> = (usize, &'a str, i64, Option<&'a (String, RefreshRecord)>);

/// Applies `writes` in `tx`, answering for each in order.
pub(super) async fn all(tx: &DatabaseTransaction, writes: &[&Write]) -> Result<Vec<Written>> {
    let mut out: Vec<Option<Written>> = writes.iter().map(|_| None).collect();

    let mut codes = Vec::new();
    let mut refreshes = Vec::new();
    let mut spends: Vec<Spend<'_>> = Vec::new();
    let mut rotations = Vec::new();
    let mut touches: Vec<(&str, i64, i64)> = Vec::new();
    let mut opaque = Vec::new();
    for (i, w) in writes.iter().enumerate() {
        match w {
            Write::InsertCode { hash, code, at } => {
                codes.push((hash.as_str(), code, *at));
                out[i] = Some(Written::Done);
            }
            Write::ConsumeCode { hash, at, refresh } => {
                spends.push((i, hash.as_str(), *at, refresh.as_ref()));
            }
            Write::RotateRefresh { old, new, rec, at } => rotations.push((i, old, new, rec, *at)),
            Write::InsertOpaque { hash, claims } => {
                opaque.push((hash.as_str(), &**claims));
                out[i] = Some(Written::Done);
            }
            Write::TouchSession { id, expires_at, at } => {
                touches.push((id.as_str(), *expires_at, *at));
                out[i] = Some(Written::Done);
            }
            Write::Purge {
                table,
                key,
                condition,
                cutoff,
            } => {
                let n = purge::delete_batch(tx, table, key, condition, *cutoff).await?;
                out[i] = Some(Written::Purged(n));
            }
            Write::Audit(events) => {
                audit::insert_events(tx, events).await?;
                out[i] = Some(Written::Done);
            }
            Write::Usage(rows) => {
                usage::add(tx, rows).await?;
                out[i] = Some(Written::Done);
            }
            Write::LastUsed(batch) => {
                credentials::record_last_used(tx, batch).await?;
                out[i] = Some(Written::Done);
            }
        }
    }
    // Every multi-row statement goes in chunks of a few sizes (`storage::chunks`), so the
    // writer's connection prepares a few statements per kind, not one per group size.
    for chunk in chunks(&codes) {
        tokens::insert_codes(tx, chunk).await?;
    }
    for chunk in chunks(&opaque) {
        opaque_tokens::insert_opaque(tx, chunk).await?;
    }

    if !spends.is_empty() {
        // One time for the group: they were sent within moments of one another.
        let at = spends.iter().map(|s| s.2).max().unwrap_or_default();
        let hashes: Vec<&str> = spends.iter().map(|s| s.1).collect();
        let mut outcomes = Vec::with_capacity(hashes.len());
        for chunk in chunks(&hashes) {
            outcomes.extend(tokens::consume_codes(tx, chunk, at).await?);
        }
        for ((i, _, at, refresh), outcome) in spends.iter().zip(outcomes) {
            // Only the presentation that spent the code gets its refresh token stored.
            if let (CodeOutcome::Redeemed(code), Some((hash, rec))) = (&outcome, refresh)
                && code.family_id == rec.family_id
            {
                refreshes.push((hash.as_str(), rec, *at));
            }
            out[*i] = Some(Written::Code(outcome));
        }
    }

    if !rotations.is_empty() {
        let at = rotations.iter().map(|r| r.4).max().unwrap_or_default();
        let olds: Vec<&str> = rotations.iter().map(|r| r.1.as_str()).collect();
        let mut won = Vec::with_capacity(olds.len());
        for chunk in chunks(&olds) {
            won.extend(tokens::rotate_refreshes(tx, chunk, at).await?);
        }
        for ((i, _, new, rec, at), won) in rotations.iter().zip(won) {
            if won {
                refreshes.push((new.as_str(), rec, *at));
            }
            out[*i] = Some(Written::Rotated(won));
        }
    }
    for chunk in chunks(&refreshes) {
        tokens::insert_refreshes(tx, chunk).await?;
    }

    // Sessions touched in the same second get the same expiry: one statement for each second.
    touches.sort_unstable_by_key(|t| (t.1, t.2));
    for same in touches.chunk_by(|a, b| (a.1, a.2) == (b.1, b.2)) {
        let ids: Vec<&str> = same.iter().map(|t| t.0).collect();
        for chunk in chunks(&ids) {
            sessions::touch(tx, chunk, same[0].1, same[0].2).await?;
        }
    }

    Ok(out
        .into_iter()
        .map(|w| w.unwrap_or(Written::Done))
        .collect())
}
