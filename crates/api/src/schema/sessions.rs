//! Sessions: refreshing a pair, logging out here or everywhere, changing the password.

use async_graphql::{Context, Object, Result};

use super::ApiContext;
use super::accounts::{self, AuthPayload};
use crate::auth::{Caller, Session, Viewer};
use crate::error::ApiError;

/// The caller and the session of an HTTP request's access token.
fn this_session(ctx: &Context<'_>, field: &str) -> Result<(Viewer, Session), ApiError> {
    let viewer = Caller::of(ctx).user()?;
    let session = ctx.data_opt::<Session>().copied().ok_or_else(|| {
        ApiError::bad_input(field, "send it over HTTP, with the session's access token")
    })?;
    Ok((viewer, session))
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Trades a refresh token for a new pair (access token and refresh token). The refresh
    /// token rotates on every use: keep the new one. Presenting one that was already
    /// traded ends the whole session (both tokens stop working), except within a few
    /// seconds of its use (REFRESH_REUSE_GRACE_SECS), when it returns the same new pair
    /// again, for two requests that refreshed at once. UNAUTHENTICATED when the refresh
    /// token is unknown, expired or its session has ended: log in again.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> Result<AuthPayload> {
        let api = ctx.data::<ApiContext>()?;
        Ok(api.refresh_session(&refresh_token).await?.into())
    }

    /// Ends this session: its access tokens and its refresh token stop working at once
    /// (websockets opened from it close within 30 seconds).
    async fn log_out(&self, ctx: &Context<'_>) -> Result<bool> {
        let api = ctx.data::<ApiContext>()?;
        let (viewer, session) = this_session(ctx, "logOut")?;
        api.store
            .revoke_session(session.id)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(user_id = %viewer.id, session_id = %session.id, "logged out");
        Ok(true)
    }

    /// Ends every session of the account, this one included, on every device.
    async fn log_out_everywhere(&self, ctx: &Context<'_>) -> Result<bool> {
        let api = ctx.data::<ApiContext>()?;
        let viewer = Caller::of(ctx).user()?;
        api.store
            .end_sessions(viewer.id, None)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(user_id = %viewer.id, "logged out everywhere");
        Ok(true)
    }

    /// Changes the password (10 to 200 characters), given the current one. Every other
    /// session ends, and so does every access token issued before; this session goes on
    /// with the pair returned here. A wrong `currentPassword` is BAD_USER_INPUT.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<AuthPayload> {
        let api = ctx.data::<ApiContext>()?;
        let (viewer, session) = this_session(ctx, "changePassword")?;
        domain::check_password(&new_password).map_err(|m| ApiError::bad_input("newPassword", m))?;
        let user = api
            .store
            .user(viewer.id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::Unauthenticated("the account no longer exists".into()))?;
        if !accounts::verify(current_password, user.password_hash).await {
            tracing::info!(user_id = %viewer.id, "password change refused: wrong current password");
            return Err(
                ApiError::bad_input("currentPassword", "that is not the current password").into(),
            );
        }
        let hash = accounts::hash(new_password).await?;
        Ok(api
            .change_password(viewer.id, session.id, &hash)
            .await?
            .into())
    }
}
