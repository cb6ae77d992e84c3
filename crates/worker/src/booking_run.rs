//! A booking's provider call, held under a lease: re-check the offer, ask the provider with
//! the booking's idempotency key, store CONFIRMED or FAILED and its event in one
//! transaction. A worker killed between the provider's answer and that commit leaves the
//! call claimable; the next worker sends the same key again, which books nothing twice at
//! a provider whose bookings are idempotent. At one whose bookings are not, a call that
//! may have reached the provider is not sent again: the booking fails, saying so.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use providers::{BookingRequest, ProviderError, ProviderRegistry};
use store::{BookingRecord, CallResult, EventBus, JobEvent, Lease, Store};

use crate::runner::{LeaseKeeper, Outcome, Run, Stop};

/// Tries of one call at a provider whose bookings are idempotent, on retryable errors.
const MAX_TRIES: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

pub struct BookingRun {
    pub(crate) store: Store,
    pub(crate) providers: Arc<ProviderRegistry>,
    pub(crate) events: Arc<dyn EventBus>,
    pub(crate) lease: Lease,
    pub(crate) lease_ttl: Duration,
    /// Claims of this call so far, this one included.
    pub(crate) attempts: u32,
    pub(crate) booking: BookingRecord,
}

fn failed(code: &'static str, message: impl Into<String>) -> CallResult {
    CallResult::Failed {
        code,
        message: message.into(),
        new_price: None,
    }
}

impl BookingRun {
    /// What the provider says, or why it was not asked. `None`: stop here (shutdown).
    async fn call(&self, stop: &Stop) -> Option<CallResult> {
        let b = &self.booking;
        if let Some(expires_at) = b.offer.expires_at
            && expires_at <= self.store.now()
        {
            return Some(failed(
                "OFFER_EXPIRED",
                format!("the offer expired at {expires_at}; search again for a current price"),
            ));
        }
        let Some(provider) = self.providers.get(&b.provider) else {
            return Some(failed(
                "PROVIDER_FAILED",
                format!("the provider `{}` is not configured any more", b.provider),
            ));
        };
        let capabilities = provider.capabilities();
        if !capabilities.booking {
            return Some(failed(
                "PROVIDER_FAILED",
                format!("the provider `{}` does not take bookings", b.provider),
            ));
        }
        if self.attempts > 1 && !capabilities.idempotent_booking {
            return Some(failed(
                "PROVIDER_FAILED",
                "the provider's answer was lost (the worker stopped mid-call) and this provider \
                 cannot be asked twice safely; check with the provider before booking again",
            ));
        }
        let request = BookingRequest {
            idempotency_key: format!("{}:{}", b.account_id, b.idempotency_key),
            passengers: b.passengers.clone(),
            expected_price: b.price,
        };
        let mut backoff = FIRST_BACKOFF;
        let mut tries = 0;
        loop {
            tries += 1;
            let answer = tokio::select! {
                _ = stop.lease_lost.cancelled() => return None,
                answer = provider.book(&b.offer, &request) => answer,
            };
            let error = match answer {
                Ok(confirmation) => {
                    return Some(CallResult::Confirmed {
                        reference: confirmation.reference,
                    });
                }
                Err(e) => e,
            };
            let retry =
                error.is_retryable() && capabilities.idempotent_booking && tries < MAX_TRIES;
            if !retry {
                return Some(match error {
                    ProviderError::PriceChanged { price } => CallResult::Failed {
                        code: "PRICE_CHANGED",
                        message: format!(
                            "the price is now {price} (it was {}); book again to accept it",
                            b.price
                        ),
                        new_price: Some(price),
                    },
                    ProviderError::OfferGone(why) => failed("OFFER_EXPIRED", why),
                    ProviderError::Refused(why) => failed("PROVIDER_REFUSED", why),
                    other => failed(
                        "PROVIDER_FAILED",
                        format!("the provider could not book it: {other}"),
                    ),
                });
            }
            tracing::info!(booking_id = %b.id, error = %error, tries, "booking call failed; trying again");
            let wait = error
                .retry_after()
                .unwrap_or(backoff)
                .min(Duration::from_secs(30));
            backoff *= 2;
            tokio::select! {
                _ = stop.shutdown.cancelled() => return None,
                _ = stop.lease_lost.cancelled() => return None,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

#[async_trait]
impl Run for BookingRun {
    #[tracing::instrument(skip_all, fields(booking_id = %self.booking.id, provider = %self.booking.provider))]
    async fn execute(self: Box<Self>, stop: Stop) -> Outcome {
        let (keeper, stop) = LeaseKeeper::start(
            self.store.clone(),
            self.lease.clone(),
            self.lease_ttl,
            &stop,
        );
        let result = self.call(&stop).await;
        keeper.stop().await;
        let Some(result) = result else {
            if stop.lease_lost.is_cancelled() {
                return Outcome::LeaseLost;
            }
            return match self.store.release_booking_call(&self.lease).await {
                Ok(()) => Outcome::Released,
                Err(e) => Outcome::Aborted(e.to_string()),
            };
        };
        match self.store.finish_booking_call(&self.lease, result).await {
            Ok(Some((booking, _))) => {
                tracing::info!(status = booking.status.as_str(), "booking call finished");
                self.events.publish(JobEvent::Booking(booking.id));
                Outcome::Finished(booking.status.as_str())
            }
            Ok(None) => Outcome::LeaseLost,
            Err(e) => {
                tracing::error!(error = %e, "cannot store the provider's answer; the call will be sent again");
                Outcome::Aborted(e.to_string())
            }
        }
    }
}
