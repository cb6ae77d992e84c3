//! DataLoaders: one query per batch of ids, whatever the shape of the request.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use store::{JobRecord, OfferRecord, Store, UserRecord};
use uuid::Uuid;

use crate::error::ApiError;

pub struct OfferLoader(pub Store);

impl Loader<Uuid> for OfferLoader {
    type Value = OfferRecord;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, OfferRecord>, Self::Error> {
        let offers = self.0.offers_by_ids(keys).await.map_err(ApiError::from)?;
        Ok(offers.into_iter().map(|o| (o.id, o)).collect())
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
