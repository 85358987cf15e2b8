//! The right of withdrawal's period in the EU and EEA. Directive
//! 2011/83/EU applies Regulation 1182/71 to its periods (recital 41): the
//! period starts the day after delivery, counts whole days in the
//! consumer's time, and when its last day is a Saturday, Sunday or public
//! holiday it ends at the end of the next working day.
//!
//! The consumer's time is their country's (the 0.2.0 contract names the
//! country, not the time zone): standard time plus the EU's summer time.
//! Public holidays are each country's national ones, 2025-2040, generated
//! from the `holidays` package by `scripts/gen-holidays`.

use cove_sdk::civil;

/// The EU member states and the rest of the EEA.
pub const EU_EEA: [&str; 30] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO",
];

const HOLIDAYS: &str = include_str!("holidays.txt");
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// Standard time's offset from UTC in hours, and whether summer time
/// applies.
fn zone(country: &str) -> (i64, bool) {
    match country {
        "PT" | "IE" => (0, true),
        "IS" => (0, false),
        "BG" | "CY" | "EE" | "FI" | "GR" | "LT" | "LV" | "RO" => (2, true),
        _ => (1, true),
    }
}

/// 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
pub fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// The last Sunday of `month` (1-12) of `year`, in days since the epoch.
fn last_sunday(year: i64, month: i64) -> i64 {
    let next = if month == 12 {
        civil::to_days(year + 1, 1, 1)
    } else {
        civil::to_days(year, month + 1, 1)
    };
    let last = next - 1;
    last - (weekday(last) + 1) % 7
}

/// The offset of `country`'s time from UTC at `utc_ms`: summer time runs
/// from 01:00 UTC on March's last Sunday to 01:00 UTC on October's.
pub fn offset_ms(country: &str, utc_ms: i64) -> i64 {
    let (base, summer_time) = zone(country);
    let (year, _, _) = civil::from_days(utc_ms.div_euclid(DAY_MS));
    let summer = summer_time
        && utc_ms >= last_sunday(year, 3) * DAY_MS + HOUR_MS
        && utc_ms < last_sunday(year, 10) * DAY_MS + HOUR_MS;
    (base + i64::from(summer)) * HOUR_MS
}

/// Whether `day` (days since the epoch) is a national public holiday in
/// `country`.
pub fn holiday(country: &str, day: i64) -> bool {
    let (y, m, d) = civil::from_days(day);
    let key = format!("{country} {y} ");
    let date = format!("{m:02}{d:02}");
    HOLIDAYS
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .is_some_and(|days| days.split(' ').any(|x| x == date))
}

/// A period of `days` after a delivery at `delivered` (UTC ms) to a
/// consumer in `country`: its last day (days since the epoch, the
/// consumer's date) and the moment it ends (UTC ms, midnight at the end of
/// that day in the consumer's time).
pub fn period(country: &str, delivered: i64, days: i64) -> (i64, i64) {
    let local = delivered + offset_ms(country, delivered);
    let mut last = local.div_euclid(DAY_MS) + days;
    while weekday(last) >= 5 || holiday(country, last) {
        last += 1;
    }
    let midnight = (last + 1) * DAY_MS;
    // The offset in force just before that midnight (summer time changes
    // at 01:00 UTC, never at midnight local).
    let standard = zone(country).0 * HOUR_MS;
    let ends = midnight - offset_ms(country, midnight - standard - 1);
    (last, ends)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i64, m: i64, d: i64) -> i64 {
        civil::to_days(y, m, d)
    }

    fn at(y: i64, m: i64, d: i64, hour: i64, minute: i64) -> i64 {
        day(y, m, d) * DAY_MS + hour * HOUR_MS + minute * 60_000
    }

    #[test]
    fn summer_time_and_holidays() {
        assert_eq!(last_sunday(2026, 3), day(2026, 3, 29));
        assert_eq!(last_sunday(2026, 10), day(2026, 10, 25));
        assert_eq!(offset_ms("DE", at(2026, 7, 1, 12, 0)), 2 * HOUR_MS);
        assert_eq!(offset_ms("DE", at(2026, 12, 1, 12, 0)), HOUR_MS);
        assert_eq!(offset_ms("PT", at(2026, 7, 1, 12, 0)), HOUR_MS);
        assert_eq!(offset_ms("FI", at(2026, 1, 1, 12, 0)), 2 * HOUR_MS);
        assert_eq!(offset_ms("IS", at(2026, 7, 1, 12, 0)), 0);
        assert!(holiday("DE", day(2026, 12, 25)) && holiday("DE", day(2026, 12, 26)));
        assert!(holiday("FR", day(2026, 8, 15)) && !holiday("DE", day(2026, 8, 15)));
        assert_eq!(weekday(day(2026, 12, 7)), 0, "a Monday");
    }

    #[test]
    fn a_period_ending_on_a_weekend_runs_to_monday() {
        // The case: delivered Saturday 21 November, 14 days: the
        // last day, Saturday 5 December, moves to Monday 7 December.
        let (last, ends) = period("DE", at(2026, 11, 21, 10, 0), 14);
        assert_eq!(last, day(2026, 12, 7));
        assert_eq!(ends, at(2026, 12, 7, 23, 0), "midnight in Berlin, in UTC");
    }
}
