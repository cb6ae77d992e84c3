//! Every error a client can see, mapped to `extensions.code` in one place. Internal
//! causes are logged, never sent.
//!
//! `ApiError` deliberately does not implement `Display`: async-graphql converts any
//! `Display` type into an error without extensions, and `?` would silently pick that
//! conversion and lose the code. The one conversion below sets the code every time.

#[derive(Debug)]
pub enum ApiError {
    BadUserInput {
        field: String,
        message: String,
    },
    NotFound(String),
    Conflict(String),
    /// No valid token where one is needed.
    Unauthenticated(String),
    /// Signed in, but the role does not allow it.
    Forbidden(String),
    /// Too many attempts; try again later.
    RateLimited(String),
    /// Too many attempts; try again in `retry_after_seconds` (RATE_LIMITED too, with
    /// `extensions.retryAfterSeconds`).
    RetryLater {
        message: String,
        retry_after_seconds: u64,
    },
    /// An account's limit on searches; `admin` says which setting bounds it.
    QuotaExceeded {
        quota: store::QuotaExceeded,
        admin: bool,
    },
    /// A booking the store refused: SOLD_OUT, OFFER_EXPIRED, PRICE_CHANGED (with
    /// `extensions.newPrice`), or CONFLICT.
    Booking(store::BookingRefused),
    /// A feature this deployment has not set up (the message says what to set).
    Unavailable(String),
    /// The cause is logged where it happens; clients see only "internal error".
    Internal,
}

impl ApiError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput { .. } => "BAD_USER_INPUT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::RateLimited(_) | ApiError::RetryLater { .. } => "RATE_LIMITED",
            ApiError::QuotaExceeded { .. } => "QUOTA_EXCEEDED",
            ApiError::Booking(refusal) => match refusal {
                store::BookingRefused::SoldOut => "SOLD_OUT",
                store::BookingRefused::OfferExpired(_) => "OFFER_EXPIRED",
                store::BookingRefused::PriceChanged { .. } => "PRICE_CHANGED",
                store::BookingRefused::KeyReused(_)
                | store::BookingRefused::NotCancellable { .. } => "CONFLICT",
            },
            ApiError::Unavailable(_) => "UNAVAILABLE",
            ApiError::Internal => "INTERNAL",
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::BadUserInput { field, message } => format!("{field}: {message}"),
            ApiError::NotFound(what) => format!("{what} not found"),
            ApiError::Conflict(why)
            | ApiError::Unauthenticated(why)
            | ApiError::Forbidden(why)
            | ApiError::RateLimited(why)
            | ApiError::Unavailable(why)
            | ApiError::RetryLater { message: why, .. } => why.clone(),
            ApiError::QuotaExceeded { quota, .. } => quota.to_string(),
            ApiError::Booking(refusal) => refusal.to_string(),
            ApiError::Internal => "internal error".to_string(),
        }
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::JobNotFound(id) => ApiError::NotFound(format!("search job {id}")),
            store::StoreError::Conflict { .. } => ApiError::Conflict(e.to_string()),
            store::StoreError::BookingNotFound(id) => ApiError::NotFound(format!("booking {id}")),
            store::StoreError::BookingRefused(refusal) => ApiError::Booking(refusal),
            store::StoreError::UserNotFound(id) => ApiError::NotFound(format!("account {id}")),
            store::StoreError::SessionEnded(_) => {
                ApiError::Unauthenticated("this session has ended; log in again".into())
            }
            store::StoreError::EmailTaken(_) => ApiError::bad_input("email", e.to_string()),
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::Internal
            }
        }
    }
}

impl From<domain::SpecError> for ApiError {
    fn from(e: domain::SpecError) -> Self {
        ApiError::bad_input(e.field, e.message)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        let mut error = async_graphql::Error::new(e.message());
        let ext = error.extensions.get_or_insert_with(Default::default);
        ext.set("code", e.code());
        if let ApiError::BadUserInput { field, .. } = &e {
            ext.set("field", field.as_str());
        }
        if let ApiError::RetryLater {
            retry_after_seconds,
            ..
        } = &e
        {
            ext.set("retryAfterSeconds", *retry_after_seconds);
        }
        if let ApiError::QuotaExceeded { quota, admin } = &e {
            ext.set("limit", quota.limit.setting(*admin));
            ext.set("used", quota.used);
            ext.set("requested", quota.requested);
            ext.set("max", quota.max);
        }
        if let ApiError::Booking(store::BookingRefused::PriceChanged { price }) = &e {
            let mut new_price = async_graphql::indexmap::IndexMap::new();
            new_price.insert(
                async_graphql::Name::new("minorUnits"),
                async_graphql::Value::from(price.minor_units),
            );
            new_price.insert(
                async_graphql::Name::new("currency"),
                async_graphql::Value::from(price.currency.code()),
            );
            ext.set("newPrice", async_graphql::Value::Object(new_price));
        }
        error
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
