//! Flight providers: the [`FlightProvider`] trait, the [`ProviderRegistry`] that holds
//! them, and the built-in providers.

mod error;
pub mod middleware;
mod registry;
pub mod simulated;

use async_trait::async_trait;
use domain::{FlightOffer, FlightQuery};
use serde::{Deserialize, Serialize};

pub use error::ProviderError;
pub use middleware::{BreakerState, CallPolicy, ProviderHealth, layered};
pub use registry::{ProviderRegistry, RegistryError};
pub use simulated::{SimulatedConfig, SimulatedProvider};

/// What one call of a provider can do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// The provider can book the offers it returns.
    pub booking: bool,
    /// How long a call usually takes, for planning and display.
    pub typical_latency_ms: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passengers {
    pub adults: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub reference: String,
}

/// A source of flight offers. Implementations must be deterministic enough that the same
/// offer comes back with the same [`FlightOffer::key`].
#[async_trait]
pub trait FlightProvider: Send + Sync {
    fn name(&self) -> &str;
    fn capabilities(&self) -> Capabilities;
    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError>;
    async fn book(
        &self,
        offer: &FlightOffer,
        passengers: &Passengers,
    ) -> Result<Confirmation, ProviderError>;

    /// How calls to this provider have gone in this process, when it is measured (the
    /// middleware of [`layered`] measures).
    fn health(&self) -> Option<ProviderHealth> {
        None
    }
}
