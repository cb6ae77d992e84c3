//! Signed-in sessions: one row per refresh-token family, and the account's token version.
//! What a refresh secret is and how it rotates is the api's business; this keeps the rows.

use chrono::{DateTime, Utc};
use domain::Role;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationTrait,
    Set, TransactionTrait,
};
use uuid::Uuid;

use crate::entity::{session, user};
use crate::{Result, Store, StoreError, UserRecord};

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    /// SHA-256 (hex) of the current refresh secret; the secret itself is never stored.
    pub secret_hash: String,
    /// Derives each next secret from the one before.
    pub rotation_key: String,
    /// How many times the refresh secret was rotated.
    pub generation: i64,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub rotated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A session and its account as a signed-in request checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionAccount {
    pub role: Role,
    /// The account's token version now.
    pub token_version: i64,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl SessionAccount {
    /// Neither revoked nor past its expiry.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

#[derive(sea_orm::FromQueryResult)]
struct SessionAccountRow {
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    role: String,
    token_version: i64,
}

impl SessionRecord {
    /// Neither revoked nor past its expiry.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

impl From<session::Model> for SessionRecord {
    fn from(m: session::Model) -> Self {
        Self {
            id: m.id,
            user_id: m.user_id,
            secret_hash: m.secret_hash,
            rotation_key: m.rotation_key,
            generation: m.generation,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            rotated_at: m.rotated_at,
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// A session to open: its first secret's hash and its key.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Uuid,
    pub user_id: Uuid,
    pub secret_hash: String,
    pub rotation_key: String,
    pub expires_at: DateTime<Utc>,
}

/// A session's next secret, hashed, and the key that derives the ones after it.
#[derive(Debug, Clone, Copy)]
pub struct NewSecret<'a> {
    pub secret_hash: &'a str,
    pub rotation_key: &'a str,
}

impl Store {
    pub async fn create_session(&self, new: NewSession) -> Result<SessionRecord> {
        let now = Utc::now();
        let model = session::ActiveModel {
            id: Set(new.id),
            user_id: Set(new.user_id),
            secret_hash: Set(new.secret_hash),
            rotation_key: Set(new.rotation_key),
            generation: Set(0),
            created_at: Set(now),
            last_used_at: Set(now),
            rotated_at: Set(now),
            expires_at: Set(new.expires_at),
            revoked_at: Set(None),
        };
        Ok(model.insert(&self.db).await?.into())
    }

    pub async fn session(&self, id: Uuid) -> Result<Option<SessionRecord>> {
        Ok(session::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(SessionRecord::from))
    }

    /// What every signed-in request checks of `user`'s `session`, in one query of the
    /// four columns it needs. `None` when there is no such session of that account.
    pub async fn session_account(
        &self,
        session: Uuid,
        user: Uuid,
    ) -> Result<Option<SessionAccount>> {
        let row = session::Entity::find()
            .select_only()
            .column(session::Column::ExpiresAt)
            .column(session::Column::RevokedAt)
            .column(user::Column::Role)
            .column(user::Column::TokenVersion)
            .join(JoinType::InnerJoin, session::Relation::User.def())
            .filter(session::Column::Id.eq(session))
            .filter(session::Column::UserId.eq(user))
            .into_model::<SessionAccountRow>()
            .one(&self.db)
            .await?;
        row.map(|r| {
            Ok(SessionAccount {
                role: Role::parse(&r.role)
                    .ok_or_else(|| StoreError::Corrupt(format!("user {user}: role {}", r.role)))?,
                token_version: r.token_version,
                expires_at: r.expires_at,
                revoked_at: r.revoked_at,
            })
        })
        .transpose()
    }

    /// Moves a live session from generation `from` to the next, whose secret hashes to
    /// `to_hash`. `false` when it is no longer at `from` (another refresh won) or has ended.
    pub async fn rotate_session(&self, id: Uuid, from: i64, to_hash: &str) -> Result<bool> {
        let now = Utc::now();
        let done = session::Entity::update_many()
            .col_expr(session::Column::SecretHash, Expr::value(to_hash))
            .col_expr(session::Column::Generation, Expr::value(from + 1))
            .col_expr(session::Column::RotatedAt, Expr::value(now))
            .col_expr(session::Column::LastUsedAt, Expr::value(now))
            .filter(session::Column::Id.eq(id))
            .filter(session::Column::Generation.eq(from))
            .filter(session::Column::RevokedAt.is_null())
            .filter(session::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        Ok(done.rows_affected == 1)
    }

    /// Notes a use of a session that did not rotate it (a refresh within the grace).
    pub async fn touch_session(&self, id: Uuid) -> Result<()> {
        session::Entity::update_many()
            .col_expr(session::Column::LastUsedAt, Expr::value(Utc::now()))
            .filter(session::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Ends one session: its refresh token and its access tokens stop working.
    pub async fn revoke_session(&self, id: Uuid) -> Result<()> {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
            .filter(session::Column::Id.eq(id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Ends every session of an account but `keep`, and raises its token version so that
    /// every access token issued before stops working. Returns the account as it is now.
    pub async fn end_sessions(&self, user: Uuid, keep: Option<Uuid>) -> Result<UserRecord> {
        self.end_sessions_with(user, keep, None).await
    }

    /// Like [`Store::end_sessions`] keeping `keep`, also storing a new password hash and
    /// giving the kept session a new secret and key (so its old refresh token stops
    /// working), in one transaction. Returns the account and the kept session.
    pub async fn change_password(
        &self,
        user: Uuid,
        password_hash: &str,
        keep: Uuid,
        rekey: NewSecret<'_>,
    ) -> Result<(UserRecord, SessionRecord)> {
        let txn = self.db.begin().await?;
        let account = Self::end_sessions_in(&txn, user, Some(keep), Some(password_hash)).await?;
        let now = Utc::now();
        let done = session::Entity::update_many()
            .col_expr(session::Column::SecretHash, Expr::value(rekey.secret_hash))
            .col_expr(
                session::Column::RotationKey,
                Expr::value(rekey.rotation_key),
            )
            .col_expr(
                session::Column::Generation,
                Expr::col(session::Column::Generation).add(1),
            )
            .col_expr(session::Column::RotatedAt, Expr::value(now))
            .col_expr(session::Column::LastUsedAt, Expr::value(now))
            .filter(session::Column::Id.eq(keep))
            .filter(session::Column::UserId.eq(user))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        let kept = session::Entity::find_by_id(keep).one(&txn).await?;
        let Some(kept) = kept.filter(|_| done.rows_affected == 1) else {
            return Err(StoreError::SessionEnded(keep));
        };
        txn.commit().await?;
        Ok((account, kept.into()))
    }

    async fn end_sessions_with(
        &self,
        user_id: Uuid,
        keep: Option<Uuid>,
        password_hash: Option<&str>,
    ) -> Result<UserRecord> {
        let txn = self.db.begin().await?;
        let account = Self::end_sessions_in(&txn, user_id, keep, password_hash).await?;
        txn.commit().await?;
        Ok(account)
    }

    async fn end_sessions_in(
        txn: &sea_orm::DatabaseTransaction,
        user_id: Uuid,
        keep: Option<Uuid>,
        password_hash: Option<&str>,
    ) -> Result<UserRecord> {
        let mut bump = user::Entity::update_many()
            .col_expr(
                user::Column::TokenVersion,
                Expr::col(user::Column::TokenVersion).add(1),
            )
            .filter(user::Column::Id.eq(user_id));
        if let Some(hash) = password_hash {
            bump = bump.col_expr(user::Column::PasswordHash, Expr::value(hash));
        }
        if bump.exec(txn).await?.rows_affected == 0 {
            return Err(StoreError::UserNotFound(user_id));
        }
        let mut end = session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::RevokedAt.is_null());
        if let Some(keep) = keep {
            end = end.filter(session::Column::Id.ne(keep));
        }
        end.exec(txn).await?;
        let account = user::Entity::find_by_id(user_id)
            .one(txn)
            .await?
            .ok_or(StoreError::UserNotFound(user_id))?;
        UserRecord::try_from(account)
    }
}
