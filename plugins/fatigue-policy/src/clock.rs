//! The customer's local time, exact across daylight-saving changes: the
//! host gives the zone's UTC offsets span by span, and calendar days,
//! weeks (Monday first) and months are counted in local time.

use cove_sdk::fatigue::OffsetSpan;
use cove_sdk::{DAY_MS, MINUTE_MS, TimestampMs, civil};

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
                let (y, m, _) = civil::from_days(day);
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
            Calendar::Month => civil::to_days(n.div_euclid(12), n.rem_euclid(12) + 1, 1),
        };
        self.utc_of(day * DAY_MS)
    }
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
