use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("cannot open database `{url}`: {reason}")]
    Connect { url: String, reason: String },
    #[error("job {0} not found")]
    JobNotFound(Uuid),
    #[error("job {id} is {status} and cannot be {action}")]
    Conflict {
        id: Uuid,
        status: &'static str,
        action: &'static str,
    },
    #[error("booking {0} not found")]
    BookingNotFound(Uuid),
    #[error("{0}")]
    BookingRefused(crate::BookingRefused),
    #[error("{0}")]
    QuotaExceeded(crate::QuotaExceeded),
    #[error("no account {0}")]
    UserNotFound(Uuid),
    #[error("session {0} has ended")]
    SessionEnded(Uuid),
    #[error("an account with the email {0} exists already")]
    EmailTaken(String),
    #[error("this file was imported before, as import {}", .0.id)]
    DuplicateImport(Box<crate::ImportRecord>),
    #[error("{0}")]
    Io(String),
    #[error("redis error: {0}")]
    Redis(String),
    #[error("not supported here: {0}")]
    Unsupported(&'static str),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
