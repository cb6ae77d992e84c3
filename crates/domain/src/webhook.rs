//! Webhook endpoints: which URLs may receive deliveries, which event types they take, and
//! when a failed delivery is tried again (docs/webhooks.md).

use std::net::IpAddr;
use std::time::Duration;

use crate::booking::event_type;

/// Longest endpoint URL accepted.
pub const MAX_URL_CHARS: usize = 2_000;
/// Longest description accepted.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// The event type that subscribes to every type, present and future.
pub const ALL_TYPES: &str = "*";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookInputError {
    #[error("the URL is not a valid absolute URL: {0}")]
    BadUrl(String),
    #[error("the URL must start with https:// (or http:// outside production), not {0}://")]
    Scheme(String),
    #[error("webhook URLs must use https:// in production; {0} uses http://")]
    HttpInProduction(String),
    #[error("the URL may not carry a user name or password")]
    Credentials,
    #[error("the URL is longer than {MAX_URL_CHARS} characters")]
    UrlTooLong,
    #[error(
        "{host} is a {class} address: deliveries there are refused in production (the operator \
         may allow it with WEBHOOK_ALLOW_HOSTS)"
    )]
    ForbiddenAddress { host: String, class: &'static str },
    #[error("give at least one event type (or \"*\" for all)")]
    NoEventTypes,
    #[error("`{0}` is not an event type; the types are {types}", types = known_types())]
    UnknownEventType(String),
    #[error("the description is longer than {MAX_DESCRIPTION_CHARS} characters")]
    DescriptionTooLong,
}

fn known_types() -> String {
    let mut all: Vec<&str> = event_type::ALL.to_vec();
    all.push(ALL_TYPES);
    all.join(", ")
}

/// Where deliveries may go. Outside production anything goes (a receiver on this laptop);
/// in production only `https` URLs whose addresses are public, unless allow-listed.
#[derive(Debug, Clone, Default)]
pub struct UrlPolicy {
    pub production: bool,
    /// Host names (exact, case-insensitive), addresses and CIDR ranges exempt from the
    /// address check (`WEBHOOK_ALLOW_HOSTS`).
    pub allow: Vec<AllowEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    Host(String),
    Net(ipnet::IpNet),
}

impl AllowEntry {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("an empty entry in WEBHOOK_ALLOW_HOSTS".into());
        }
        if let Ok(net) = raw.parse::<ipnet::IpNet>() {
            return Ok(AllowEntry::Net(net));
        }
        if let Ok(ip) = raw.parse::<IpAddr>() {
            return Ok(AllowEntry::Net(ipnet::IpNet::from(ip)));
        }
        let host = raw.trim_end_matches('.').to_ascii_lowercase();
        let valid = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if valid {
            Ok(AllowEntry::Host(host))
        } else {
            Err(format!(
                "`{raw}` in WEBHOOK_ALLOW_HOSTS is neither a host name, an address nor a CIDR range"
            ))
        }
    }
}

/// Why an address is no place for a delivery, or `None` when it is public.
pub fn forbidden_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                // 169.254.169.254 is the cloud metadata service.
                Some("link-local (cloud metadata)")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else if v4.is_broadcast() || v4.is_multicast() || a >= 240 {
                Some("broadcast, multicast or reserved")
            } else if v4.is_documentation() || (a == 198 && (b == 18 || b == 19)) {
                Some("documentation or benchmarking")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_class(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if (first & 0xfe00) == 0xfc00 {
                // fd00:ec2::254 is the cloud metadata service.
                Some("private (unique local)")
            } else if (first & 0xffc0) == 0xfe80 {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                Some("documentation")
            } else if first == 0x0064 && v6.segments()[1] == 0xff9b {
                // NAT64 reaches IPv4 addresses, private ones included.
                Some("NAT64")
            } else {
                None
            }
        }
    }
}

impl UrlPolicy {
    /// Whether `host` (a name or an address literal) is exempt from the address check.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.allow.iter().any(|entry| match entry {
            AllowEntry::Host(h) => *h == host,
            AllowEntry::Net(net) => ip.is_some_and(|ip| net.contains(&ip)),
        })
    }

    /// Whether a delivery to `host` may connect to `ip` (checked on every address a name
    /// resolves to, when the delivery is made).
    pub fn allows_address(&self, host: &str, ip: IpAddr) -> Result<(), WebhookInputError> {
        if !self.production || self.allows_host(host) {
            return Ok(());
        }
        let allowed_net = self
            .allow
            .iter()
            .any(|entry| matches!(entry, AllowEntry::Net(net) if net.contains(&ip)));
        match forbidden_class(ip) {
            Some(class) if !allowed_net => Err(WebhookInputError::ForbiddenAddress {
                host: if host.parse::<IpAddr>().is_ok() {
                    host.to_string()
                } else {
                    format!("{host} ({ip})")
                },
                class,
            }),
            _ => Ok(()),
        }
    }

    /// Checks an endpoint URL as given: its form, its scheme, and (for an address literal)
    /// the address. Names are resolved and checked at each delivery.
    pub fn check(&self, raw: &str) -> Result<url::Url, WebhookInputError> {
        let raw = raw.trim();
        if raw.chars().count() > MAX_URL_CHARS {
            return Err(WebhookInputError::UrlTooLong);
        }
        let url = url::Url::parse(raw).map_err(|e| WebhookInputError::BadUrl(e.to_string()))?;
        match url.scheme() {
            "https" => {}
            "http" if self.production => {
                return Err(WebhookInputError::HttpInProduction(url.to_string()));
            }
            "http" => {}
            other => return Err(WebhookInputError::Scheme(other.to_string())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookInputError::Credentials);
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(ip)) => {
                self.allows_address(&ip.to_string(), IpAddr::V4(ip))?;
                ip.to_string()
            }
            Some(url::Host::Ipv6(ip)) => {
                self.allows_address(&ip.to_string(), IpAddr::V6(ip))?;
                ip.to_string()
            }
            None => return Err(WebhookInputError::BadUrl("the URL has no host".into())),
        };
        if host.is_empty() {
            return Err(WebhookInputError::BadUrl("the URL has no host".into()));
        }
        if self.production && !self.allows_host(&host) {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                return Err(WebhookInputError::ForbiddenAddress {
                    host,
                    class: "loopback",
                });
            }
        }
        Ok(url)
    }
}

/// Checks and normalises the event types of an endpoint: known types, or `*`; sorted,
/// without repeats; `*` with others is `*` alone (it takes them all).
pub fn parse_event_types(raw: &[String]) -> Result<Vec<String>, WebhookInputError> {
    let mut types: Vec<String> = Vec::new();
    for t in raw {
        let t = t.trim();
        if t != ALL_TYPES && !event_type::ALL.contains(&t) {
            return Err(WebhookInputError::UnknownEventType(t.to_string()));
        }
        if !types.iter().any(|known| known == t) {
            types.push(t.to_string());
        }
    }
    if types.is_empty() {
        return Err(WebhookInputError::NoEventTypes);
    }
    if types.iter().any(|t| t == ALL_TYPES) {
        return Ok(vec![ALL_TYPES.to_string()]);
    }
    types.sort();
    Ok(types)
}

/// Whether an endpoint subscribed to `types` takes an event of type `event`.
pub fn takes(types: &[String], event: &str) -> bool {
    types.iter().any(|t| t == ALL_TYPES || t == event)
}

pub fn parse_description(raw: Option<&str>) -> Result<Option<String>, WebhookInputError> {
    match raw.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_CHARS => {
            Err(WebhookInputError::DescriptionTooLong)
        }
        other => Ok(other.map(str::to_string)),
    }
}

/// When failed deliveries are tried again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The pause after the first failure; each further one doubles it…
    pub base: Duration,
    /// …up to this.
    pub max_delay: Duration,
    /// A delivery still failing this long after its first attempt is FAILED.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(5),
            max_delay: Duration::from_secs(3_600),
            give_up_after: Duration::from_secs(86_400),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `failures + 1`, after `failures` failed ones: exponential
    /// with "full jitter" between half and all of it (`jitter` in 0.0..1.0), or the
    /// receiver's `Retry-After` when it asked for longer (never past `max_delay`).
    pub fn pause(&self, failures: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        let exponent = failures.saturating_sub(1).min(30);
        let full = self
            .base
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let jittered = full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        match retry_after {
            Some(asked) if asked > jittered => asked.min(self.max_delay),
            _ => jittered,
        }
    }
}

/// A `Retry-After` header: seconds, or an HTTP date.
pub fn parse_retry_after(raw: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let raw = raw.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    (at.with_timezone(&chrono::Utc) - now).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> UrlPolicy {
        UrlPolicy {
            production: true,
            allow: Vec::new(),
        }
    }

    #[test]
    fn production_refuses_http_and_inner_addresses() {
        let p = production();
        assert!(matches!(
            p.check("http://127.0.0.1/hook"),
            Err(WebhookInputError::HttpInProduction(_))
        ));
        let err = p.check("https://10.0.0.1/hook").unwrap_err();
        assert!(
            err.to_string().contains("10.0.0.1 is a private address"),
            "{err}"
        );
        for url in [
            "https://127.0.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[::ffff:10.1.2.3]/",
            "https://[fd00:ec2::254]/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://localhost/",
            "https://api.localhost/",
        ] {
            assert!(
                matches!(
                    p.check(url),
                    Err(WebhookInputError::ForbiddenAddress { .. })
                ),
                "{url}"
            );
        }
        assert!(p.check("https://hooks.example.com/in").is_ok());
        assert!(p.check("https://93.184.215.14/in").is_ok());
        assert!(p.check("ftp://example.com/").is_err());
        assert!(matches!(
            p.check("https://user:pw@example.com/"),
            Err(WebhookInputError::Credentials)
        ));
    }

    #[test]
    fn the_allow_list_opens_hosts_and_ranges() {
        let p = UrlPolicy {
            production: true,
            allow: vec![
                AllowEntry::parse("10.0.0.0/8").unwrap(),
                AllowEntry::parse("Receiver.Internal").unwrap(),
            ],
        };
        assert!(p.check("https://10.0.0.1/hook").is_ok());
        assert!(p.check("https://receiver.internal/hook").is_ok());
        assert!(
            p.allows_address("receiver.internal", "192.168.1.1".parse().unwrap())
                .is_ok()
        );
        assert!(
            p.allows_address("other.example", "10.1.1.1".parse().unwrap())
                .is_ok()
        );
        assert!(
            p.allows_address("other.example", "192.168.1.1".parse().unwrap())
                .is_err()
        );
        assert!(p.check("https://192.168.0.1/").is_err());
        assert!(AllowEntry::parse("not a host!").is_err());
    }

    #[test]
    fn development_allows_a_local_receiver() {
        let p = UrlPolicy::default();
        assert!(p.check("http://127.0.0.1:8080/hook").is_ok());
        assert!(
            p.allows_address("localhost", "127.0.0.1".parse().unwrap())
                .is_ok()
        );
    }

    #[test]
    fn event_types_are_checked_and_normalised() {
        let types = parse_event_types(&[
            "booking.confirmed".into(),
            " search.failed".into(),
            "booking.confirmed".into(),
        ])
        .unwrap();
        assert_eq!(types, vec!["booking.confirmed", "search.failed"]);
        assert!(takes(&types, "search.failed"));
        assert!(!takes(&types, "booking.created"));
        assert!(takes(&["*".into()], "import.finished"));
        assert_eq!(
            parse_event_types(&["search.failed".into(), "*".into()]).unwrap(),
            vec!["*"]
        );
        let err = parse_event_types(&["booking.made".into()]).unwrap_err();
        assert!(
            err.to_string()
                .contains("`booking.made` is not an event type")
        );
        assert_eq!(parse_event_types(&[]), Err(WebhookInputError::NoEventTypes));
    }

    #[test]
    fn pauses_grow_with_jitter_and_honour_retry_after() {
        let p = RetryPolicy {
            base: Duration::from_secs(5),
            max_delay: Duration::from_secs(60),
            give_up_after: Duration::from_secs(3600),
        };
        assert_eq!(p.pause(1, 1.0, None), Duration::from_secs(5));
        assert_eq!(p.pause(1, 0.0, None), Duration::from_millis(2500));
        assert_eq!(p.pause(3, 1.0, None), Duration::from_secs(20));
        assert_eq!(p.pause(30, 1.0, None), Duration::from_secs(60));
        assert_eq!(
            p.pause(1, 0.0, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(
            p.pause(1, 0.0, Some(Duration::from_secs(3000))),
            Duration::from_secs(60)
        );
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 10:01:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
