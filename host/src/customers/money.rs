//! Money as integers of the currency's minor unit (ISO 4217 exponent), read
//! exactly from decimal text: never through a float, never rounded.

/// Currencies whose minor unit is not a hundredth (ISO 4217), by exponent;
/// every list in alphabetical order (looked up by binary search).
const EXPONENT_0: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];
const EXPONENT_3: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
const EXPONENT_4: &[&str] = &["CLF", "UYW"];

/// Every other active ISO 4217 currency (exponent 2).
const EXPONENT_2: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF",
    "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR",
    "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
    "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP",
    "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD",
    "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP",
    "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR",
    "ZMW", "ZWG",
];

/// The number of decimals of `currency`'s minor unit, if it is a known
/// ISO 4217 code (upper case).
pub fn exponent(currency: &str) -> Option<u32> {
    [
        (EXPONENT_2, 2),
        (EXPONENT_0, 0),
        (EXPONENT_3, 3),
        (EXPONENT_4, 4),
    ]
    .iter()
    .find(|(list, _)| list.binary_search(&currency).is_ok())
    .map(|(_, e)| *e)
}

/// `text` (`12.3`, `-0.50`, `1999`) in minor units of `currency`. More
/// decimals than the currency has, thousands separators, exponents or
/// anything else is an error that says so.
pub fn parse_minor(text: &str, currency: &str) -> Result<i64, String> {
    let exp = exponent(currency)
        .ok_or_else(|| format!("`{currency}` is not an ISO 4217 currency code"))?;
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || (digits.contains('.') && fraction.is_empty())
    {
        return Err(format!("`{text}` is not an amount like 12.34"));
    }
    if fraction.len() > exp as usize {
        return Err(format!(
            "`{text}` has {} decimals; {currency} has {exp}",
            fraction.len()
        ));
    }
    let scale = 10i64.pow(exp);
    let too_big = || format!("`{text}` is too large");
    let whole: i64 = whole.parse().map_err(|_| too_big())?;
    // `.5` of a 2-decimal currency is 50 minor units: the digits, scaled
    // by the decimals not written.
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<i64>().map_err(|_| too_big())? * 10i64.pow(exp - fraction.len() as u32)
    };
    let minor = whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(too_big)?;
    Ok(if negative { -minor } else { minor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_lists_are_sorted_and_disjoint() {
        let all = [EXPONENT_0, EXPONENT_2, EXPONENT_3, EXPONENT_4];
        for list in all {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
        let mut codes: Vec<&str> = all.concat();
        let n = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), n);
        assert_eq!(exponent("JPY"), Some(0));
        assert_eq!(exponent("EUR"), Some(2));
        assert_eq!(exponent("KWD"), Some(3));
        assert_eq!(exponent("eur"), None);
    }

    #[test]
    fn exact_minor_units_per_currency() {
        assert_eq!(parse_minor("12.34", "EUR"), Ok(1234));
        assert_eq!(parse_minor("12.3", "EUR"), Ok(1230));
        assert_eq!(parse_minor("12", "EUR"), Ok(1200));
        assert_eq!(parse_minor("-0.05", "USD"), Ok(-5));
        assert_eq!(parse_minor("1500", "JPY"), Ok(1500));
        assert_eq!(parse_minor("1.234", "KWD"), Ok(1234));
        assert_eq!(parse_minor("0.1", "KWD"), Ok(100));
        // 0.1 + 0.2 in floats is not 0.3; here it is exact.
        assert_eq!(parse_minor("0.30", "EUR"), Ok(30));
        assert_eq!(parse_minor("92233720368547758.07", "EUR"), Ok(i64::MAX));
    }

    #[test]
    fn refuses_rather_than_rounds() {
        for (text, currency) in [
            ("12.345", "EUR"),
            ("1.5", "JPY"),
            ("1,234.50", "USD"),
            ("1e3", "USD"),
            ("12.", "EUR"),
            (".5", "EUR"),
            ("", "EUR"),
            ("NaN", "EUR"),
            ("92233720368547758.08", "EUR"),
            ("1", "XYZ"),
            ("1", "eur"),
        ] {
            assert!(parse_minor(text, currency).is_err(), "{text} {currency}");
        }
        assert!(
            parse_minor("12.345", "EUR")
                .unwrap_err()
                .contains("3 decimals")
        );
    }
}
