//! Accounts: sign-up, log-in, `me`, and the admin's view of every account.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use domain::{Email, Role};
use store::UserRecord;
use uuid::Uuid;

use super::ApiContext;
use crate::auth::{self, AdminGuard, Caller};
use crate::cursor;
use crate::error::ApiError;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Role")]
pub enum GqlRole {
    /// Runs searches and sees their own.
    User,
    /// Also keeps the inventory, imports flights and sees every account and search.
    Admin,
}

impl From<Role> for GqlRole {
    fn from(r: Role) -> Self {
        match r {
            Role::User => GqlRole::User,
            Role::Admin => GqlRole::Admin,
        }
    }
}

impl From<GqlRole> for Role {
    fn from(r: GqlRole) -> Self {
        match r {
            GqlRole::User => Role::User,
            GqlRole::Admin => Role::Admin,
        }
    }
}

/// An account. Its password is never readable, not even its hash.
#[derive(SimpleObject, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: GqlRole,
    pub created_at: DateTime<Utc>,
}

impl From<UserRecord> for User {
    fn from(u: UserRecord) -> Self {
        Self {
            id: u.id,
            email: u.email,
            role: u.role.into(),
            created_at: u.created_at,
        }
    }
}

/// A signed-in session: send `token` as `Authorization: Bearer <token>` on HTTP, or as
/// `{"authorization": "Bearer <token>"}` in the websocket's `connection_init` payload.
/// Before `expiresAt`, trade `refreshToken` for a new pair with `refreshSession`.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// The access token (a JWT), short-lived (JWT_TTL_SECS, 15 minutes by default).
    pub token: String,
    /// When `token` expires.
    pub expires_at: DateTime<Utc>,
    /// Gets a new pair from `refreshSession`; works once (each use returns the next one).
    /// Keep it secret: it stands for the whole session.
    pub refresh_token: String,
    /// When the session ends and `refreshToken` stops working (REFRESH_TTL_SECS after
    /// signing in); then log in again.
    pub refresh_expires_at: DateTime<Utc>,
    pub user: User,
}

impl From<crate::sessions::SignedIn> for AuthPayload {
    fn from(s: crate::sessions::SignedIn) -> Self {
        Self {
            token: s.token,
            expires_at: s.expires_at,
            refresh_token: s.refresh_token,
            refresh_expires_at: s.refresh_expires_at,
            user: s.user.into(),
        }
    }
}

/// Opens a session for a user who just signed up or logged in.
async fn issue(api: &ApiContext, user: UserRecord) -> Result<AuthPayload, ApiError> {
    Ok(api.open_session(user).await?.into())
}

/// Password hashing is deliberately slow and memory-hungry (argon2): it runs off the async
/// threads, and no more at once than there are cores, so a flood of sign-ins queues
/// instead of exhausting the machine.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = HASHING.acquire().await.map_err(|_| ApiError::Internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ApiError::Internal)
}

pub(super) async fn hash(password: String) -> Result<String, ApiError> {
    hashing(move || auth::hash_password(&password))
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "cannot hash a password");
            ApiError::Internal
        })
}

pub(super) async fn verify(password: String, hash: String) -> bool {
    hashing(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

/// At most one `signUp` or `logIn` per request, so aliases cannot turn one request into a
/// thousand password guesses.
fn spend_auth_budget(ctx: &Context<'_>) -> Result<(), ApiError> {
    match ctx.data_opt::<crate::auth::AuthBudget>() {
        Some(budget) if !budget.spend() => Err(ApiError::RateLimited(budget.rule().into())),
        _ => Ok(()),
    }
}

/// The client address of a request (the unspecified address when the transport gives none).
fn client_ip(ctx: &Context<'_>) -> crate::client_ip::ClientIp {
    ctx.data_opt::<crate::client_ip::ClientIp>()
        .copied()
        .unwrap_or(crate::client_ip::ClientIp(std::net::IpAddr::V4(
            std::net::Ipv4Addr::UNSPECIFIED,
        )))
}

/// Compared against when the email is unknown, so that a wrong email takes as long to
/// refuse as a wrong password.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    auth::hash_password("no account has this password").unwrap_or_default()
});

/// Opens a websocket: send `{"authorization": "Bearer <ticket>"}` in `connection_init`.
#[derive(SimpleObject)]
pub struct SocketTicket {
    pub ticket: String,
    /// Use it before this.
    pub expires_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in account; null when the request carries no token.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(viewer) = Caller::of(ctx).0 else {
            return Ok(None);
        };
        let api = ctx.data::<ApiContext>()?;
        Ok(api
            .store
            .user(viewer.id)
            .await
            .map_err(ApiError::from)?
            .map(User::from))
    }

    /// Accounts, oldest first: all, or those whose email contains `search` (any case)
    /// and that have `role`. ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::query_limits::page(first, child_complexity)"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
        role: Option<GqlRole>,
    ) -> Result<Connection<String, User>> {
        let api = ctx.data::<ApiContext>()?;
        let first = cursor::page_size(first)?;
        let after: Option<Uuid> = after.map(|raw| cursor::decode("after", &raw)).transpose()?;
        if search.as_ref().is_some_and(|s| s.chars().count() > 320) {
            return Err(ApiError::bad_input("search", "longer than an email can be").into());
        }
        let page = api
            .store
            .users_page(first, after, search.as_deref(), role.map(Into::into))
            .await
            .map_err(ApiError::from)?;
        Ok(cursor::connection(
            after.is_some(),
            page,
            |u| u.id,
            User::from,
        ))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates a USER account and signs it in. Passwords need 10 to 200 characters.
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> Result<AuthPayload> {
        let api = ctx.data::<ApiContext>()?;
        spend_auth_budget(ctx)?;
        api.login_limits.admit(client_ip(ctx)).await?;
        let email = Email::parse(&email).map_err(|m| ApiError::bad_input("email", m))?;
        domain::check_password(&password).map_err(|m| ApiError::bad_input("password", m))?;
        let hash = hash(password).await?;
        let user = api
            .store
            .create_user(&email, &hash, Role::User)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(user_id = %user.id, "account created");
        Ok(issue(api, user).await?)
    }

    /// Signs in with an email and password.
    async fn log_in(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> Result<AuthPayload> {
        let api = ctx.data::<ApiContext>()?;
        spend_auth_budget(ctx)?;
        let refused = || ApiError::Unauthenticated("wrong email or password".into());
        let attempt = api
            .login_limits
            .begin_log_in(client_ip(ctx), &email)
            .await?;
        let user = match Email::parse(&email) {
            Ok(email) => api
                .store
                .user_by_email(&email)
                .await
                .map_err(ApiError::from)?,
            Err(_) => None,
        };
        let Some(user) = user else {
            // The same queue and the same work as a real account's check.
            let _ = hashing(move || auth::verify_password(&password, &DUMMY_HASH)).await;
            return Err(refused().into());
        };
        if !verify(password, user.password_hash.clone()).await {
            tracing::info!(user_id = %user.id, "log-in refused: wrong password");
            return Err(refused().into());
        }
        api.login_limits.succeeded(attempt).await;
        Ok(issue(api, user).await?)
    }

    /// A short-lived ticket that opens a websocket as the signed-in account, for browser
    /// code that never sees the session token (the web app keeps it in an httpOnly
    /// cookie). It must be used within a minute; the socket then lasts as long as the
    /// session. Tickets open websockets only (HTTP refuses them), and such a socket runs
    /// subscriptions only: a query or mutation over it is an error (FORBIDDEN).
    async fn create_socket_ticket(&self, ctx: &Context<'_>) -> Result<SocketTicket> {
        let api = ctx.data::<ApiContext>()?;
        let viewer = Caller::of(ctx).user()?;
        let Some(session) = ctx.data_opt::<auth::Session>().copied() else {
            return Err(ApiError::bad_input(
                "createSocketTicket",
                "ask for a ticket over HTTP, with the session token",
            )
            .into());
        };
        let ticket = api
            .tokens
            .issue_ticket(viewer.id, viewer.role, &session)
            .map_err(|e| {
                tracing::error!(error = %e, "cannot issue a socket ticket");
                ApiError::Internal
            })?;
        let ttl =
            chrono::Duration::from_std(auth::TICKET_TTL).unwrap_or(chrono::Duration::seconds(60));
        Ok(SocketTicket {
            ticket,
            expires_at: (Utc::now() + ttl).min(session.expires_at),
        })
    }

    /// Makes an account a USER or an ADMIN. ADMIN only; an admin cannot demote themselves,
    /// so the last admin cannot lock everyone out.
    #[graphql(guard = "AdminGuard")]
    async fn set_user_role(&self, ctx: &Context<'_>, user_id: Uuid, role: GqlRole) -> Result<User> {
        let api = ctx.data::<ApiContext>()?;
        let me = Caller::of(ctx).admin()?;
        if user_id == me.id && role != GqlRole::Admin {
            return Err(
                ApiError::Conflict("an admin cannot remove their own ADMIN role".into()).into(),
            );
        }
        let user = api
            .store
            .set_user_role(user_id, role.into())
            .await
            .map_err(ApiError::from)?;
        tracing::info!(user_id = %user.id, role = user.role.as_str(), "role changed");
        Ok(user.into())
    }
}
