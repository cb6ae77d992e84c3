use std::collections::BTreeMap;
use std::sync::Arc;

use std::time::Duration;

use domain::CallShape;

use crate::FlightProvider;

/// How a provider is configured, as operators may see it. Holds no secret.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderInfo {
    /// `simulated`, `http`, or `in-process` for one registered through the library API.
    pub kind: String,
    pub base_url: Option<String>,
    /// Calls per second, and whether the limit holds per `"process"` or for the `"fleet"`.
    pub rate_limit: Option<(f64, &'static str)>,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub max_concurrency: Option<usize>,
    /// An API key is configured (its value is never shown).
    pub has_api_key: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("a provider named `{0}` is already registered")]
    Duplicate(String),
}

struct Entry {
    provider: Arc<dyn FlightProvider>,
    enabled: bool,
    info: ProviderInfo,
}

/// The providers a process knows, by name.
#[derive(Default)]
pub struct ProviderRegistry {
    entries: BTreeMap<String, Entry>,
}

impl ProviderRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a provider built in code (kind `in-process`).
    pub fn register(
        &mut self,
        provider: Arc<dyn FlightProvider>,
        enabled: bool,
    ) -> Result<(), RegistryError> {
        let info = ProviderInfo {
            kind: "in-process".into(),
            ..ProviderInfo::default()
        };
        self.register_with_info(provider, enabled, info)
    }

    pub fn register_with_info(
        &mut self,
        provider: Arc<dyn FlightProvider>,
        enabled: bool,
        info: ProviderInfo,
    ) -> Result<(), RegistryError> {
        let name = provider.name().to_string();
        if self.entries.contains_key(&name) {
            return Err(RegistryError::Duplicate(name));
        }
        self.entries.insert(
            name,
            Entry {
                provider,
                enabled,
                info,
            },
        );
        Ok(())
    }

    /// What one call of each provider covers, for planning searches.
    pub fn call_shapes(&self) -> Vec<CallShape> {
        self.entries
            .iter()
            .map(|(name, e)| e.provider.capabilities().call_shape(name))
            .collect()
    }

    pub fn info(&self, name: &str) -> Option<&ProviderInfo> {
        self.entries.get(name).map(|e| &e.info)
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn FlightProvider>> {
        self.entries.get(name).map(|e| Arc::clone(&e.provider))
    }

    pub fn is_enabled(&self, name: &str) -> bool {
        self.entries.get(name).is_some_and(|e| e.enabled)
    }

    /// Every registered provider's name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    /// The providers a search uses when it names none.
    pub fn enabled_names(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, e)| e.enabled)
            .map(|(n, _)| n.clone())
            .collect()
    }

    pub fn providers(
        &self,
    ) -> impl Iterator<Item = (&Arc<dyn FlightProvider>, bool, &ProviderInfo)> {
        self.entries
            .values()
            .map(|e| (&e.provider, e.enabled, &e.info))
    }
}
