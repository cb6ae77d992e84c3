//! Accounts.

use chrono::{DateTime, Utc};
use domain::{Email, Role};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr,
};
use uuid::Uuid;

use crate::entity::user;
use crate::{Page, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    /// An argon2 PHC string; the password itself is never stored.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    /// Raised to end every token of the account at once (log-out everywhere, a new password).
    pub token_version: i64,
}

impl TryFrom<user::Model> for UserRecord {
    type Error = StoreError;

    fn try_from(m: user::Model) -> Result<Self> {
        Ok(Self {
            role: Role::parse(&m.role)
                .ok_or_else(|| StoreError::Corrupt(format!("user {}: role {}", m.id, m.role)))?,
            id: m.id,
            email: m.email,
            password_hash: m.password_hash,
            created_at: m.created_at,
            token_version: m.token_version,
        })
    }
}

impl Store {
    /// Creates an account; [`StoreError::EmailTaken`] if the address has one already.
    pub async fn create_user(
        &self,
        email: &Email,
        password_hash: &str,
        role: Role,
    ) -> Result<UserRecord> {
        let model = user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(email.as_str().to_string()),
            password_hash: Set(password_hash.to_string()),
            role: Set(role.as_str().to_string()),
            created_at: Set(Utc::now()),
            token_version: Set(0),
        };
        match model.insert(&self.db).await {
            Ok(m) => UserRecord::try_from(m),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Err(StoreError::EmailTaken(email.as_str().to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user(&self, id: Uuid) -> Result<Option<UserRecord>> {
        user::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(UserRecord::try_from)
            .transpose()
    }

    pub async fn users_by_ids(&self, ids: &[Uuid]) -> Result<Vec<UserRecord>> {
        user::Entity::find()
            .filter(user::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(UserRecord::try_from)
            .collect()
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<UserRecord>> {
        user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await?
            .map(UserRecord::try_from)
            .transpose()
    }

    /// Accounts, oldest first; `after` is the id of the last account of the previous page.
    /// `email_contains`: only emails with this in them (any case); `role`: only that role.
    pub async fn users_page(
        &self,
        first: u64,
        after: Option<Uuid>,
        email_contains: Option<&str>,
        role: Option<Role>,
    ) -> Result<Page<UserRecord>> {
        use sea_orm::ExprTrait;
        use sea_orm::sea_query::{Expr, LikeExpr};
        let mut query = user::Entity::find().order_by_asc(user::Column::Id);
        if let Some(after) = after {
            query = query.filter(user::Column::Id.gt(after));
        }
        if let Some(text) = email_contains.map(str::trim).filter(|t| !t.is_empty()) {
            let escaped: String = text
                .to_lowercase()
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            query = query.filter(
                Expr::col(user::Column::Email)
                    .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
            );
        }
        if let Some(role) = role {
            query = query.filter(user::Column::Role.eq(role.as_str()));
        }
        let mut rows = query.limit(first + 1).all(&self.db).await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page {
            items: rows
                .into_iter()
                .map(UserRecord::try_from)
                .collect::<Result<_>>()?,
            has_next,
        })
    }

    pub async fn count_users(&self) -> Result<u64> {
        Ok(user::Entity::find().count(&self.db).await?)
    }

    /// Changes an account's role; [`StoreError::UserNotFound`] if there is no such account.
    pub async fn set_user_role(&self, id: Uuid, role: Role) -> Result<UserRecord> {
        let model = user::ActiveModel {
            id: Set(id),
            role: Set(role.as_str().to_string()),
            ..Default::default()
        };
        match model.update(&self.db).await {
            Ok(m) => UserRecord::try_from(m),
            Err(sea_orm::DbErr::RecordNotUpdated) => Err(StoreError::UserNotFound(id)),
            Err(e) => Err(e.into()),
        }
    }
}
