//! DataLoaders: one query per batch of ids, whatever the shape of the request.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use store::{AttemptRecord, JobRecord, OfferColumns, OfferRecord, Store, UserRecord};
use uuid::Uuid;

use crate::error::ApiError;

pub struct OfferLoader(pub Store);

/// An offer, and the JSON columns the field that asks for it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfferKey {
    pub id: Uuid,
    pub columns: OfferColumns,
}

impl Loader<OfferKey> for OfferLoader {
    type Value = OfferRecord;
    type Error = async_graphql::Error;

    /// One query for the batch, with the columns any of its keys needs.
    async fn load(&self, keys: &[OfferKey]) -> Result<HashMap<OfferKey, OfferRecord>, Self::Error> {
        let columns = keys
            .iter()
            .fold(OfferColumns::NONE, |all, key| all.or(key.columns));
        let ids: Vec<Uuid> = keys.iter().map(|key| key.id).collect();
        let offers: HashMap<Uuid, OfferRecord> = self
            .0
            .offers_by_ids(&ids, columns)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        Ok(keys
            .iter()
            .filter_map(|key| Some((*key, offers.get(&key.id)?.clone())))
            .collect())
    }
}

pub struct JobLoader(pub Store);

impl Loader<Uuid> for JobLoader {
    type Value = JobRecord;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, JobRecord>, Self::Error> {
        let jobs = self.0.jobs_by_ids(keys).await.map_err(ApiError::from)?;
        Ok(jobs.into_iter().map(|j| (j.id, j)).collect())
    }
}

pub struct UserLoader(pub Store);

impl Loader<Uuid> for UserLoader {
    type Value = UserRecord;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, UserRecord>, Self::Error> {
        let users = self.0.users_by_ids(keys).await.map_err(ApiError::from)?;
        Ok(users.into_iter().map(|u| (u.id, u)).collect())
    }
}

/// A webhook delivery's attempts (the latest [`AttemptsLoader::LIMIT`], oldest first).
pub struct AttemptsLoader(pub Store);

impl AttemptsLoader {
    pub const LIMIT: u64 = 50;
}

impl Loader<Uuid> for AttemptsLoader {
    type Value = Vec<AttemptRecord>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<AttemptRecord>>, Self::Error> {
        Ok(self
            .0
            .webhook_attempts(keys, Self::LIMIT)
            .await
            .map_err(ApiError::from)?)
    }
}
