//! What the store's test files share.

use chrono::Utc;
use domain::{SearchRequest, SearchSpec, ValidationContext};

/// LHR → JFK, ten departure days from ten days ahead, on the simulated provider.
pub fn spec() -> SearchSpec {
    let today = Utc::now().date_naive();
    let providers = vec!["simulated".to_string()];
    SearchSpec::parse(
        SearchRequest {
            origins: vec!["LHR".into()],
            destinations: vec!["JFK".into()],
            departure_from: today + chrono::Duration::days(10),
            departure_to: today + chrono::Duration::days(19),
            ..Default::default()
        },
        &ValidationContext {
            today,
            max_tasks: 1000,
            known_providers: &providers,
            enabled_providers: &providers,
            call_shapes: &[],
        },
    )
    .expect("valid spec")
}
