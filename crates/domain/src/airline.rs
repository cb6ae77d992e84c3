//! Airline names by IATA code, for people reading results ("BA" is British Airways).

const NAMES: &[(&str, &str)] = &[
    ("AA", "American Airlines"),
    ("AC", "Air Canada"),
    ("AF", "Air France"),
    ("AI", "Air India"),
    ("AY", "Finnair"),
    ("AZ", "ITA Airways"),
    ("BA", "British Airways"),
    ("CA", "Air China"),
    ("CX", "Cathay Pacific"),
    ("CZ", "China Southern"),
    ("DL", "Delta Air Lines"),
    ("EI", "Aer Lingus"),
    ("EK", "Emirates"),
    ("ET", "Ethiopian Airlines"),
    ("EY", "Etihad Airways"),
    ("FR", "Ryanair"),
    ("GA", "Garuda Indonesia"),
    ("IB", "Iberia"),
    ("JL", "Japan Airlines"),
    ("KE", "Korean Air"),
    ("KL", "KLM"),
    ("LH", "Lufthansa"),
    ("LX", "SWISS"),
    ("MH", "Malaysia Airlines"),
    ("MU", "China Eastern"),
    ("NH", "ANA"),
    ("NZ", "Air New Zealand"),
    ("OS", "Austrian Airlines"),
    ("OZ", "Asiana Airlines"),
    ("PR", "Philippine Airlines"),
    ("QF", "Qantas"),
    ("QR", "Qatar Airways"),
    ("SK", "SAS"),
    ("SQ", "Singapore Airlines"),
    ("TG", "Thai Airways"),
    ("TK", "Turkish Airlines"),
    ("TP", "TAP Air Portugal"),
    ("U2", "easyJet"),
    ("UA", "United Airlines"),
    ("VN", "Vietnam Airlines"),
    ("VS", "Virgin Atlantic"),
    ("W6", "Wizz Air"),
];

/// The airline's name, when it is one of the well-known ones.
pub fn airline_name(code: &str) -> Option<&'static str> {
    NAMES
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| NAMES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_by_code_and_the_table_stays_sorted() {
        assert!(
            NAMES.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted for the binary search"
        );
        assert_eq!(airline_name("BA"), Some("British Airways"));
        assert_eq!(airline_name("U2"), Some("easyJet"));
        assert_eq!(airline_name("XQ"), None);
    }
}
