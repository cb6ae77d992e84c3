//! Money is never a float: integer minor units plus an ISO 4217 currency.

use std::fmt;

use serde::{Deserialize, Serialize};

/// (code, minor-unit exponent, units of this currency per euro — an indicative rate
/// used only by the simulated provider to quote in the searcher's currency).
const CURRENCIES: &[(&str, u8, f64)] = &[
    ("EUR", 2, 1.0),
    ("USD", 2, 1.08),
    ("GBP", 2, 0.85),
    ("CHF", 2, 0.95),
    ("JPY", 0, 162.0),
    ("CNY", 2, 7.8),
    ("HKD", 2, 8.4),
    ("SGD", 2, 1.45),
    ("AUD", 2, 1.65),
    ("NZD", 2, 1.8),
    ("CAD", 2, 1.48),
    ("SEK", 2, 11.4),
    ("NOK", 2, 11.6),
    ("DKK", 2, 7.46),
    ("PLN", 2, 4.3),
    ("CZK", 2, 25.0),
    ("HUF", 2, 395.0),
    ("INR", 2, 90.0),
    ("THB", 2, 38.0),
    ("KRW", 0, 1450.0),
    ("AED", 2, 3.97),
    ("TRY", 2, 35.0),
    ("BRL", 2, 5.9),
    ("MXN", 2, 19.5),
    ("ZAR", 2, 20.0),
    ("KWD", 3, 0.33),
    ("BHD", 3, 0.41),
];

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(&'static str);

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Currency::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported currency `{0}`; use an ISO 4217 code such as EUR, USD or GBP")]
pub struct UnknownCurrency(pub String);

impl Currency {
    pub const EUR: Currency = Currency("EUR");

    pub fn parse(raw: &str) -> Result<Self, UnknownCurrency> {
        let upper = raw.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(code, _, _)| *code == upper)
            .map(|(code, _, _)| Currency(code))
            .ok_or_else(|| UnknownCurrency(crate::inventory::shown(raw)))
    }

    pub fn code(&self) -> &'static str {
        self.0
    }

    fn entry(&self) -> (u8, f64) {
        CURRENCIES
            .iter()
            .find(|(code, _, _)| *code == self.0)
            .map(|(_, exp, rate)| (*exp, *rate))
            .unwrap_or((2, 1.0))
    }

    /// Digits after the decimal point (2 for EUR, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u8 {
        self.entry().0
    }

    /// Indicative units of this currency per euro.
    pub fn per_euro(&self) -> f64 {
        self.entry().1
    }

    pub fn supported() -> impl Iterator<Item = Currency> {
        CURRENCIES.iter().map(|(code, _, _)| Currency(code))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor_units: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("an amount must not be negative (got {0})")]
    Negative(i64),
}

impl Money {
    pub fn new(minor_units: i64, currency: Currency) -> Result<Self, MoneyError> {
        if minor_units < 0 {
            return Err(MoneyError::Negative(minor_units));
        }
        Ok(Self {
            minor_units,
            currency,
        })
    }

    /// Converts an amount in euros to this currency's minor units, rounded half up.
    pub fn from_euros(euros: f64, currency: Currency) -> Self {
        let scale = 10f64.powi(i32::from(currency.exponent()));
        let minor = (euros.max(0.0) * currency.per_euro() * scale).round();
        Self {
            minor_units: minor as i64,
            currency,
        }
    }
}

impl Money {
    /// As the web app shows money (its default locale): the currency's symbol where it has
    /// a common one, thousands separated, e.g. "€2,934.55", "¥12,000", "CHF 99.00".
    pub fn for_people(&self) -> String {
        let exp = u32::from(self.currency.exponent());
        let scale = 10i64.pow(exp);
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let minor = self.minor_units.unsigned_abs();
        let whole = crate::spec::thousands(minor / scale as u64);
        let number = if exp == 0 {
            whole
        } else {
            format!(
                "{whole}.{:0width$}",
                minor % scale as u64,
                width = exp as usize
            )
        };
        let symbol = match self.currency.code() {
            "EUR" => "€",
            "USD" => "$",
            "GBP" => "£",
            "JPY" => "¥",
            "INR" => "₹",
            "KRW" => "₩",
            "AUD" => "A$",
            "CAD" => "CA$",
            code => return format!("{sign}{code}\u{a0}{number}"),
        };
        format!("{sign}{symbol}{number}")
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = u32::from(self.currency.exponent());
        if exp == 0 {
            return write!(f, "{} {}", self.minor_units, self.currency);
        }
        let scale = 10i64.pow(exp);
        write!(
            f,
            "{}.{:0width$} {}",
            self.minor_units / scale,
            self.minor_units % scale,
            self.currency,
            width = exp as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_parse_case_insensitively_and_reject_unknown() {
        assert_eq!(Currency::parse("usd").map(|c| c.code()), Ok("USD"));
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("").is_err());
    }

    #[test]
    fn money_for_people_reads_as_the_web_app_shows_it() {
        let eur = Money::new(293_455, Currency::EUR).expect("positive");
        assert_eq!(eur.for_people(), "€2,934.55");
        let jpy = Money::new(1_200_000, Currency::parse("JPY").expect("JPY")).expect("positive");
        assert_eq!(jpy.for_people(), "¥1,200,000");
        let chf = Money::new(9_900, Currency::parse("CHF").expect("CHF")).expect("positive");
        assert_eq!(chf.for_people(), "CHF\u{a0}99.00");
    }

    #[test]
    fn money_formats_with_the_currency_exponent() {
        let eur = Money::new(12345, Currency::EUR).expect("positive");
        assert_eq!(eur.to_string(), "123.45 EUR");
        let jpy = Money::new(500, Currency::parse("JPY").expect("JPY")).expect("positive");
        assert_eq!(jpy.to_string(), "500 JPY");
        let kwd = Money::new(1005, Currency::parse("KWD").expect("KWD")).expect("positive");
        assert_eq!(kwd.to_string(), "1.005 KWD");
    }

    #[test]
    fn negative_money_cannot_be_built() {
        assert_eq!(Money::new(-1, Currency::EUR), Err(MoneyError::Negative(-1)));
    }

    #[test]
    fn euro_conversion_rounds_to_minor_units() {
        assert_eq!(Money::from_euros(10.0, Currency::EUR).minor_units, 1000);
        let jpy = Currency::parse("JPY").expect("JPY");
        assert_eq!(Money::from_euros(10.0, jpy).minor_units, 1620);
    }
}
