//! Rate-limit buckets kept in Redis instead of PostgreSQL (`--redis-url`): the same GCRA lease as
//! `storage::limits::lease`, run atomically by a Lua script, and the requests counted per bucket
//! and minute as keys that expire. Failure throttles stay in PostgreSQL: failures are rare.

use std::collections::HashMap;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::limits::Lease;
use crate::error::{AppError, Result};

/// `runtime::limits::gcra::Gcra::lease` in Lua. Redis's Lua numbers are doubles, exact for the
/// microsecond times used here (below 2^53); `%d` writes them back without an exponent.
const LEASE: &str = r"
local now = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local base = math.max(tat, now)
local room = math.floor((now + interval * limit - base) / interval)
local granted = math.max(0, math.min(want, room))
local next_tat = base + granted * interval
local ttl_ms = math.floor((next_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', string.format('%d', ttl_ms))
return {granted, next_tat}
";

/// How long a minute's request count is kept, in seconds.
const USAGE_LIFETIME: i64 = 120;

/// A connection to the Redis server holding the buckets (cheap to clone; reconnects by itself).
#[derive(Clone)]
pub struct RedisLimits {
    conn: ConnectionManager,
    lease: redis::Script,
}

fn redis_err(e: redis::RedisError) -> AppError {
    AppError::internal(anyhow::anyhow!("redis: {e}"))
}

fn bucket_key(bucket: &str) -> String {
    format!("portcullis:rate:{bucket}")
}

fn usage_key(bucket: &str, minute: i64) -> String {
    format!("portcullis:usage:{minute}:{bucket}")
}

impl RedisLimits {
    /// Connects to `url`; fails when Redis does not answer, so a wrong URL stops the start.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            conn,
            lease: redis::Script::new(LEASE),
        })
    }

    /// Takes up to `want` permits from `bucket` (see `storage::limits::lease`).
    pub async fn lease(
        &self,
        bucket: &str,
        now_us: i64,
        want: u32,
        limit: u32,
        interval_us: i64,
    ) -> Result<Lease> {
        let mut conn = self.conn.clone();
        let (granted, tat_us): (i64, i64) = self
            .lease
            .key(bucket_key(bucket))
            .arg(now_us)
            .arg(want)
            .arg(interval_us)
            .arg(limit)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(Lease {
            granted: u32::try_from(granted).unwrap_or(0),
            tat_us,
        })
    }

    /// Adds requests counted by this server, `(bucket, minute, count)`, to the shared counts.
    pub async fn add_usage(&self, counts: &[(String, i64, u32)]) -> Result<()> {
        let mut pipe = redis::pipe();
        for (bucket, minute, count) in counts {
            let key = usage_key(bucket, *minute);
            pipe.cmd("INCRBY").arg(&key).arg(*count).ignore();
            pipe.cmd("EXPIRE").arg(&key).arg(USAGE_LIFETIME).ignore();
        }
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await.map_err(redis_err)
    }

    /// Requests counted in `minute` for each of `buckets` that has any.
    pub async fn usage(&self, buckets: &[&str], minute: i64) -> Result<HashMap<String, u32>> {
        if buckets.is_empty() {
            return Ok(HashMap::new());
        }
        let keys: Vec<String> = buckets.iter().map(|b| usage_key(b, minute)).collect();
        let mut conn = self.conn.clone();
        let counts: Vec<Option<u32>> = redis::cmd("MGET")
            .arg(keys)
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(buckets
            .iter()
            .zip(counts)
            .filter_map(|(b, c)| c.map(|c| ((*b).to_owned(), c)))
            .collect())
    }
}
