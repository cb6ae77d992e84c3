//! Who is calling: JSON Web Tokens issued at sign-up and log-in, checked on every request
//! (the `Authorization: Bearer` header) and websocket (`connection_init`), and argon2
//! password hashes.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use domain::Role;
pub use jsonwebtoken::Algorithm;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;

/// Who sent a request: a signed-in account, or nobody. Every request carries one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caller(pub Option<Viewer>);

impl Caller {
    pub fn of(ctx: &async_graphql::Context<'_>) -> Self {
        ctx.data_opt::<Caller>().copied().unwrap_or_default()
    }

    /// The signed-in account, or UNAUTHENTICATED.
    pub fn user(&self) -> Result<Viewer, ApiError> {
        self.0.ok_or_else(|| {
            ApiError::Unauthenticated(
                "sign in first: send `Authorization: Bearer <token>` with a token from logIn or signUp"
                    .into(),
            )
        })
    }

    /// A signed-in ADMIN, or UNAUTHENTICATED / FORBIDDEN.
    pub fn admin(&self) -> Result<Viewer, ApiError> {
        let viewer = self.user()?;
        if viewer.is_admin() {
            Ok(viewer)
        } else {
            Err(ApiError::Forbidden("this needs the ADMIN role".into()))
        }
    }
}

/// The signed-in session a token belongs to (request data when signed in): its id, the
/// account's token version the token carries, and when the session itself (its refresh
/// token) expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Session {
    pub id: Uuid,
    pub version: i64,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// One `signUp` or `logIn` per HTTP request, or per minute of a websocket (shared by all
/// its operations): placed in every request's data.
#[derive(Debug, Clone, Default)]
pub struct AuthBudget {
    spent_at: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    /// `None`: spent for good (one request); `Some`: spendable again after this long.
    renews_after: Option<std::time::Duration>,
}

impl AuthBudget {
    /// For all the operations of one websocket: one `signUp` or `logIn` per `period`.
    pub fn per_connection(period: std::time::Duration) -> Self {
        Self {
            renews_after: Some(period),
            ..Self::default()
        }
    }

    /// `true` if a `signUp` or `logIn` may run now; it then counts as spent.
    pub fn spend(&self) -> bool {
        let mut spent_at = self.spent_at.lock().unwrap_or_else(|e| e.into_inner());
        let renewed = match (*spent_at, self.renews_after) {
            (None, _) => true,
            (Some(at), Some(period)) => at.elapsed() >= period,
            (Some(_), None) => false,
        };
        if renewed {
            *spent_at = Some(std::time::Instant::now());
        }
        renewed
    }

    /// The rule, for the RATE_LIMITED message.
    pub fn rule(&self) -> &'static str {
        match self.renews_after {
            None => "one signUp or logIn per request",
            Some(_) => "one signUp or logIn per minute on a websocket",
        }
    }
}

/// Guards admin-only fields: FORBIDDEN for users, UNAUTHENTICATED for nobody.
pub struct AdminGuard;

impl async_graphql::Guard for AdminGuard {
    async fn check(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<()> {
        Caller::of(ctx).admin().map(|_| ()).map_err(Into::into)
    }
}

/// The signed-in caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub id: Uuid,
    pub role: Role,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this caller may see what `owner` owns: its owner and admins may.
    pub fn may_see(&self, owner: Option<Uuid>) -> bool {
        self.is_admin() || owner == Some(self.id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Config(String),
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("cannot issue a token: {0}")]
    Issue(String),
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
    /// Unique per token.
    jti: String,
    /// The session (refresh-token family) the token belongs to.
    sid: Uuid,
    /// The account's token version when the token was issued.
    ver: i64,
    /// When the session expires.
    sx: i64,
}

/// Which kinds of token a place accepts. A socket ticket is short-lived and may be seen by
/// browser code, so it opens websockets and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    Session,
    SessionOrTicket,
}

/// How long a socket ticket can be used to open a websocket.
pub const TICKET_TTL: Duration = Duration::from_secs(60);

/// Issues and checks tokens with one pinned algorithm and key.
pub struct Tokens {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
    audience: String,
    ttl: Duration,
    sessions: crate::sessions::SessionPolicy,
}

impl Tokens {
    /// HS256 with a shared secret.
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str, ttl: Duration) -> Self {
        Self {
            algorithm: Algorithm::HS256,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            ttl,
            sessions: Default::default(),
        }
    }

    /// RS256 or EdDSA from PEM keys: the private key signs, the public key verifies.
    pub fn asymmetric(
        algorithm: Algorithm,
        private_pem: &[u8],
        public_pem: &[u8],
        issuer: &str,
        audience: &str,
        ttl: Duration,
    ) -> Result<Self, AuthError> {
        let bad = |which: &str, e: jsonwebtoken::errors::Error| {
            AuthError::Config(format!(
                "the {which} key is not a {algorithm:?} PEM key: {e}"
            ))
        };
        let (encoding, decoding) = match algorithm {
            Algorithm::RS256 => (
                EncodingKey::from_rsa_pem(private_pem).map_err(|e| bad("private", e))?,
                DecodingKey::from_rsa_pem(public_pem).map_err(|e| bad("public", e))?,
            ),
            Algorithm::EdDSA => (
                EncodingKey::from_ed_pem(private_pem).map_err(|e| bad("private", e))?,
                DecodingKey::from_ed_pem(public_pem).map_err(|e| bad("public", e))?,
            ),
            other => {
                return Err(AuthError::Config(format!(
                    "{other:?} is not supported; use HS256, RS256 or EdDSA"
                )));
            }
        };
        Ok(Self {
            algorithm,
            encoding,
            decoding,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            ttl,
            sessions: Default::default(),
        })
    }

    /// A random HS256 secret, for development only: tokens die with the process.
    pub fn random_secret() -> Vec<u8> {
        let mut secret = vec![0u8; 32];
        OsRng.fill_bytes(&mut secret);
        secret
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How long sessions last and how refresh races are forgiven.
    pub fn with_sessions(self, sessions: crate::sessions::SessionPolicy) -> Self {
        Self { sessions, ..self }
    }

    pub fn sessions(&self) -> crate::sessions::SessionPolicy {
        self.sessions
    }

    /// How late an expired token is still taken, for clocks that differ a little: a fifth
    /// of the lifetime, at most 30 s (so a 15 s token is refused 18 s after issue).
    fn leeway(&self) -> u64 {
        (self.ttl.as_secs() / 5).min(30)
    }

    /// An access token of `session`, for [`Tokens::ttl`] (never past the session's end).
    pub fn issue(&self, user: Uuid, role: Role, session: &Session) -> Result<String, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            sub: user.to_string(),
            role: role.as_str().to_string(),
            iat: now,
            exp: (now + ttl).min(session.expires_at.timestamp()),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: Uuid::now_v7().to_string(),
            sid: session.id,
            ver: session.version,
            sx: session.expires_at.timestamp(),
        };
        self.encode(&claims)
    }

    fn encode(&self, claims: &Claims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&Header::new(self.algorithm), claims, &self.encoding)
            .map_err(|e| AuthError::Issue(e.to_string()))
    }

    fn ticket_audience(&self) -> String {
        format!("{}:socket", self.audience)
    }

    /// A socket ticket: opens a websocket within [`TICKET_TTL`], and the socket lives until
    /// the session it was made from expires or ends (the socket rechecks the session).
    pub fn issue_ticket(
        &self,
        user: Uuid,
        role: Role,
        session: &Session,
    ) -> Result<String, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(TICKET_TTL.as_secs()).unwrap_or(60);
        let claims = Claims {
            sub: user.to_string(),
            role: role.as_str().to_string(),
            iat: now,
            exp: (now + ttl).min(session.expires_at.timestamp()),
            iss: self.issuer.clone(),
            aud: self.ticket_audience(),
            jti: Uuid::now_v7().to_string(),
            sid: session.id,
            ver: session.version,
            sx: session.expires_at.timestamp(),
        };
        self.encode(&claims)
    }

    /// Checks signature, algorithm, `exp`, `iat`, `iss` and `aud` of a session token.
    pub fn verify(&self, token: &str) -> Result<Viewer, AuthError> {
        self.verify_until(token, Accept::Session)
            .map(|grant| grant.viewer)
    }

    /// Like [`Tokens::verify`], also saying until when what the token opens may last (for a
    /// ticket: its session's expiry).
    pub fn verify_until(&self, token: &str, accept: Accept) -> Result<Grant, AuthError> {
        let mut validation = Validation::new(self.algorithm);
        validation.algorithms = vec![self.algorithm];
        validation.leeway = self.leeway();
        validation.set_issuer(&[&self.issuer]);
        let ticket_audience = self.ticket_audience();
        match accept {
            Accept::Session => validation.set_audience(&[&self.audience]),
            Accept::SessionOrTicket => {
                validation.set_audience(&[self.audience.as_str(), ticket_audience.as_str()])
            }
        }
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                let why = match e.kind() {
                    ErrorKind::ExpiredSignature => "it has expired",
                    ErrorKind::InvalidSignature => "the signature does not match",
                    ErrorKind::InvalidAlgorithm => "it is not signed with the expected algorithm",
                    ErrorKind::InvalidAudience => "it is for another audience",
                    ErrorKind::InvalidIssuer => "it is from another issuer",
                    ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
                    _ => "it is malformed",
                };
                AuthError::InvalidToken(why.to_string())
            })?;
        let claims = data.claims;
        if claims.iat > chrono::Utc::now().timestamp() + 30 {
            return Err(AuthError::InvalidToken(
                "it was issued in the future".into(),
            ));
        }
        let id = Uuid::parse_str(&claims.sub)
            .map_err(|_| AuthError::InvalidToken("its subject is not a user id".into()))?;
        let role = Role::parse(&claims.role)
            .ok_or_else(|| AuthError::InvalidToken("its role is unknown".into()))?;
        let ticket = claims.aud == ticket_audience;
        let out_of_range = || AuthError::InvalidToken("its expiry is out of range".into());
        let session_expires_at =
            chrono::DateTime::from_timestamp(claims.sx, 0).ok_or_else(out_of_range)?;
        let expires_at = if ticket {
            session_expires_at
        } else {
            chrono::DateTime::from_timestamp(claims.exp, 0).ok_or_else(out_of_range)?
        };
        Ok(Grant {
            viewer: Viewer { id, role },
            expires_at,
            ticket,
            session: Session {
                id: claims.sid,
                version: claims.ver,
                expires_at: session_expires_at,
            },
        })
    }
}

/// What a verified token lets in: whom, until when (for a ticket: its session's expiry),
/// whether it was a socket ticket, and the session it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    pub viewer: Viewer,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub ticket: bool,
    pub session: Session,
}

impl crate::ApiContext {
    /// The account a bearer token stands for, with its role as stored now (so a changed
    /// role counts at once). UNAUTHENTICATED for a bad token, an ended session, a token
    /// from before the account's last log-out everywhere or password change, or a deleted
    /// account.
    pub async fn viewer(&self, token: &str) -> Result<Viewer, ApiError> {
        self.viewer_until(token, Accept::Session)
            .await
            .map(|grant| grant.viewer)
    }

    /// Like [`crate::ApiContext::viewer`], also saying when the token expires.
    pub async fn viewer_until(&self, token: &str, accept: Accept) -> Result<Grant, ApiError> {
        let grant = self
            .tokens
            .verify_until(token, accept)
            .map_err(|e| ApiError::Unauthenticated(e.to_string()))?;
        let viewer = self
            .session_account(grant.viewer.id, &grant.session)
            .await?;
        Ok(Grant { viewer, ..grant })
    }

    /// The account of `user`'s `session` as stored now, read with the session in one
    /// query: UNAUTHENTICATED when the session has ended or expired, when the token
    /// version is older than the account's, or when the account is gone.
    pub async fn session_account(&self, user: Uuid, session: &Session) -> Result<Viewer, ApiError> {
        let ended = |why: &str| Err(ApiError::Unauthenticated(format!("invalid token: {why}")));
        match self.store.session_account(session.id, user).await {
            Ok(Some(account)) => {
                if !account.is_live(chrono::Utc::now()) {
                    ended("its session has ended (logged out or expired); log in again")
                } else if account.token_version != session.version {
                    ended("the account logged out everywhere or changed its password since")
                } else {
                    Ok(Viewer {
                        id: user,
                        role: account.role,
                    })
                }
            }
            Ok(None) => ended("its session or its account no longer exists"),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the account of a token");
                Err(ApiError::Internal)
            }
        }
    }
}

/// An argon2id hash in PHC form, with a random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Issue(format!("hashing failed: {e}")))
}

/// Whether `password` matches `hash`. A malformed hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The token of an `Authorization: Bearer <token>` value.
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &[u8]) -> Tokens {
        Tokens::hs256(
            secret,
            "fast-flights",
            "fast-flights",
            Duration::from_secs(3600),
        )
    }

    #[test]
    fn a_token_round_trips() {
        let t = tokens(b"0123456789abcdef0123456789abcdef");
        let id = Uuid::now_v7();
        let session = Session {
            id: Uuid::now_v7(),
            version: 3,
            expires_at: chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp() + 7200, 0)
                .expect("time"),
        };
        let token = t.issue(id, Role::Admin, &session).expect("issue");
        let grant = t.verify_until(&token, Accept::Session).expect("valid");
        assert_eq!(
            grant.viewer,
            Viewer {
                id,
                role: Role::Admin
            }
        );
        assert_eq!(grant.session, session);
        assert!(!grant.ticket);
    }

    #[test]
    fn the_leeway_is_a_fifth_of_the_lifetime_up_to_30_s() {
        let t = |secs| Tokens::hs256(b"k", "i", "a", Duration::from_secs(secs));
        assert_eq!(t(15).leeway(), 3);
        assert_eq!(t(900).leeway(), 30);
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("correct horse"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn bearer_values_parse() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
