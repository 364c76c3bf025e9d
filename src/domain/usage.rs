//! Usage over time, as the charts and the REST API show it: a credential's or an OAuth app's
//! requests and failures in each of the last 48 hours and the last 30 days (buckets with nothing
//! counted are zeros), and the audit log's failures per day. Everything counted so far is
//! written first, so what a reader just did is in what they read. Who may read what is the
//! policy's to say.

use std::collections::HashMap;

use crate::domain::context::{Actor, Context};
use crate::domain::policy::ServerAction;
use crate::domain::principal::Principal;
use crate::domain::user::User;
use crate::error::{AppError, Result};
use crate::runtime::usage::Subject;
use crate::storage::{self, usage::Bucket};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// Hours in the hourly series.
pub const HOURS: i64 = 48;
/// Days in the daily series.
pub const DAYS: i64 = 30;

/// One bucket of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Point {
    /// Unix seconds at the start of the hour or (UTC) day.
    pub start: i64,
    /// Requests counted.
    pub requests: i64,
    /// Of which failed (refused, or answered with an error).
    pub failures: i64,
}

/// A subject's usage: hourly and daily, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Report {
    /// The last 48 hours, this one included.
    pub hourly: Vec<Point>,
    /// The last 30 days (UTC), today included.
    pub daily: Vec<Point>,
}

impl Report {
    /// Requests in the daily series.
    pub fn total_requests(&self) -> i64 {
        self.daily.iter().map(|p| p.requests).sum()
    }
}

/// `count` buckets of `step` seconds ending with the one holding `now`, with the stored counts.
fn filled(stored: &[Bucket], now: i64, step: i64, count: i64) -> Vec<Point> {
    let last = now.div_euclid(step) * step;
    let by_start: HashMap<i64, &Bucket> = stored.iter().map(|b| (b.start, b)).collect();
    (0..count)
        .map(|i| {
            let start = last - (count - 1 - i) * step;
            let b = by_start.get(&start);
            Point {
                start,
                requests: b.map_or(0, |b| b.requests),
                failures: b.map_or(0, |b| b.failures),
            }
        })
        .collect()
}

async fn flush(ctx: &Context) -> Result<()> {
    ctx.usage().flush(ctx.writer()).await.map(|_| ())
}

async fn report(ctx: &Context, subject: Subject, id: &str) -> Result<Report> {
    flush(ctx).await?;
    let now = ctx.now();
    let kind = subject.as_str();
    let since_hours = now.div_euclid(HOUR) * HOUR - (HOURS - 1) * HOUR;
    let since_days = now.div_euclid(DAY) * DAY - (DAYS - 1) * DAY;
    let hourly = storage::usage::series(ctx.db(), kind, id, "hour", since_hours).await?;
    let daily = storage::usage::series(ctx.db(), kind, id, "day", since_days).await?;
    Ok(Report {
        hourly: filled(&hourly, now, HOUR, HOURS),
        daily: filled(&daily, now, DAY, DAYS),
    })
}

/// A credential's usage, for a caller the policy lets see it (its holder, its tenant's
/// administrators); `NotFound` for anyone else, and for an id that names nothing.
pub async fn of_credential(ctx: &Context, caller: &Principal, id: &str) -> Result<Report> {
    let c = storage::credentials::find_by_id(ctx.db(), id)
        .await?
        .ok_or(AppError::NotFound("Credential"))?;
    ctx.policy().authorize_credential_usage(caller, &c).await?;
    report(ctx, Subject::Credential, &c.id).await
}

/// An OAuth app's usage: requests made with its access tokens, and (as `tokens`) the tokens it
/// was issued and its refused token requests. Only for whoever may manage the app.
pub async fn of_app(ctx: &Context, user: &User, client_id: &str) -> Result<(Report, Report)> {
    let app = crate::domain::client::get_manageable(ctx, Actor::User(user), client_id).await?;
    let requests = report(ctx, Subject::App, &app.id).await?;
    let tokens = report(ctx, Subject::AppTokens, &app.id).await?;
    Ok((requests, tokens))
}

/// Requests per day over the last 30 days for each of `ids` (subjects the caller already sees
/// listed), for the lists' sparklines.
pub async fn daily_requests(
    ctx: &Context,
    subject: Subject,
    ids: &[&str],
) -> Result<HashMap<String, Vec<Point>>> {
    flush(ctx).await?;
    let now = ctx.now();
    let since = now.div_euclid(DAY) * DAY - (DAYS - 1) * DAY;
    let mut out = HashMap::with_capacity(ids.len());
    for id in ids {
        let stored = storage::usage::series(ctx.db(), subject.as_str(), id, "day", since).await?;
        out.insert((*id).to_owned(), filled(&stored, now, DAY, DAYS));
    }
    Ok(out)
}

/// Failure events in the audit log per day over the last 30 days (administrators).
pub async fn audit_failures_per_day(ctx: &Context, user: &User) -> Result<Vec<Point>> {
    ctx.policy()
        .authorize_server(Actor::User(user), ServerAction::ReadAuditLog)?;
    ctx.flush().await;
    let now = ctx.now();
    let since = now.div_euclid(DAY) * DAY - (DAYS - 1) * DAY;
    let per_day = storage::audit::failures_per_day(ctx.db(), since).await?;
    let stored: Vec<Bucket> = per_day
        .into_iter()
        .map(|(start, n)| Bucket {
            start,
            requests: n,
            failures: n,
        })
        .collect();
    Ok(filled(&stored, now, DAY, DAYS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_has_every_bucket_oldest_first_with_zeros_where_nothing_was_counted() {
        let stored = [Bucket {
            start: 10 * HOUR,
            requests: 5,
            failures: 2,
        }];
        let s = filled(&stored, 11 * HOUR + 30, HOUR, 3);
        assert_eq!(
            s.iter()
                .map(|p| (p.start, p.requests, p.failures))
                .collect::<Vec<_>>(),
            vec![(9 * HOUR, 0, 0), (10 * HOUR, 5, 2), (11 * HOUR, 0, 0)]
        );
    }
}
