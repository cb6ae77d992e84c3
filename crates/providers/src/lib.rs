//! Flight providers: the [`FlightProvider`] trait, the [`ProviderRegistry`] that holds
//! them, and the built-in providers.

pub mod cache;
pub mod config;
mod error;
pub mod http;
pub mod middleware;
pub mod quota;
mod registry;
pub mod simulated;

use async_trait::async_trait;
use domain::{CallShape, FlightOffer, FlightQuery};
use serde::{Deserialize, Serialize};

pub use cache::{Answer, CacheStats, Cached, MemoryStore, RedisStore, Source, Unanswered};
pub use error::ProviderError;
pub use http::HttpProvider;
pub use middleware::{BreakerState, CallPolicy, ProviderHealth, layered, layered_with_quota};
pub use quota::{LocalQuota, Quota};
pub use registry::{ProviderInfo, ProviderRegistry, RegistryError};
pub use simulated::{SimulatedConfig, SimulatedProvider};

/// What one call of a provider can do. The task plan follows it: a provider that takes a
/// 30-day departure window and a whole nights range is asked once where a single-date one
/// is asked for every date and every stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Consecutive departure dates one call covers (1: a single date).
    pub date_window_days: u32,
    /// One call covers a round trip's whole nights range.
    pub nights_range: bool,
    /// Destinations one call covers.
    pub max_destinations: u32,
    /// The most offers one call returns, when the provider caps them.
    pub max_results: Option<u32>,
    /// How long a call usually takes, for planning and display.
    pub typical_latency_ms: u32,
    /// The provider can book the offers it returns.
    pub booking: bool,
    /// A booking sent twice with the same idempotency key books once, so a booking call
    /// that timed out or was cut off by a crash may be sent again.
    #[serde(default)]
    pub idempotent_booking: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            date_window_days: 1,
            nights_range: false,
            max_destinations: 1,
            max_results: None,
            typical_latency_ms: 0,
            booking: false,
            idempotent_booking: false,
        }
    }
}

impl Capabilities {
    /// How much of a search one call covers, as the task plan needs it.
    pub fn call_shape(&self, provider: &str) -> CallShape {
        CallShape {
            provider: provider.to_string(),
            date_window_days: self.date_window_days.max(1),
            nights_range: self.nights_range,
            max_destinations: self.max_destinations.max(1),
        }
    }
}

/// What a booking asks of a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRequest {
    /// The same key books once, however often it is sent (see
    /// [`Capabilities::idempotent_booking`]).
    pub idempotency_key: String,
    pub passengers: Vec<domain::Passenger>,
    /// The price the traveller agreed to, for all passengers. A provider that would charge
    /// another answers [`ProviderError::PriceChanged`] and books nothing.
    pub expected_price: domain::Money,
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

    /// Like [`search`](Self::search), saying where the answer came from: the answer cache
    /// ([`Cached`]) overrides it; every other provider asks itself.
    async fn answer(&self, query: &FlightQuery) -> Result<Answer, Unanswered> {
        self.search(query)
            .await
            .map(Answer::fresh)
            .map_err(|error| Unanswered {
                error,
                called: true,
            })
    }
    async fn book(
        &self,
        offer: &FlightOffer,
        request: &BookingRequest,
    ) -> Result<Confirmation, ProviderError>;

    /// How calls to this provider have gone in this process, when it is measured (the
    /// middleware of [`layered`] measures).
    fn health(&self) -> Option<ProviderHealth> {
        None
    }

    /// How the answer cache in front of this provider has done in this process, when its
    /// answers are cached.
    fn cache_stats(&self) -> Option<CacheStats> {
        None
    }
}
