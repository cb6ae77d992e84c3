//! Sessions that can be revoked. Signing in opens a session (a `sessions` row) and hands
//! out a pair: a short access token (a JWT naming the session) and a refresh token
//! `<session id>.<generation>.<secret>`. `refreshSession` trades the refresh token for a
//! new pair and rotates it; only a hash of the current secret is stored.
//!
//! Each next secret is derived from the one before with a key kept in the row
//! (`HMAC(key, secret)`), so the server can tell a genuine older refresh token (reuse: it
//! ends the whole family) from a made-up one (refused, nothing else happens), and can hand
//! the same new pair again to a second refresh that raced the first with the same token
//! within the grace ([`SessionPolicy::reuse_grace`]).

use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use store::{NewSecret, NewSession, SessionRecord, UserRecord};
use uuid::Uuid;

use crate::ApiContext;
use crate::auth::Session;
use crate::error::ApiError;

/// How long sessions last and how a refresh race is forgiven.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// How long a session (its refresh token) lasts from sign-in; refreshing does not
    /// extend it.
    pub refresh_ttl: Duration,
    /// For how long after a rotation the refresh token just replaced still works, giving
    /// the same new pair (two tabs refreshing at once). Zero: every reuse ends the session.
    pub reuse_grace: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            reuse_grace: Duration::from_secs(10),
        }
    }
}

/// A signed-in pair: what `logIn`, `signUp`, `refreshSession` and `changePassword` return.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub user: UserRecord,
}

/// Rotations one refresh token may lag behind and still be recognised as this session's.
const MAX_LAG: i64 = 100_000;

const SECRET_BYTES: usize = 32;

fn random_bytes() -> [u8; SECRET_BYTES] {
    let mut bytes = [0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

fn hash_secret(secret: &[u8]) -> String {
    hex(&Sha256::digest(secret))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    text.len()
        .is_multiple_of(2)
        .then(|| {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
                .collect()
        })
        .flatten()
}

/// The secret that follows `secret` in a session keyed by `key`.
fn next_secret(key: &[u8], secret: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this never comes out empty.
    <Hmac<Sha256> as Mac>::new_from_slice(key).map_or_else(
        |_| Vec::new(),
        |mut mac| {
            mac.update(secret);
            mac.finalize().into_bytes().to_vec()
        },
    )
}

/// A refresh token taken apart.
struct Presented {
    session: Uuid,
    generation: i64,
    secret: Vec<u8>,
}

fn format_refresh(session: Uuid, generation: i64, secret: &[u8]) -> String {
    format!("{session}.{generation}.{}", URL_SAFE_NO_PAD.encode(secret))
}

fn parse_refresh(token: &str) -> Option<Presented> {
    let mut parts = token.trim().split('.');
    let session = Uuid::parse_str(parts.next()?).ok()?;
    let generation = parts.next()?.parse::<i64>().ok().filter(|g| *g >= 0)?;
    let secret = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    (parts.next().is_none() && secret.len() == SECRET_BYTES).then_some(Presented {
        session,
        generation,
        secret,
    })
}

fn refused(why: &str) -> ApiError {
    ApiError::Unauthenticated(format!("refreshToken: {why}"))
}

impl ApiContext {
    /// Opens a new session for `user` and returns its first pair.
    pub async fn open_session(&self, user: UserRecord) -> Result<SignedIn, ApiError> {
        let secret = random_bytes();
        let refresh_ttl = chrono::Duration::from_std(self.tokens.sessions().refresh_ttl)
            .unwrap_or(chrono::Duration::days(30));
        let row = self
            .store
            .create_session(NewSession {
                id: Uuid::now_v7(),
                user_id: user.id,
                secret_hash: hash_secret(&secret),
                rotation_key: hex(&random_bytes()),
                expires_at: Utc::now() + refresh_ttl,
            })
            .await?;
        tracing::info!(user_id = %user.id, session_id = %row.id, "session opened");
        self.pair(user, &row, &secret)
    }

    /// Stores a new password hash, ends every other session of the account and every
    /// token issued before, and returns a fresh pair for `session`.
    pub async fn change_password(
        &self,
        user: Uuid,
        session: Uuid,
        password_hash: &str,
    ) -> Result<SignedIn, ApiError> {
        let secret = random_bytes();
        let (secret_hash, rotation_key) = (hash_secret(&secret), hex(&random_bytes()));
        let (user, row) = self
            .store
            .change_password(
                user,
                password_hash,
                session,
                NewSecret {
                    secret_hash: &secret_hash,
                    rotation_key: &rotation_key,
                },
            )
            .await?;
        tracing::info!(user_id = %user.id, session_id = %row.id, "password changed; other sessions ended");
        self.pair(user, &row, &secret)
    }

    /// A new pair for `row` at its current generation, whose secret is `secret`.
    fn pair(
        &self,
        user: UserRecord,
        row: &SessionRecord,
        secret: &[u8],
    ) -> Result<SignedIn, ApiError> {
        let session = Session {
            id: row.id,
            version: user.token_version,
            expires_at: row.expires_at,
        };
        let token = self
            .tokens
            .issue(user.id, user.role, &session)
            .map_err(|e| {
                tracing::error!(error = %e, "cannot issue a token");
                ApiError::Internal
            })?;
        let ttl =
            chrono::Duration::from_std(self.tokens.ttl()).unwrap_or(chrono::Duration::minutes(15));
        Ok(SignedIn {
            token,
            expires_at: (Utc::now() + ttl).min(row.expires_at),
            refresh_token: format_refresh(row.id, row.generation, secret),
            refresh_expires_at: row.expires_at,
            user,
        })
    }

    /// Trades a refresh token for a new pair, rotating it. A genuine refresh token that
    /// was rotated already (outside the grace) ends its session: somebody else has it.
    pub async fn refresh_session(&self, refresh_token: &str) -> Result<SignedIn, ApiError> {
        let presented = parse_refresh(refresh_token).ok_or_else(|| {
            refused("not a refresh token; use the refreshToken of logIn, signUp or refreshSession")
        })?;
        // A lost race with a parallel refresh reads the row again: then this token is
        // the one just replaced, and the grace decides.
        for _ in 0..3 {
            let row = self
                .store
                .session(presented.session)
                .await?
                .ok_or_else(|| refused("this session no longer exists; log in again"))?;
            if !row.is_live(Utc::now()) {
                return Err(refused("this session has ended; log in again"));
            }
            let lag = row.generation - presented.generation;
            if !(0..=MAX_LAG).contains(&lag) {
                return Err(refused("not a refresh token of this session"));
            }
            let key = unhex(&row.rotation_key).ok_or_else(|| {
                tracing::error!(session_id = %row.id, "a session's rotation key is not hex");
                ApiError::Internal
            })?;
            let mut current = presented.secret.clone();
            for _ in 0..lag {
                current = next_secret(&key, &current);
            }
            if hash_secret(&current) != row.secret_hash {
                return Err(refused("not a refresh token of this session"));
            }
            let user = self
                .store
                .user(row.user_id)
                .await?
                .ok_or_else(|| refused("its account no longer exists"))?;
            if lag == 0 {
                let next = next_secret(&key, &current);
                if self
                    .store
                    .rotate_session(row.id, row.generation, &hash_secret(&next))
                    .await?
                {
                    let row = SessionRecord {
                        generation: row.generation + 1,
                        ..row
                    };
                    return self.pair(user, &row, &next);
                }
                continue;
            }
            let grace = chrono::Duration::from_std(self.tokens.sessions().reuse_grace)
                .unwrap_or(chrono::Duration::zero());
            if lag == 1 && Utc::now() < row.rotated_at + grace {
                self.store.touch_session(row.id).await?;
                return self.pair(user, &row, &current);
            }
            self.store.revoke_session(row.id).await?;
            tracing::warn!(
                user_id = %row.user_id,
                session_id = %row.id,
                "a rotated refresh token was used again: session ended"
            );
            return Err(refused(
                "this refresh token was used already, so the session has ended; log in again",
            ));
        }
        Err(refused(
            "the session is being refreshed elsewhere; try again",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_round_trip_and_junk_is_refused() {
        let id = Uuid::now_v7();
        let secret = random_bytes();
        let token = format_refresh(id, 7, &secret);
        let parsed = parse_refresh(&token).expect("parses");
        assert_eq!(
            (parsed.session, parsed.generation, parsed.secret),
            (id, 7, secret.to_vec())
        );
        for junk in [
            "",
            "abc",
            &format!("{id}.1"),
            &format!("{id}.-1.AAAA"),
            &format!("{token}.x"),
        ] {
            assert!(parse_refresh(junk).is_none(), "{junk}");
        }
    }

    #[test]
    fn secrets_follow_from_their_key() {
        let (key, other) = (random_bytes(), random_bytes());
        let secret = random_bytes();
        assert_eq!(next_secret(&key, &secret), next_secret(&key, &secret));
        assert_ne!(next_secret(&key, &secret), next_secret(&other, &secret));
        assert_eq!(unhex(&hex(&key)).expect("hex"), key.to_vec());
    }
}
