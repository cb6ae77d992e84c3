use std::time::Duration;

/// Why a provider call failed, and so whether trying again can help.
///
/// The text is shown to users (a search's `error` and `errorSample`): built-in providers
/// put a fixed category and the HTTP status in it, never what the provider answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("the provider did not answer within {0:?}")]
    Timeout(Duration),
    #[error("rate limited by the provider")]
    RateLimited { retry_after: Option<Duration> },
    /// A failure on the provider's side or on the way to it, which may pass.
    #[error("{0}")]
    Unavailable(String),
    /// A 503 (or similar) that says when to come back.
    #[error("{message}")]
    Overloaded {
        message: String,
        retry_after: Duration,
    },
    /// The provider refused this query; asking again cannot help.
    #[error("{0}")]
    InvalidQuery(String),
    /// The provider cannot serve any query (credentials, base URL): the search fails at once.
    #[error("{0}")]
    Down(String),
    /// An answer that breaks the contract.
    #[error("{0}")]
    BadResponse(String),
    /// The offer cannot be booked any more (sold out, withdrawn, past its validity).
    #[error("{0}")]
    OfferGone(String),
    /// The offer is still there, at another price: nothing was booked.
    #[error("the price is now {price}")]
    PriceChanged { price: domain::Money },
    /// The provider refused this booking (passenger data, payment, its own rules).
    #[error("{0}")]
    Refused(String),
    #[error("the provider does not support {0}")]
    Unsupported(&'static str),
    #[error("calls to the provider are paused after repeated failures (circuit open)")]
    CircuitOpen { retry_after: Duration },
}

impl ProviderError {
    /// Timeouts, rate limits and server-side failures may succeed on a later try.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::Timeout(_)
                | ProviderError::RateLimited { .. }
                | ProviderError::Unavailable(_)
                | ProviderError::Overloaded { .. }
                | ProviderError::CircuitOpen { .. }
        )
    }

    /// How long the provider (or its open circuit) asks callers to stay away.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited { retry_after } => *retry_after,
            ProviderError::Overloaded { retry_after, .. }
            | ProviderError::CircuitOpen { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}
