//! Providers switched on or off by admins, over what the providers file says.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};

use crate::entity::provider_setting;
use crate::{Result, Store};

impl Store {
    /// Provider name → enabled, for the providers an admin switched.
    pub async fn provider_overrides(&self) -> Result<HashMap<String, bool>> {
        Ok(provider_setting::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|s| (s.name, s.enabled))
            .collect())
    }

    pub async fn set_provider_enabled(&self, name: &str, enabled: bool) -> Result<()> {
        provider_setting::Entity::insert(provider_setting::ActiveModel {
            name: Set(name.to_string()),
            enabled: Set(enabled),
            updated_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(provider_setting::Column::Name)
                .update_columns([
                    provider_setting::Column::Enabled,
                    provider_setting::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&self.db)
        .await?;
        Ok(())
    }
}
