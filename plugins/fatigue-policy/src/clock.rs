//! The customer's local time, exact across daylight-saving changes: the
//! host gives the zone's UTC offsets span by span, and calendar days,
//! weeks (Monday first) and months are counted in local time.

use cove_sdk::fatigue::OffsetSpan;
use cove_sdk::{DAY_MS, MINUTE_MS, TimestampMs};

/// A customer's clock.
#[derive(Clone, Copy, Debug)]
pub struct Clock<'a> {
    spans: &'a [OffsetSpan],
    fixed: i64,
}

/// A calendar period in local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calendar {
    /// Midnight to midnight.
    Day,
    /// Monday 00:00 to the next Monday 00:00.
    Week,
    /// The 1st 00:00 to the next month's 1st 00:00.
    Month,
}

impl<'a> Clock<'a> {
    /// The clock of `spans`, or of a fixed offset when there are none.
    pub fn new(spans: &'a [OffsetSpan], fixed_minutes: i32) -> Clock<'a> {
        Clock {
            spans,
            fixed: i64::from(fixed_minutes) * MINUTE_MS,
        }
    }

    fn offset_at(&self, t: TimestampMs) -> i64 {
        let i = self.spans.partition_point(|s| s.starts_at <= t);
        match (i, self.spans.first()) {
            (0, Some(first)) => i64::from(first.utc_offset_minutes) * MINUTE_MS,
            (0, None) => self.fixed,
            (i, _) => i64::from(self.spans[i - 1].utc_offset_minutes) * MINUTE_MS,
        }
    }

    /// Local wall-clock time of `t`, as milliseconds of a UTC-less epoch.
    pub fn local(&self, t: TimestampMs) -> i64 {
        t + self.offset_at(t)
    }

    /// The local minute of the day at `t` (0..1440).
    pub fn minute_of_day(&self, t: TimestampMs) -> i64 {
        self.local(t).rem_euclid(DAY_MS) / MINUTE_MS
    }

    /// The first instant whose local time is `local` or later: the
    /// earlier of two when clocks go back, the end of the gap when the
    /// local time is skipped.
    pub fn utc_of(&self, local: i64) -> TimestampMs {
        if self.spans.is_empty() {
            return local - self.fixed;
        }
        let mut best = TimestampMs::MAX;
        for (i, span) in self.spans.iter().enumerate() {
            let end = self
                .spans
                .get(i + 1)
                .map_or(TimestampMs::MAX, |s| s.starts_at);
            let start = if i == 0 {
                TimestampMs::MIN
            } else {
                span.starts_at
            };
            let u = local - i64::from(span.utc_offset_minutes) * MINUTE_MS;
            if (start..end).contains(&u) {
                best = best.min(u);
            } else if u < start && self.local(start) >= local {
                best = best.min(start);
            }
        }
        best
    }

    /// Which `period` `t` falls in (a number that grows with time).
    pub fn period(&self, period: Calendar, t: TimestampMs) -> i64 {
        let day = self.local(t).div_euclid(DAY_MS);
        match period {
            Calendar::Day => day,
            // 1970-01-05 was a Monday.
            Calendar::Week => (day + 3).div_euclid(7),
            Calendar::Month => {
                let (y, m, _) = civil_from_days(day);
                y * 12 + m - 1
            }
        }
    }

    /// The instant the period after the one `t` is in begins.
    pub fn next_period(&self, period: Calendar, t: TimestampMs) -> TimestampMs {
        let n = self.period(period, t) + 1;
        let day = match period {
            Calendar::Day => n,
            Calendar::Week => n * 7 - 3,
            Calendar::Month => days_from_civil(n.div_euclid(12), n.rem_euclid(12) + 1, 1),
        };
        self.utc_of(day * DAY_MS)
    }
}

/// Year, month (1..=12) and day of a day count since 1970-01-01
/// (Howard Hinnant's civil calendar algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::HOUR_MS;

    /// Europe/Berlin around 2026-03-29 01:00 UTC, when CET (+1) becomes CEST (+2).
    const SPRING: TimestampMs = 1_774_746_000_000;

    fn berlin() -> Vec<OffsetSpan> {
        vec![
            OffsetSpan {
                starts_at: SPRING - 100 * DAY_MS,
                utc_offset_minutes: 60,
            },
            OffsetSpan {
                starts_at: SPRING,
                utc_offset_minutes: 120,
            },
        ]
    }

    #[test]
    fn calendar_round_trips() {
        for day in [-800_000, -1, 0, 59, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }

    #[test]
    fn local_times_across_the_spring_change() {
        let spans = berlin();
        let clock = Clock::new(&spans, 0);
        // 00:59 UTC is 01:59 CET; 01:00 UTC is 03:00 CEST.
        assert_eq!(clock.minute_of_day(SPRING - MINUTE_MS), 119);
        assert_eq!(clock.minute_of_day(SPRING), 180);
        // 02:30 local does not exist that night: the gap ends at the change.
        let day = clock.local(SPRING).div_euclid(DAY_MS) * DAY_MS;
        assert_eq!(clock.utc_of(day + 150 * MINUTE_MS), SPRING);
        // 09:00 local the same day is 07:00 UTC.
        assert_eq!(clock.utc_of(day + 9 * HOUR_MS), SPRING + 6 * HOUR_MS);
        // The week of Sunday 29 March ends at Monday 00:00 CEST = Sunday 22:00 UTC.
        assert_eq!(
            clock.next_period(Calendar::Week, SPRING),
            SPRING + 21 * HOUR_MS
        );
        assert_eq!(
            clock.next_period(Calendar::Month, SPRING),
            SPRING + 3 * DAY_MS - 3 * HOUR_MS
        );
    }
}
