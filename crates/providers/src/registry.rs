use std::collections::BTreeMap;
use std::sync::Arc;

use crate::FlightProvider;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("a provider named `{0}` is already registered")]
    Duplicate(String),
}

struct Entry {
    provider: Arc<dyn FlightProvider>,
    enabled: bool,
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

    pub fn register(
        &mut self,
        provider: Arc<dyn FlightProvider>,
        enabled: bool,
    ) -> Result<(), RegistryError> {
        let name = provider.name().to_string();
        if self.entries.contains_key(&name) {
            return Err(RegistryError::Duplicate(name));
        }
        self.entries.insert(name, Entry { provider, enabled });
        Ok(())
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

    pub fn providers(&self) -> impl Iterator<Item = (&Arc<dyn FlightProvider>, bool)> {
        self.entries.values().map(|e| (&e.provider, e.enabled))
    }
}
