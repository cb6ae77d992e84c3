//! `bookingStats`: the analytics consumer's daily figures, for admins.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::ApiContext;
use super::types::{Date, Money};
use crate::auth::AdminGuard;
use crate::error::ApiError;

/// One day's figures on one route, in one currency.
#[derive(SimpleObject)]
pub struct RouteDayStats {
    pub day: Date,
    pub origin: String,
    pub destination: String,
    pub currency: String,
    /// Bookings confirmed that day.
    pub bookings: i64,
    pub seats: i64,
    pub revenue: Money,
    pub cancellations: i64,
    pub refunded: Money,
    /// Searches that succeeded that day and covered the route.
    pub searches: i64,
    /// The cheapest price those searches found on the route.
    pub best_price: Option<Money>,
}

/// The longest range one `bookingStats` request covers.
const MAX_DAYS: i64 = 366;

#[derive(Default)]
pub struct AnalyticsQuery;

#[Object]
impl AnalyticsQuery {
    /// Daily figures per route and currency from `from` to `to` (both included, at most 366
    /// days), by day. ADMIN only. Kept by the analytics consumer, so a moment behind.
    #[graphql(guard = "AdminGuard")]
    async fn booking_stats(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
    ) -> Result<Vec<RouteDayStats>> {
        let api = ctx.data::<ApiContext>()?;
        if to.0 < from.0 {
            return Err(ApiError::bad_input(
                "to",
                format!("{} is before `from` ({})", to.0, from.0),
            )
            .into());
        }
        if (to.0 - from.0).num_days() >= MAX_DAYS {
            return Err(
                ApiError::bad_input("to", format!("a range is at most {MAX_DAYS} days")).into(),
            );
        }
        let rows = api
            .store
            .route_days(from.0, to.0)
            .await
            .map_err(ApiError::from)?;
        rows.into_iter()
            .map(|r| {
                let currency = domain::Currency::parse(&r.currency).map_err(|_| {
                    tracing::error!(currency = %r.currency, "analytics in an unknown currency");
                    ApiError::Internal
                })?;
                let money = |minor_units: i64| {
                    Money::from(domain::Money {
                        minor_units,
                        currency,
                    })
                };
                Ok(RouteDayStats {
                    day: Date(r.day),
                    origin: r.origin,
                    destination: r.destination,
                    currency: r.currency.clone(),
                    bookings: r.bookings,
                    seats: r.seats,
                    revenue: money(r.revenue_minor),
                    cancellations: r.cancellations,
                    refunded: money(r.refunded_minor),
                    searches: r.searches,
                    best_price: r.best_price_minor.map(money),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()
            .map_err(Into::into)
    }
}
