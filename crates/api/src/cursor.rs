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
