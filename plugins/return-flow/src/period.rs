//! The right of withdrawal's period in the EU and EEA. Directive
//! 2011/83/EU applies Regulation 1182/71 to its periods (recital 41): the
//! period starts the day after delivery, counts whole days in the
//! consumer's time, and when its last day is a Saturday, Sunday or public
//! holiday it ends at the end of the next working day.
//!
//! The consumer's time is their own time zone's when the host knows it
//! (its UTC offsets come with the session since contract 0.3.0), else
//! their country's: standard time plus the EU's summer time. Public
//! holidays are each country's national ones, 2025-2040, generated from
//! the `holidays` package by `scripts/gen-holidays`.

use cove_sdk::{OffsetSpan, civil};

/// The clock a consumer's days count by.
pub enum Clock<'a> {
    /// Their time zone's offsets (oldest first), from the host.
    Zone(&'a [OffsetSpan]),
    /// Their country's time.
    Country(&'a str),
}

impl<'a> Clock<'a> {
    /// The zone's offsets when there are any, else the country's time.
    pub fn of(offsets: &'a [OffsetSpan], country: &'a str) -> Clock<'a> {
        if offsets.is_empty() {
            Clock::Country(country)
        } else {
            Clock::Zone(offsets)
        }
    }

    /// Local time's offset from UTC at `utc_ms`.
    pub fn offset_ms(&self, utc_ms: i64) -> i64 {
        match self {
            Clock::Country(c) => offset_ms(c, utc_ms),
            Clock::Zone(spans) => spans
                .iter()
                .rev()
                .find(|s| s.starts_at <= utc_ms)
                .or(spans.first())
                .map_or(0, |s| i64::from(s.utc_offset_minutes) * 60_000),
        }
    }

    /// The UTC instant of a local time (`local_ms` as if it were UTC).
    fn to_utc(&self, local_ms: i64) -> i64 {
        let mut offset = self.offset_ms(local_ms);
        for _ in 0..3 {
            offset = self.offset_ms(local_ms - offset);
        }
        local_ms - offset
    }
}

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
/// consumer in `country` whose days count by `clock`: its last day (days
/// since the epoch, the consumer's date) and the moment it ends (UTC ms,
/// midnight at the end of that day in the consumer's time).
pub fn period(clock: &Clock, country: &str, delivered: i64, days: i64) -> (i64, i64) {
    let local = delivered + clock.offset_ms(delivered);
    let mut last = local.div_euclid(DAY_MS) + days;
    while weekday(last) >= 5 || holiday(country, last) {
        last += 1;
    }
    (last, clock.to_utc((last + 1) * DAY_MS))
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
        let (last, ends) = period(&Clock::Country("DE"), "DE", at(2026, 11, 21, 10, 0), 14);
        assert_eq!(last, day(2026, 12, 7));
        assert_eq!(ends, at(2026, 12, 7, 23, 0), "midnight in Berlin, in UTC");
        // The same delivery to a German customer whose own zone is
        // Lisbon's (UTC+0 in winter): the period ends at Lisbon's midnight.
        let lisbon = [OffsetSpan {
            starts_at: at(2026, 10, 25, 1, 0),
            utc_offset_minutes: 0,
        }];
        let (last, ends) = period(&Clock::of(&lisbon, "DE"), "DE", at(2026, 11, 21, 10, 0), 14);
        assert_eq!((last, ends), (day(2026, 12, 7), at(2026, 12, 8, 0, 0)));
    }

    #[test]
    fn a_zone_clock_follows_its_offset_changes() {
        // New York: UTC-4 until 1 November 2026 06:00 UTC, then UTC-5.
        let ny = [
            OffsetSpan {
                starts_at: at(2026, 9, 1, 0, 0),
                utc_offset_minutes: -240,
            },
            OffsetSpan {
                starts_at: at(2026, 11, 1, 6, 0),
                utc_offset_minutes: -300,
            },
        ];
        let clock = Clock::of(&ny, "US");
        assert_eq!(clock.offset_ms(at(2026, 10, 31, 12, 0)), -4 * HOUR_MS);
        assert_eq!(clock.offset_ms(at(2026, 11, 2, 12, 0)), -5 * HOUR_MS);
        // Local midnight ending 1 November is 04:00 UTC (still UTC-4);
        // ending 2 November, 05:00 UTC.
        assert_eq!(
            clock.to_utc(day(2026, 11, 1) * DAY_MS),
            at(2026, 11, 1, 4, 0)
        );
        assert_eq!(
            clock.to_utc(day(2026, 11, 2) * DAY_MS),
            at(2026, 11, 2, 5, 0)
        );
        // No offsets: the country's time.
        assert!(matches!(Clock::of(&[], "DE"), Clock::Country("DE")));
    }
}
