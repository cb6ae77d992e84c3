//! Limits on `signUp` and `logIn` that slow guessing down without locking the owner out
//! (docs/security.md):
//!
//! - one budget of attempts per client address per minute, shared by both mutations;
//! - per (account, address), an exponential back-off after a few failures in a row, which
//!   a success clears — failures from elsewhere never refuse the right password;
//! - per account, a ceiling on attempts from all addresses per hour: past it, every failure
//!   from an address costs that address the full back-off at once.
//!
//! Every check runs before any password hashing, so a refused flood costs no argon2 time.
//! The counters live in the database or Redis ([`store::LoginCounters`]), so every API
//! process sees them. When they cannot be reached the limits fail open (logged, and
//! counted in `fast_flights_login_limit_errors_total`): refusing every log-in while Redis
//! is down would let anyone who can take Redis down lock everyone out.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use store::{Backoff, LoginClaim, LoginCounters};

use crate::client_ip::ClientIp;
use crate::error::ApiError;

/// The numbers of the limits (`LOGIN_*` settings).
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    /// `signUp` and `logIn` attempts one address may make per minute.
    pub attempts_per_ip_per_minute: u64,
    /// Failures in a row of one account from one address before it backs off.
    pub free_failures: u64,
    /// The first back-off; each further failure doubles it…
    pub backoff_base: Duration,
    /// …up to this.
    pub backoff_max: Duration,
    /// `logIn` attempts on one account from all addresses per hour before every failure
    /// costs the full back-off.
    pub attempts_per_account_per_hour: u64,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            attempts_per_ip_per_minute: 30,
            free_failures: 5,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(15 * 60),
            attempts_per_account_per_hour: 100,
        }
    }
}

const IP_WINDOW: Duration = Duration::from_secs(60);
const ACCOUNT_WINDOW: Duration = Duration::from_secs(60 * 60);
/// Failures of one account from one address are forgotten after this long without one.
const FORGET_FAILURES: Duration = Duration::from_secs(24 * 60 * 60);
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// The limits, over counters every process shares.
pub struct LoginLimits {
    counters: Arc<dyn LoginCounters>,
    policy: LoginPolicy,
    clock: Arc<dyn store::Clock>,
    last_prune_ms: AtomicI64,
}

/// A `logIn` that was let through: say how it ended with [`LoginLimits::succeeded`].
pub struct LoginAttempt {
    pair: String,
}

impl LoginLimits {
    pub fn new(counters: Arc<dyn LoginCounters>, policy: LoginPolicy) -> Self {
        Self {
            counters,
            policy,
            clock: Arc::new(store::SystemClock),
            last_prune_ms: AtomicI64::new(0),
        }
    }

    pub fn policy(&self) -> &LoginPolicy {
        &self.policy
    }

    /// Spends one attempt of `ip`'s budget (`signUp` and `logIn` share it).
    pub async fn admit(&self, ip: ClientIp) -> Result<(), ApiError> {
        let now = self.clock.now();
        self.prune_now_and_then(now);
        let key = format!("ip:{}", address_key(ip.0));
        let Some(count) = self.fail_open(self.counters.count(&key, IP_WINDOW, now).await) else {
            return Ok(());
        };
        if count.hits > self.policy.attempts_per_ip_per_minute {
            metrics::counter!("fast_flights_login_refusals_total", "limit" => "ip").increment(1);
            return Err(retry_later(
                format!(
                    "too many sign-ups and log-ins from your address ({} a minute at most)",
                    self.policy.attempts_per_ip_per_minute
                ),
                now,
                count.resets_at,
            ));
        }
        Ok(())
    }

    /// Admits a `logIn` of `email` from `ip`, before any hashing: the address's budget, the
    /// account's ceiling, and the back-off of this account from this address. The attempt
    /// counts as a failure until [`Self::succeeded`].
    pub async fn begin_log_in(&self, ip: ClientIp, email: &str) -> Result<LoginAttempt, ApiError> {
        self.admit(ip).await?;
        let now = self.clock.now();
        let account = account_key(email);
        let pair = format!("pair:{account}:{}", address_key(ip.0));
        let under_attack = self
            .fail_open(
                self.counters
                    .count(&format!("account:{account}"), ACCOUNT_WINDOW, now)
                    .await,
            )
            .is_some_and(|count| count.hits > self.policy.attempts_per_account_per_hour);
        let backoff = if under_attack {
            // Every failure costs the full back-off; an address's first attempt still runs,
            // so the owner elsewhere is never refused.
            Backoff {
                free: 1,
                base: self.policy.backoff_max,
                max: self.policy.backoff_max,
            }
        } else {
            Backoff {
                free: self.policy.free_failures,
                base: self.policy.backoff_base,
                max: self.policy.backoff_max,
            }
        };
        let claim = self
            .counters
            .claim(&pair, backoff, FORGET_FAILURES, now)
            .await;
        if let Some(LoginClaim::Refused { until }) = self.fail_open(claim) {
            metrics::counter!("fast_flights_login_refusals_total", "limit" => "backoff")
                .increment(1);
            return Err(retry_later(
                "too many failed log-ins to this account from your address".into(),
                now,
                until,
            ));
        }
        Ok(LoginAttempt { pair })
    }

    /// The password was right: this address's failures on this account are forgotten.
    pub async fn succeeded(&self, attempt: LoginAttempt) {
        let cleared = self.counters.clear(&attempt.pair).await;
        self.fail_open(cleared);
    }

    fn fail_open<T>(&self, result: store::Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                metrics::counter!("fast_flights_login_limit_errors_total", "store" => self.counters.kind())
                    .increment(1);
                tracing::warn!(error = %e, store = self.counters.kind(), "log-in limits unavailable; letting the attempt through");
                None
            }
        }
    }

    /// At most once a minute per process, in the background: drop expired counts.
    fn prune_now_and_then(&self, now: DateTime<Utc>) {
        let now_ms = now.timestamp_millis();
        let last = self.last_prune_ms.load(Ordering::Relaxed);
        let due = now_ms - last >= i64::try_from(PRUNE_EVERY.as_millis()).unwrap_or(i64::MAX);
        if !due
            || self
                .last_prune_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let counters = Arc::clone(&self.counters);
        tokio::spawn(async move {
            match counters.prune(now).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(rows = n, "pruned expired log-in counts"),
                Err(e) => tracing::warn!(error = %e, "cannot prune log-in counts"),
            }
        });
    }
}

/// RATE_LIMITED, saying when to come back.
fn retry_later(why: String, now: DateTime<Utc>, until: DateTime<Utc>) -> ApiError {
    let millis = u64::try_from((until - now).num_milliseconds()).unwrap_or(0);
    let seconds = millis.div_ceil(1000).max(1);
    ApiError::RetryLater {
        message: format!("{why}; try again in {}", human(seconds)),
        retry_after_seconds: seconds,
    }
}

fn human(seconds: u64) -> String {
    match seconds {
        1 => "1 second".into(),
        s if s < 120 => format!("{s} seconds"),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

/// IPv4 addresses count one by one; IPv6 ones by their /64, the block one subscriber
/// usually holds whole.
fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// An email as the limits know it: normalised and hashed, so the counters hold no
/// addresses, and unknown accounts are counted exactly like real ones.
fn account_key(email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        assert_eq!(address_key("192.0.2.1".parse().expect("ip")), "192.0.2.1");
    }

    #[test]
    fn emails_are_counted_case_blind_and_hashed() {
        assert_eq!(
            account_key(" Ann@Example.com"),
            account_key("ann@example.com")
        );
        assert!(!account_key("ann@example.com").contains("ann"));
    }

    #[test]
    fn the_wait_is_rounded_up_to_whole_seconds() {
        let now = Utc::now();
        let ApiError::RetryLater {
            retry_after_seconds,
            message,
        } = retry_later("x".into(), now, now + chrono::Duration::milliseconds(1200))
        else {
            panic!("not RetryLater");
        };
        assert_eq!(retry_after_seconds, 2);
        assert!(message.ends_with("try again in 2 seconds"), "{message}");
    }
}
