//! Opaque keyset cursors: base64 of a small JSON document.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, de::DeserializeOwned};

use crate::error::ApiError;

pub fn encode<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

pub fn decode<T: DeserializeOwned>(field: &str, raw: &str) -> Result<T, ApiError> {
    let invalid = || ApiError::bad_input(field, format!("`{raw}` is not a cursor from this list"));
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

/// `first` checked and defaulted.
pub fn page_size(first: Option<i32>) -> Result<u64, ApiError> {
    match first {
        None => Ok(20),
        Some(n @ 1..=100) => Ok(n as u64),
        Some(n) => Err(ApiError::bad_input("first", format!("{n}; use 1 to 100"))),
    }
}

/// The Relay connection of one keyset page: `key` gives each item's cursor (encoded with
/// [`encode`]), `node` what its edge shows. `after`: whether the page was asked for after a
/// cursor (there are items before it).
pub fn connection<T, K: Serialize, N: async_graphql::OutputType>(
    after: bool,
    page: store::Page<T>,
    key: impl Fn(&T) -> K,
    node: impl Fn(T) -> N,
) -> async_graphql::connection::Connection<String, N> {
    let mut connection = async_graphql::connection::Connection::new(after, page.has_next);
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|item| async_graphql::connection::Edge::new(encode(&key(&item)), node(item))),
    );
    connection
}
