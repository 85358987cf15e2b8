//! Time zones as plugins see them: a zone's UTC offsets over a span of
//! time, as WIT `offset-span`s, so a plugin counts local days and hours
//! exactly across daylight-saving changes without a zone database.

use chrono::{Offset, TimeZone};
use serde_json::{Value, json};

/// Minutes `zone` is ahead of UTC at `at_ms` (DST included); 0 if unknown.
pub fn utc_offset_minutes(zone: Option<&str>, at_ms: i64) -> i32 {
    zone.and_then(|z| z.parse::<chrono_tz::Tz>().ok())
        .map_or(0, |tz| utc_offset_minutes_in(tz, at_ms))
}

fn utc_offset_minutes_in(tz: chrono_tz::Tz, at_ms: i64) -> i32 {
    match tz.timestamp_millis_opt(at_ms) {
        chrono::LocalResult::Single(t) => t.offset().fix().local_minus_utc() / 60,
        _ => 0,
    }
}

/// `zone`'s offsets from `from` to `to` (UTC ms): one span per offset in
/// force, each from when it starts (the first from `from`), to the
/// minute; empty for an unknown zone.
pub fn offset_spans(zone: Option<&str>, from: i64, to: i64) -> Value {
    let Some(tz) = zone.and_then(|z| z.parse::<chrono_tz::Tz>().ok()) else {
        return json!([]);
    };
    let at = |t: i64| utc_offset_minutes_in(tz, t);
    const DAY: i64 = crate::DAY_MS;
    let mut spans = vec![json!({"starts-at": from, "utc-offset-minutes": at(from)})];
    let (mut t, mut offset) = (from, at(from));
    while t < to {
        let next = t + DAY;
        if at(next) != offset {
            // The change is in (t, next]: narrow it to the minute.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 60_000 {
                let mid = lo + (hi - lo) / 2;
                if at(mid) == offset {
                    lo = mid
                } else {
                    hi = mid
                }
            }
            // Zones change on whole minutes: the one minute in (lo, hi].
            let change = hi - hi.rem_euclid(60_000);
            offset = at(change);
            spans.push(json!({"starts-at": change, "utc-offset-minutes": offset}));
        }
        t = next;
    }
    Value::Array(spans)
}
