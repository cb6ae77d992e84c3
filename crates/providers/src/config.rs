//! Which providers exist and how each is called: a TOML providers file, with environment
//! overrides of the form `PROVIDERS__<NAME>__<FIELD>=value` (name and field upper-cased,
//! `-` in a name written `_`). See docs/providers.md.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The prefix of environment overrides.
pub const ENV_PREFIX: &str = "PROVIDERS__";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Made-up fares, no network (see [`crate::SimulatedProvider`]).
    Simulated,
    /// Any service that speaks the JSON contract of docs/providers.md.
    Http,
    /// The admins' flight catalogue (`inventory_flights`), searched in the database.
    Inventory,
}

impl ProviderKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ProviderKind::Simulated => "simulated",
            ProviderKind::Http => "http",
            ProviderKind::Inventory => "inventory",
        }
    }
}

/// One provider's entry. Unset call settings fall back to the process-wide defaults
/// (`PROVIDER_TIMEOUT_MS` and friends).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// `http`: where the provider serves `POST /search` (and `/book`).
    pub base_url: Option<String>,
    /// `http`: the environment variable holding the API key, sent as a bearer token. The
    /// key itself never appears in the file, the API or the logs.
    pub api_key_env: Option<String>,
    /// Calls per second; shared by every worker process on one PostgreSQL.
    pub rate_limit: Option<f64>,
    pub timeout_ms: Option<u64>,
    pub retries: Option<u32>,
    pub max_concurrency: Option<usize>,
    pub breaker_threshold: Option<u32>,
    pub breaker_cooldown_ms: Option<u64>,
    /// What one call covers (see [`crate::Capabilities`]).
    pub date_window_days: Option<u32>,
    pub nights_range: Option<bool>,
    pub max_destinations: Option<u32>,
    pub max_results: Option<u32>,
    pub booking: Option<bool>,
    pub typical_latency_ms: Option<u32>,
    /// `simulated`: mean latency, error share and seed.
    pub latency_ms: Option<u64>,
    pub error_rate: Option<f64>,
    pub seed: Option<u64>,
    /// `simulated`: share of bookings refused, and of offers whose price has moved when
    /// they are booked.
    pub booking_failure_rate: Option<f64>,
    pub price_change_rate: Option<f64>,
    /// How long an answer is kept in the answer cache: whole seconds, or a number with a
    /// unit (`90s`, `10m`, `2h`); `0` or `off` turns the cache off for this provider.
    /// Default: 10 minutes for `simulated`, off for `http`; `inventory` is never cached.
    pub cache_ttl: Option<toml::Value>,
}

/// A provider's `cache_ttl`, as written in the providers file or its override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheTtl(pub std::time::Duration);

impl CacheTtl {
    /// `600`, `90s`, `10m`, `2h`, `1d`, `0` or `off`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim().to_ascii_lowercase();
        if text == "off" {
            return Ok(Self(std::time::Duration::ZERO));
        }
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let seconds = match unit.trim() {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => 0,
        };
        match number.parse::<u64>() {
            Ok(n) if seconds > 0 && n.checked_mul(seconds).is_some_and(|s| s <= 30 * 86_400) => {
                Ok(Self(std::time::Duration::from_secs(n * seconds)))
            }
            _ => Err(format!(
                "cache_ttl must be seconds or a number with s, m, h or d (at most 30 days), \
                 or off; not `{raw}`"
            )),
        }
    }
}

impl CacheTtl {
    /// The field as written: a whole number of seconds or a text for [`CacheTtl::parse`].
    pub fn from_value(value: &toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::Integer(n) => Self::parse(&n.to_string()),
            toml::Value::String(text) => Self::parse(text),
            other => Err(format!(
                "cache_ttl must be seconds or a number with s, m, h or d, or off; not {other}"
            )),
        }
    }
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvidersFile {
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the providers file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("providers file {path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("{variable}: {reason}")]
    Env { variable: String, reason: String },
    #[error("provider `{name}`: {reason}")]
    Invalid { name: String, reason: String },
}

impl ProvidersFile {
    /// Reads `path` (or starts from `defaults` without one), applies the overrides among
    /// `env`, and checks every entry.
    pub fn load(
        path: Option<&Path>,
        defaults: toml::Table,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let source = path.map_or_else(
            || "(built-in defaults)".to_string(),
            |p| p.display().to_string(),
        );
        let mut table = match path {
            None => defaults,
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
                    path: source.clone(),
                    reason: e.to_string(),
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Parse {
                        path: source.clone(),
                        reason: e.to_string(),
                    })?
            }
        };
        apply_env(&mut table, env)?;
        let file: ProvidersFile =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: source,
                    reason: e.message().to_string(),
                })?;
        for (name, entry) in &file.providers {
            entry.check(name)?;
        }
        Ok(file)
    }
}

impl ProviderConfig {
    /// `latency_ms`, `error_rate` and `seed` shape made-up fares; elsewhere they would be
    /// silently ignored, so they are refused.
    fn only_for_simulated(
        &self,
        invalid: &dyn Fn(String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        for (field, set) in [
            ("latency_ms", self.latency_ms.is_some()),
            ("error_rate", self.error_rate.is_some()),
            ("seed", self.seed.is_some()),
            ("booking_failure_rate", self.booking_failure_rate.is_some()),
            ("price_change_rate", self.price_change_rate.is_some()),
        ] {
            if set {
                return Err(invalid(format!(
                    "{field} is for simulated providers, not {}",
                    self.kind.as_str()
                )));
            }
        }
        Ok(())
    }

    fn check(&self, name: &str) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            name: name.to_string(),
            reason,
        };
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !valid_name {
            return Err(invalid(
                "names are 1 to 64 characters of a-z, 0-9, `-` and `_`".into(),
            ));
        }
        if let Some(value) = &self.cache_ttl {
            CacheTtl::from_value(value).map_err(&invalid)?;
        }
        if let Some(rate) = self.rate_limit
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(invalid(format!(
                "rate_limit must be a positive number of calls per second, not {rate}"
            )));
        }
        for (field, rate) in [
            ("error_rate", self.error_rate),
            ("booking_failure_rate", self.booking_failure_rate),
            ("price_change_rate", self.price_change_rate),
        ] {
            if let Some(rate) = rate
                && !(0.0..=1.0).contains(&rate)
            {
                return Err(invalid(format!(
                    "{field} must be within 0 and 1, not {rate}"
                )));
            }
        }
        if let Some(retries) = self.retries
            && retries > 20
        {
            return Err(invalid(format!("retries must be 0 to 20, not {retries}")));
        }
        if self.timeout_ms == Some(0) {
            return Err(invalid("timeout_ms must be above 0".into()));
        }
        if self.max_concurrency == Some(0) {
            return Err(invalid("max_concurrency must be above 0".into()));
        }
        for (field, value) in [
            ("date_window_days", self.date_window_days),
            ("max_destinations", self.max_destinations),
        ] {
            if value == Some(0) {
                return Err(invalid(format!("{field} must be at least 1")));
            }
        }
        match self.kind {
            ProviderKind::Http => {
                let Some(url) = &self.base_url else {
                    return Err(invalid("an http provider needs base_url".into()));
                };
                let parsed = reqwest::Url::parse(url)
                    .map_err(|e| invalid(format!("base_url is not a URL: {e}")))?;
                // Secrets belong in api_key_env, where they are never shown.
                if !parsed.username().is_empty() || parsed.password().is_some() {
                    return Err(invalid(
                        "base_url must not hold a user or password; put the key in the \
                         variable api_key_env names"
                            .into(),
                    ));
                }
                if parsed.query().is_some() || parsed.fragment().is_some() {
                    return Err(invalid(
                        "base_url must not have a query string or fragment (a key there would \
                         be shown to admins); use api_key_env"
                            .into(),
                    ));
                }
                if !matches!(parsed.scheme(), "https" | "http") {
                    return Err(invalid(format!(
                        "base_url must start with https:// (or http:// for a provider on a \
                         network you trust), not {}://",
                        parsed.scheme()
                    )));
                }
                self.only_for_simulated(&invalid)?;
            }
            ProviderKind::Simulated => {
                if self.base_url.is_some() || self.api_key_env.is_some() {
                    return Err(invalid(
                        "base_url and api_key_env are for http providers".into(),
                    ));
                }
            }
            ProviderKind::Inventory => {
                if self.base_url.is_some() || self.api_key_env.is_some() {
                    return Err(invalid(
                        "base_url and api_key_env are for http providers".into(),
                    ));
                }
                self.only_for_simulated(&invalid)?;
                let ttl = self.cache_ttl.as_ref().map(CacheTtl::from_value);
                if ttl.is_some_and(|t| t.is_ok_and(|t| !t.0.is_zero())) {
                    return Err(invalid(
                        "cache_ttl cannot be set for an inventory provider: it reads the \
                         catalogue in this database, which is never cached"
                            .into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// How long this provider's answers are cached; `None`: not at all.
    pub fn cache_ttl(&self) -> Option<std::time::Duration> {
        let default = match self.kind {
            ProviderKind::Simulated => Some(std::time::Duration::from_secs(600)),
            ProviderKind::Http | ProviderKind::Inventory => None,
        };
        let set = self
            .cache_ttl
            .as_ref()
            .and_then(|v| CacheTtl::from_value(v).ok())
            .map(|t| t.0);
        let ttl = match self.kind {
            ProviderKind::Inventory => None,
            _ => set.or(default),
        };
        ttl.filter(|t| !t.is_zero())
    }
}

/// Fields whose override values are numbers or booleans; every other value is a string.
fn typed_value(field: &str, raw: &str) -> Result<toml::Value, String> {
    let value = raw.trim();
    match field {
        "enabled" | "nights_range" | "booking" => match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(toml::Value::Boolean(true)),
            "false" | "0" | "no" => Ok(toml::Value::Boolean(false)),
            _ => Err(format!("expected true or false, got `{raw}`")),
        },
        "rate_limit" | "error_rate" | "booking_failure_rate" | "price_change_rate" => value
            .parse::<f64>()
            .map(toml::Value::Float)
            .map_err(|_| format!("expected a number, got `{raw}`")),
        "timeout_ms"
        | "retries"
        | "max_concurrency"
        | "breaker_threshold"
        | "breaker_cooldown_ms"
        | "date_window_days"
        | "max_destinations"
        | "max_results"
        | "typical_latency_ms"
        | "latency_ms"
        | "seed" => value
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(toml::Value::Integer)
            .ok_or_else(|| format!("expected a whole number ≥ 0, got `{raw}`")),
        // Whole seconds as a number; anything else as text, checked by `CacheTtl`.
        "cache_ttl" => Ok(value.parse::<i64>().map_or_else(
            |_| toml::Value::String(value.to_string()),
            toml::Value::Integer,
        )),
        _ => Ok(toml::Value::String(value.to_string())),
    }
}

fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let mut overrides: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect();
    overrides.sort();
    for (variable, raw) in overrides {
        let env_err = |reason: String| ConfigError::Env {
            variable: variable.clone(),
            reason,
        };
        let rest = &variable[ENV_PREFIX.len()..];
        let Some((name, field)) = rest.split_once("__") else {
            return Err(env_err(format!(
                "expected {ENV_PREFIX}<NAME>__<FIELD>, e.g. {ENV_PREFIX}ACME__RATE_LIMIT"
            )));
        };
        let field = field.to_ascii_lowercase();
        let providers = table
            .entry("providers")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(providers) = providers.as_table_mut() else {
            return Err(env_err("`providers` in the file is not a table".into()));
        };
        // Names may hold `-`, which variables cannot: match `_` to either.
        let wanted = name.to_ascii_lowercase();
        let key = providers
            .keys()
            .find(|k| k.replace('-', "_") == wanted)
            .cloned()
            .unwrap_or(wanted);
        let entry = providers
            .entry(key)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(entry) = entry.as_table_mut() else {
            return Err(env_err("this provider's entry is not a table".into()));
        };
        entry.insert(field.clone(), typed_value(&field, &raw).map_err(env_err)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<ProvidersFile, ConfigError> {
        let dir = std::env::temp_dir().join(format!("ff-providers-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("providers.toml");
        std::fs::write(&path, text).expect("write");
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let loaded = ProvidersFile::load(Some(&path), toml::Table::new(), env);
        let _ = std::fs::remove_dir_all(&dir);
        loaded
    }

    const FILE: &str = r#"
[providers.simulated]
kind = "simulated"
latency_ms = 5

[providers.acme-air]
kind = "http"
base_url = "http://127.0.0.1:9000"
api_key_env = "ACME_KEY"
rate_limit = 40
date_window_days = 30
nights_range = true
"#;

    #[test]
    fn a_file_loads_with_defaults_filled() {
        let file = load(FILE, &[]).expect("loads");
        let acme = &file.providers["acme-air"];
        assert_eq!(acme.kind, ProviderKind::Http);
        assert!(acme.enabled);
        assert_eq!(acme.rate_limit, Some(40.0));
        assert_eq!(acme.date_window_days, Some(30));
        assert_eq!(file.providers["simulated"].latency_ms, Some(5));
    }

    #[test]
    fn https_and_http_base_urls_are_accepted() {
        for url in ["https://flights.example/api", "http://127.0.0.1:9000"] {
            let file = load(
                &format!("[providers.x]\nkind = \"http\"\nbase_url = \"{url}\"\n"),
                &[],
            )
            .unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(file.providers["x"].base_url.as_deref(), Some(url));
        }
    }

    #[test]
    fn env_overrides_win_and_reach_dashed_names() {
        let file = load(
            FILE,
            &[
                ("PROVIDERS__ACME_AIR__ENABLED", "false"),
                ("PROVIDERS__ACME_AIR__RATE_LIMIT", "12.5"),
                ("PROVIDERS__SIMULATED__ERROR_RATE", "0.3"),
                ("UNRELATED", "x"),
            ],
        )
        .expect("loads");
        let acme = &file.providers["acme-air"];
        assert!(!acme.enabled);
        assert_eq!(acme.rate_limit, Some(12.5));
        assert_eq!(file.providers["simulated"].error_rate, Some(0.3));
    }

    #[test]
    fn cache_ttls_default_by_kind_and_read_units() {
        let file = load(
            "[providers.sim]\nkind = \"simulated\"\n\
             [providers.web]\nkind = \"http\"\nbase_url = \"http://127.0.0.1:1\"\n\
             [providers.cached]\nkind = \"http\"\nbase_url = \"http://127.0.0.1:1\"\ncache_ttl = \"90s\"\n\
             [providers.inv]\nkind = \"inventory\"\n",
            &[("PROVIDERS__SIM__CACHE_TTL", "off")],
        )
        .expect("loads");
        let ttl = |name: &str| file.providers[name].cache_ttl().map(|d| d.as_secs());
        assert_eq!(ttl("sim"), None, "off by override");
        assert_eq!(ttl("web"), None, "http: off unless set");
        assert_eq!(ttl("cached"), Some(90));
        assert_eq!(ttl("inv"), None);
        let file = load("[providers.sim]\nkind = \"simulated\"\n", &[]).expect("loads");
        assert_eq!(
            file.providers["sim"].cache_ttl().map(|d| d.as_secs()),
            Some(600)
        );
        for (raw, secs) in [
            ("600", 600),
            ("10m", 600),
            ("2h", 7_200),
            ("1d", 86_400),
            ("0", 0),
        ] {
            assert_eq!(
                CacheTtl::parse(raw).map(|t| t.0.as_secs()),
                Ok(secs),
                "{raw}"
            );
        }
        for raw in ["ten", "10 parsecs", "-5", "31d", ""] {
            assert!(CacheTtl::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        let err =
            |text: &str, env: &[(&str, &str)]| load(text, env).expect_err("rejected").to_string();
        let e = err("[providers.x]\nkind = \"carrier-pigeon\"\n", &[]);
        assert!(e.contains("carrier-pigeon"), "{e}");
        let e = err("[providers.x]\nkind = \"simulated\"\nlatncy_ms = 3\n", &[]);
        assert!(e.contains("latncy_ms"), "{e}");
        let e = err("[providers.x]\nkind = \"http\"\n", &[]);
        assert!(e.contains("provider `x`") && e.contains("base_url"), "{e}");
        let e = err(
            "[providers.x]\nkind = \"simulated\"\nrate_limit = -1\n",
            &[],
        );
        assert!(e.contains("rate_limit"), "{e}");
        let e = err("[providers.X]\nkind = \"simulated\"\n", &[]);
        assert!(e.contains("provider `X`"), "{e}");
        let e = err("this is = not toml =", &[]);
        assert!(e.contains("providers file"), "{e}");
        let e = err(FILE, &[("PROVIDERS__ACME_AIR__RATE_LIMIT", "fast")]);
        assert!(
            e.contains("PROVIDERS__ACME_AIR__RATE_LIMIT") && e.contains("fast"),
            "{e}"
        );
        let e = err(FILE, &[("PROVIDERS__ACME_AIR", "1")]);
        assert!(e.contains("PROVIDERS__<NAME>__<FIELD>"), "{e}");
        let e = err(
            "[providers.x]\nkind = \"http\"\nbase_url = \"ftp://a.example\"\n",
            &[],
        );
        assert!(e.contains("https://") && e.contains("not ftp://"), "{e}");
        let e = err(
            "[providers.x]\nkind = \"http\"\nbase_url = \"http://u:pw@a.example\"\n",
            &[],
        );
        assert!(e.contains("user or password") && !e.contains("pw@"), "{e}");
        let e = err(
            "[providers.x]\nkind = \"http\"\nbase_url = \"http://a.example/?key=s3cret\"\n",
            &[],
        );
        assert!(e.contains("query string") && !e.contains("s3cret"), "{e}");
        let e = err(
            "[providers.x]\nkind = \"http\"\nbase_url = \"http://a.example\"\nerror_rate = 0.5\n",
            &[],
        );
        assert!(e.contains("error_rate is for simulated"), "{e}");
        let e = err("[providers.x]\nkind = \"simulated\"\nretries = 99\n", &[]);
        assert!(e.contains("retries must be 0 to 20"), "{e}");
        let e = err(
            "[providers.x]\nkind = \"inventory\"\nbase_url = \"http://a\"\n",
            &[],
        );
        assert!(e.contains("for http providers"), "{e}");
        let e = err("[providers.x]\nkind = \"inventory\"\ncache_ttl = 60\n", &[]);
        assert!(
            e.contains("cache_ttl cannot be set for an inventory"),
            "{e}"
        );
        let e = err(
            "[providers.x]\nkind = \"simulated\"\ncache_ttl = \"soon\"\n",
            &[],
        );
        assert!(
            e.contains("provider `x`") && e.contains("cache_ttl must be") && e.contains("soon"),
            "{e}"
        );
        let e = err(
            "[providers.x]\nkind = \"simulated\"\ncache_ttl = true\n",
            &[],
        );
        assert!(e.contains("provider `x`") && e.contains("not true"), "{e}");
    }
}
