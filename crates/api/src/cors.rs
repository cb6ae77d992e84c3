//! CORS for third-party browser integrators: only the origins the operator lists
//! (`CORS_ORIGINS`) may call the API from a browser; with none listed, no CORS headers are
//! sent and browsers keep other sites out. The API takes bearer tokens, not cookies, so
//! credentials are never allowed.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The layer for `origins` (`scheme://host[:port]` each, or `*` for any), or `None` when
/// there are none. An entry that is not an origin is an error naming it.
pub fn cors_layer(origins: &[String]) -> Result<Option<CorsLayer>, String> {
    let origins: Vec<&str> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins == ["*"] {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|o| parse_origin(o))
            .collect::<Result<Vec<HeaderValue>, String>>()?;
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static("apollo-require-preflight"),
            ])
            .max_age(Duration::from_secs(600)),
    ))
}

fn parse_origin(raw: &str) -> Result<HeaderValue, String> {
    let bad = |why: &str| {
        format!(
            "CORS_ORIGINS: `{raw}` is not an origin ({why}); write scheme://host[:port], e.g. https://app.example.com"
        )
    };
    if raw == "*" {
        return Err(bad("`*` stands alone: it allows every origin"));
    }
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or_else(|| bad("it needs http:// or https://"))?;
    if rest.is_empty() || rest.contains('/') || rest.contains('?') || rest.contains('#') {
        return Err(bad("an origin has no path"));
    }
    HeaderValue::from_str(raw).map_err(|_| bad("it holds characters a header cannot"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked() {
        assert!(cors_layer(&[]).expect("none").is_none());
        assert!(cors_layer(&[" ".into()]).expect("blank").is_none());
        assert!(cors_layer(&["*".into()]).expect("any").is_some());
        assert!(
            cors_layer(&[
                "https://a.example.com".into(),
                "http://localhost:3000".into()
            ])
            .expect("two")
            .is_some()
        );
        for bad in [
            "a.example.com",
            "https://a.example.com/app",
            "ftp://x",
            "https://",
        ] {
            let err = cors_layer(&[bad.into()]).expect_err(bad);
            assert!(err.contains(bad), "{err}");
        }
        assert!(cors_layer(&["*".into(), "https://a.example.com".into()]).is_err());
    }
}
