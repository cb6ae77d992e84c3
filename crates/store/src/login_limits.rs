//! Counters behind the log-in and sign-up limits, kept where every API process sees them:
//! the `login_limits` table by default, Redis when one is configured. Every operation is
//! one atomic statement (an upsert, or a Lua script), so concurrent attempts on several
//! processes are counted one after another and never read-then-written.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};

use crate::{Result, Store, StoreError};

/// A count in a fixed window that starts with its first attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    /// Attempts in the window, this one included.
    pub hits: u64,
    /// When the window ends and the count starts again from zero.
    pub resets_at: DateTime<Utc>,
}

/// How long a key is refused after failures in a row: the `free`-th failure starts a wait
/// of `base` (the ones before it cost nothing), each further one doubles it, never past
/// `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub free: u64,
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The wait after the `failures`-th failure in a row.
    pub fn after(&self, failures: u64) -> Duration {
        if failures < self.free.max(1) {
            return Duration::ZERO;
        }
        let doublings = u32::try_from(failures - self.free.max(1)).unwrap_or(u32::MAX);
        self.base
            .checked_mul(2u32.checked_pow(doublings.min(31)).unwrap_or(u32::MAX))
            .map_or(self.max, |wait| wait.min(self.max))
    }

    /// The fewest doublings of `base` that reach `max` (the SQL caps there).
    fn steps_to_max(&self) -> u32 {
        let mut steps = 0;
        while steps < 40 && self.base.saturating_mul(2u32.saturating_pow(steps)) < self.max {
            steps += 1;
        }
        steps
    }
}

/// The outcome of [`LoginCounters::claim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginClaim {
    /// The attempt may go ahead; it is counted as a failure (`failures` in a row, this
    /// one included) until [`LoginCounters::clear`] says it succeeded.
    Allowed { failures: u64 },
    /// Refused without counting: the key backs off until then.
    Refused { until: DateTime<Utc> },
}

/// Where the counters live. Keys are opaque strings made by the caller.
#[async_trait]
pub trait LoginCounters: Send + Sync {
    /// Counts one attempt under `key` in a window of `window` from its first attempt.
    async fn count(&self, key: &str, window: Duration, now: DateTime<Utc>) -> Result<WindowCount>;

    /// Takes one attempt under `key` unless the key backs off now. A taken attempt counts
    /// as a failure at once (so concurrent attempts cannot pass the check together) and
    /// sets the back-off that failure earns; failures are forgotten after `forget`
    /// without one.
    async fn claim(
        &self,
        key: &str,
        backoff: Backoff,
        forget: Duration,
        now: DateTime<Utc>,
    ) -> Result<LoginClaim>;

    /// Forgets `key`'s failures (the attempt succeeded).
    async fn clear(&self, key: &str) -> Result<()>;

    /// Drops counts nobody needs any more; Redis expires its keys by itself.
    async fn prune(&self, now: DateTime<Utc>) -> Result<u64>;

    /// `database` or `redis`, for logs and metrics.
    fn kind(&self) -> &'static str;
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

fn hits(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store {
    /// A statement written with `$1`-style parameters, for either backend (SQLite reads
    /// them as `?1`).
    fn login_statement(&self, sql: &str, values: Vec<Value>) -> Statement {
        match self.backend() {
            DatabaseBackend::Sqlite => Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                sql.replace('$', "?"),
                values,
            ),
            backend => Statement::from_sql_and_values(backend, sql, values),
        }
    }
}

#[async_trait]
impl LoginCounters for Store {
    #[tracing::instrument(skip_all, err)]
    async fn count(&self, key: &str, window: Duration, now: DateTime<Utc>) -> Result<WindowCount> {
        let now_ms = millis(now);
        let row = self
            .db
            .query_one_raw(self.login_statement(
                "INSERT INTO login_limits (name, hits, expires_at, blocked_until) \
                 VALUES ($1, 1, $2, 0) \
                 ON CONFLICT (name) DO UPDATE SET \
                   hits = CASE WHEN login_limits.expires_at <= $3 THEN 1 \
                          ELSE login_limits.hits + 1 END, \
                   expires_at = CASE WHEN login_limits.expires_at <= $3 THEN $2 \
                                ELSE login_limits.expires_at END \
                 RETURNING hits, expires_at",
                vec![key.into(), (now_ms + ms(window)).into(), now_ms.into()],
            ))
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no login_limits row for {key}")))?;
        Ok(WindowCount {
            hits: hits(row.try_get("", "hits")?),
            resets_at: at(row.try_get("", "expires_at")?),
        })
    }

    #[tracing::instrument(skip_all, err)]
    async fn claim(
        &self,
        key: &str,
        backoff: Backoff,
        forget: Duration,
        now: DateTime<Utc>,
    ) -> Result<LoginClaim> {
        let now_ms = millis(now);
        // The failures in a row this attempt makes, and the wait they earn (capped at
        // `max` once `base` has doubled `steps` times) — in SQL, so that counting and
        // refusing are one statement.
        let failures = "(CASE WHEN login_limits.expires_at <= $2 THEN 1 \
                         ELSE login_limits.hits + 1 END)";
        let sql = format!(
            "INSERT INTO login_limits (name, hits, expires_at, blocked_until) \
             VALUES ($1, 1, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET \
               hits = {failures}, \
               expires_at = $3, \
               blocked_until = CASE \
                 WHEN {failures} < $5 THEN 0 \
                 WHEN {failures} - $5 >= $6 THEN $2 + $7 \
                 ELSE $2 + ($8 << CAST({failures} - $5 AS INTEGER)) END \
             WHERE login_limits.blocked_until <= $2 \
             RETURNING hits"
        );
        let free = i64::try_from(backoff.free.max(1)).unwrap_or(i64::MAX);
        let first = now_ms + ms(backoff.after(1));
        let first = if backoff.after(1).is_zero() { 0 } else { first };
        let row = self
            .db
            .query_one_raw(self.login_statement(
                &sql,
                vec![
                    key.into(),
                    now_ms.into(),
                    (now_ms + ms(forget.max(backoff.max))).into(),
                    first.into(),
                    free.into(),
                    i64::from(backoff.steps_to_max()).into(),
                    ms(backoff.max).into(),
                    ms(backoff.base).into(),
                ],
            ))
            .await?;
        if let Some(row) = row {
            return Ok(LoginClaim::Allowed {
                failures: hits(row.try_get("", "hits")?),
            });
        }
        let until = self
            .db
            .query_one_raw(self.login_statement(
                "SELECT blocked_until FROM login_limits WHERE name = $1",
                vec![key.into()],
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "blocked_until"))
            .transpose()?
            .unwrap_or(now_ms);
        Ok(LoginClaim::Refused { until: at(until) })
    }

    async fn clear(&self, key: &str) -> Result<()> {
        self.db
            .execute_raw(
                self.login_statement("DELETE FROM login_limits WHERE name = $1", vec![key.into()]),
            )
            .await?;
        Ok(())
    }

    async fn prune(&self, now: DateTime<Utc>) -> Result<u64> {
        let now_ms = millis(now);
        let done = self
            .db
            .execute_raw(self.login_statement(
                "DELETE FROM login_limits WHERE expires_at <= $1 AND blocked_until <= $1",
                vec![now_ms.into()],
            ))
            .await?;
        Ok(done.rows_affected())
    }

    fn kind(&self) -> &'static str {
        "database"
    }
}

/// The counters in Redis (`REDIS_URL`), each key under `prefix` with a TTL, so Redis
/// forgets them by itself.
pub struct RedisLoginCounters {
    redis: redis::aio::ConnectionManager,
    prefix: String,
}

/// KEYS[1]: the counter; ARGV: window in ms. Returns the count and the window's ms left.
const COUNT_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if n == 1 or left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {n, left}
";

/// KEYS[1]: the key's hash; ARGV: now, forget (ms), free failures, base, max (ms).
/// Returns {1, failures} when taken, {0, blocked_until} when refused.
const CLAIM_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
if blocked > now then
  return {0, blocked}
end
local failures = redis.call('HINCRBY', KEYS[1], 'hits', 1)
local free = tonumber(ARGV[3])
if failures >= free then
  local wait = tonumber(ARGV[4]) * math.pow(2, math.min(failures - free, 40))
  wait = math.min(wait, tonumber(ARGV[5]))
  redis.call('HSET', KEYS[1], 'blocked_until', string.format('%d', now + wait))
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, failures}
";

impl RedisLoginCounters {
    /// Connects lazily: a Redis that is down at start-up is retried on each use.
    pub fn connect(url: &str, prefix: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(|e| StoreError::Connect {
            url: crate::redact(url),
            reason: e.to_string(),
        })?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        let redis =
            redis::aio::ConnectionManager::new_lazy_with_config(client, config).map_err(|e| {
                StoreError::Connect {
                    url: crate::redact(url),
                    reason: e.to_string(),
                }
            })?;
        Ok(Self {
            redis,
            prefix: prefix.to_string(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}login:{key}", self.prefix)
    }
}

fn redis_error(e: redis::RedisError) -> StoreError {
    StoreError::Redis(e.to_string())
}

#[async_trait]
impl LoginCounters for RedisLoginCounters {
    #[tracing::instrument(skip_all, err)]
    async fn count(&self, key: &str, window: Duration, now: DateTime<Utc>) -> Result<WindowCount> {
        let (n, left): (i64, i64) = redis::Script::new(COUNT_SCRIPT)
            .key(self.key(key))
            .arg(ms(window).max(1))
            .invoke_async(&mut self.redis.clone())
            .await
            .map_err(redis_error)?;
        Ok(WindowCount {
            hits: hits(n),
            resets_at: at(millis(now) + left.max(0)),
        })
    }

    #[tracing::instrument(skip_all, err)]
    async fn claim(
        &self,
        key: &str,
        backoff: Backoff,
        forget: Duration,
        now: DateTime<Utc>,
    ) -> Result<LoginClaim> {
        let (taken, value): (i64, i64) = redis::Script::new(CLAIM_SCRIPT)
            .key(self.key(key))
            .arg(millis(now))
            .arg(ms(forget.max(backoff.max)).max(1))
            .arg(backoff.free.max(1))
            .arg(ms(backoff.base))
            .arg(ms(backoff.max))
            .invoke_async(&mut self.redis.clone())
            .await
            .map_err(redis_error)?;
        Ok(if taken == 1 {
            LoginClaim::Allowed {
                failures: hits(value),
            }
        } else {
            LoginClaim::Refused { until: at(value) }
        })
    }

    async fn clear(&self, key: &str) -> Result<()> {
        redis::cmd("DEL")
            .arg(self.key(key))
            .exec_async(&mut self.redis.clone())
            .await
            .map_err(redis_error)
    }

    async fn prune(&self, _now: DateTime<Utc>) -> Result<u64> {
        Ok(0)
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_after_the_free_failures_up_to_its_cap() {
        let backoff = Backoff {
            free: 5,
            base: Duration::from_secs(1),
            max: Duration::from_secs(900),
        };
        let waits: Vec<u64> = (1..=16).map(|n| backoff.after(n).as_secs()).collect();
        assert_eq!(
            waits,
            [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
        );
        assert_eq!(backoff.after(u64::MAX), Duration::from_secs(900));
        assert_eq!(backoff.steps_to_max(), 10);
    }
}
