//! Open sockets re-read their account every [`super::RECHECK_EVERY`]; sockets of one
//! session share that read, so ten thousand sockets of one session cost one query per
//! period, not ten thousand. A `subscribe` still reads the account itself, at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

use crate::ApiContext;
use crate::auth::{Session, Viewer};
use crate::error::ApiError;

type Table = Arc<Mutex<HashMap<(Uuid, Session), Weak<SessionCheck>>>>;

/// The sessions of this process's open sockets.
#[derive(Default)]
pub struct AccountChecks {
    sessions: Table,
}

impl AccountChecks {
    /// The shared check of `user`'s `session`, for as long as the socket holds it.
    pub fn of(&self, user: Uuid, session: Session) -> Arc<SessionCheck> {
        let key = (user, session);
        // The lock is let go before a check may drop: its drop takes the lock too.
        let existing = lock(&self.sessions).get(&key).and_then(Weak::upgrade);
        if let Some(check) = existing {
            return check;
        }
        let check = Arc::new(SessionCheck {
            key,
            table: Arc::clone(&self.sessions),
            last: tokio::sync::Mutex::new(None),
        });
        lock(&self.sessions).insert(key, Arc::downgrade(&check));
        check
    }
}

pub struct SessionCheck {
    key: (Uuid, Session),
    table: Table,
    /// The last read and when it was made; held while a read is under way, so sockets
    /// that ask meanwhile wait for it instead of reading too.
    last: tokio::sync::Mutex<Option<(Instant, Result<Viewer, String>)>>,
}

impl SessionCheck {
    /// The account as read at most `max_age` ago (read now if older).
    pub async fn account(&self, ctx: &ApiContext, max_age: Duration) -> Result<Viewer, ApiError> {
        let mut last = self.last.lock().await;
        if let Some((at, verdict)) = last.as_ref()
            && at.elapsed() < max_age
        {
            return verdict.clone().map_err(ApiError::Unauthenticated);
        }
        let (user, session) = &self.key;
        let verdict = match ctx.session_account(*user, session).await {
            Ok(viewer) => Ok(viewer),
            Err(ApiError::Unauthenticated(why)) => Err(why),
            // Not kept: the next check reads again.
            Err(other) => return Err(other),
        };
        *last = Some((Instant::now(), verdict.clone()));
        verdict.map_err(ApiError::Unauthenticated)
    }
}

impl Drop for SessionCheck {
    fn drop(&mut self) {
        let mut table = lock(&self.table);
        if table.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
            table.remove(&self.key);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
