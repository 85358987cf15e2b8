//! Reference fatigue policy.
//!
//! Decides whether one message may go out now, later, or not at all:
//!
//! 1. Transactional messages always go out (caps are for marketing).
//! 2. A channel the customer unsubscribed from or complained on is dropped.
//! 3. A customer already inside another running campaign is not enrolled.
//! 4. "Do not move when the customer does not move": a customer silent for
//!    `silent-after-days` is only contacted on a fresh trigger signal.
//! 5. Otherwise the message goes at the earliest time that respects every
//!    cap (per channel and across channels, per day and per week), the
//!    minimum gap between contacts, quiet hours in the customer's own time,
//!    the call windows and the retry delay for phone calls. Later than
//!    `max-defer-hours` means the moment has passed: drop.
//!
//! Every number is configurable per merchant; see [`Settings`].

use cove_sdk::fatigue::{
    Contact, Decision, Deferral, DropReason, Error, FatiguePolicy, MessageRequest,
};
use cove_sdk::{Channel, Config, Ctx, DAY_MS, HOUR_MS, MINUTE_MS, MessageKind, TimestampMs};

/// The reference fatigue policy.
pub struct Fatigue;

impl FatiguePolicy for Fatigue {
    fn validate_config(config: &Config) -> Result<(), Error> {
        Settings::from_config(config).map(|_| ())
    }

    fn decide(request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error> {
        let settings = Settings::from_config(ctx.config())?;
        Ok(decide(&settings, &request, ctx.now()))
    }
}

cove_sdk::export_fatigue_policy!(Fatigue);

/// A local-time window `[start, end)` in minutes after midnight; wraps past
/// midnight when `start > end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    start: i64,
    end: i64,
}

impl Window {
    fn contains(self, minute: i64) -> bool {
        if self.start <= self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }

    fn parse(key: &str, text: &str) -> Result<Window, Error> {
        let bad = || {
            Error::InvalidConfig(format!(
                "config `{key}`: expected HH:MM-HH:MM, got `{text}`"
            ))
        };
        let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
        let minute = |t: &str| -> Option<i64> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            ((0..=24).contains(&h) && (0..60).contains(&m) && h * 60 + m <= 1440)
                .then_some(h * 60 + m)
        };
        let (start, end) = (minute(a).ok_or_else(bad)?, minute(b).ok_or_else(bad)?);
        if start == end {
            return Err(bad());
        }
        Ok(Window { start, end })
    }
}

/// The merchant's settings, read from the plugin configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Promotional contacts per channel per 7 days, by [`Channel`] order.
    pub weekly_cap: [u32; 7],
    /// Promotional contacts across all channels per 7 days (`cap.total-week`).
    pub total_week_cap: u32,
    /// Promotional contacts across all channels per 24 hours (`cap.total-day`).
    pub total_day_cap: u32,
    /// Minimum hours between two promotional contacts (`min-gap-hours`).
    pub min_gap_hours: i64,
    /// Quiet hours in the customer's local time (`quiet-hours`).
    pub quiet: Window,
    /// When phone calls may be made, local time (`call-windows`).
    pub call_windows: Vec<Window>,
    /// Hours before an unanswered call is retried (`call-retry-hours`).
    pub call_retry_hours: i64,
    /// Days without engagement after which the customer counts as silent.
    pub silent_after_days: i64,
    /// Longest deferral worth making; beyond it the message is dropped.
    pub max_defer_hours: i64,
}

/// Each channel with its weekly-cap setting and default.
const CHANNELS: [(Channel, &str, u32); 7] = [
    (Channel::Email, "cap.email", 3),
    (Channel::Sms, "cap.sms", 2),
    (Channel::AppPush, "cap.app-push", 5),
    (Channel::WebPush, "cap.web-push", 3),
    (Channel::Whatsapp, "cap.whatsapp", 2),
    (Channel::Messenger, "cap.messenger", 2),
    (Channel::PhoneCall, "cap.phone-call", 1),
];

const OTHER_KEYS: [&str; 8] = [
    "cap.total-week",
    "cap.total-day",
    "quiet-hours",
    "call-windows",
    "min-gap-hours",
    "call-retry-hours",
    "silent-after-days",
    "max-defer-hours",
];

/// 21:00–09:00.
const DEFAULT_QUIET: Window = Window {
    start: 21 * 60,
    end: 9 * 60,
};
/// 10–12, 16–18, 19–20: the call windows that answer best by default.
const DEFAULT_CALL_WINDOWS: [Window; 3] = [
    Window {
        start: 10 * 60,
        end: 12 * 60,
    },
    Window {
        start: 16 * 60,
        end: 18 * 60,
    },
    Window {
        start: 19 * 60,
        end: 20 * 60,
    },
];

fn channel_index(channel: Channel) -> usize {
    CHANNELS
        .iter()
        .position(|(c, _, _)| *c == channel)
        .unwrap_or(0)
}

impl Settings {
    /// Read settings, falling back to the defaults for keys not set.
    pub fn from_config(config: &Config) -> Result<Settings, Error> {
        let invalid = Error::InvalidConfig;
        let mut weekly_cap = [0; 7];
        for (i, (_, key, default)) in CHANNELS.iter().enumerate() {
            weekly_cap[i] = config.parse_or(key, *default).map_err(invalid)?;
        }
        let quiet = match config.get("quiet-hours") {
            Some(text) => Window::parse("quiet-hours", text)?,
            None => DEFAULT_QUIET,
        };
        let call_windows = match config.get("call-windows") {
            Some(text) => text
                .split(',')
                .map(|w| Window::parse("call-windows", w))
                .collect::<Result<Vec<_>, _>>()?,
            None => DEFAULT_CALL_WINDOWS.to_vec(),
        };
        let hours = |key: &str, default: i64| -> Result<i64, Error> {
            let v: i64 = config.parse_or(key, default).map_err(invalid)?;
            if v < 0 {
                return Err(Error::InvalidConfig(format!(
                    "config `{key}`: must not be negative, got {v}"
                )));
            }
            Ok(v)
        };
        let known =
            |k: &str| OTHER_KEYS.contains(&k) || CHANNELS.iter().any(|(_, key, _)| *key == k);
        if let Some((k, _)) = config.pairs().iter().find(|(k, _)| !known(k)) {
            return Err(Error::InvalidConfig(format!(
                "config `{k}`: unknown setting"
            )));
        }
        Ok(Settings {
            weekly_cap,
            total_week_cap: config.parse_or("cap.total-week", 6).map_err(invalid)?,
            total_day_cap: config.parse_or("cap.total-day", 2).map_err(invalid)?,
            min_gap_hours: hours("min-gap-hours", 12)?,
            quiet,
            call_windows,
            call_retry_hours: hours("call-retry-hours", 4)?,
            silent_after_days: hours("silent-after-days", 90)?,
            max_defer_hours: hours("max-defer-hours", 72)?,
        })
    }
}

/// The policy itself, free of the plugin plumbing.
pub fn decide(s: &Settings, r: &MessageRequest, now: TimestampMs) -> Decision {
    if r.kind == MessageKind::Transactional {
        return Decision::Allow;
    }
    if r.suppressed.contains(&r.channel) {
        return Decision::Drop(DropReason::Suppressed);
    }
    if r.active_campaigns.iter().any(|c| *c != r.campaign_id) {
        return Decision::Drop(DropReason::InOtherCampaign);
    }
    let silent_since = r.last_engaged_at.unwrap_or(r.customer.created_at);
    if !r.has_trigger_signal && now - silent_since > s.silent_after_days * DAY_MS {
        return Decision::Drop(DropReason::NoSignal);
    }

    let offset = i64::from(r.customer.utc_offset_minutes) * MINUTE_MS;
    let mut t = now;
    let mut reason = "";
    // Each rule moves `t` forward to its earliest acceptable time; repeat
    // until no rule moves it (a fixed point) or the wait is not worth it.
    for _ in 0..16 {
        let before = t;
        for (rule, next) in [
            (
                "channel weekly cap",
                cap_ok(
                    &r.history,
                    Some(r.channel),
                    s.weekly_cap[channel_index(r.channel)],
                    7 * DAY_MS,
                    t,
                ),
            ),
            (
                "weekly cap across channels",
                cap_ok(&r.history, None, s.total_week_cap, 7 * DAY_MS, t),
            ),
            (
                "daily cap across channels",
                cap_ok(&r.history, None, s.total_day_cap, DAY_MS, t),
            ),
            (
                "minimum gap between messages",
                gap_ok(&r.history, None, s.min_gap_hours * HOUR_MS, t),
            ),
            ("quiet hours", leave_window(s.quiet, offset, t)),
        ] {
            if next > t {
                t = next;
                reason = rule;
            }
        }
        if r.channel == Channel::PhoneCall {
            for (rule, next) in [
                (
                    "retry delay after the last call",
                    gap_ok(
                        &r.history,
                        Some(Channel::PhoneCall),
                        s.call_retry_hours * HOUR_MS,
                        t,
                    ),
                ),
                (
                    "outside call windows",
                    enter_windows(&s.call_windows, offset, t),
                ),
            ] {
                if next > t {
                    t = next;
                    reason = rule;
                }
            }
        }
        if t == before || t - now > s.max_defer_hours * HOUR_MS {
            break;
        }
    }
    if t == now {
        Decision::Allow
    } else if t - now > s.max_defer_hours * HOUR_MS {
        Decision::Drop(DropReason::CapReached)
    } else {
        Decision::Defer(Deferral {
            until: t,
            reason: reason.to_string(),
        })
    }
}

/// Earliest time ≥ `t` at which fewer than `cap` contacts fall in the
/// trailing `window`.
fn cap_ok(
    history: &[Contact],
    channel: Option<Channel>,
    cap: u32,
    window: i64,
    t: TimestampMs,
) -> TimestampMs {
    let mut times: Vec<TimestampMs> = history
        .iter()
        .filter(|c| {
            channel.is_none_or(|ch| c.channel == ch) && c.sent_at > t - window && c.sent_at <= t
        })
        .map(|c| c.sent_at)
        .collect();
    let cap = cap as usize;
    if times.len() < cap {
        return t;
    }
    if cap == 0 {
        return TimestampMs::MAX / 2;
    }
    times.sort_unstable();
    // Once the oldest `len - cap + 1` contacts leave the window, one slot is free.
    times[times.len() - cap] + window
}

/// Earliest time ≥ `t` at least `gap` after the last matching contact.
fn gap_ok(history: &[Contact], channel: Option<Channel>, gap: i64, t: TimestampMs) -> TimestampMs {
    history
        .iter()
        .filter(|c| channel.is_none_or(|ch| c.channel == ch) && c.sent_at <= t)
        .map(|c| c.sent_at + gap)
        .fold(t, TimestampMs::max)
}

fn local_minute(offset: i64, t: TimestampMs) -> i64 {
    (t + offset).rem_euclid(DAY_MS) / MINUTE_MS
}

/// Earliest time ≥ `t` outside `window` (local time).
fn leave_window(window: Window, offset: i64, t: TimestampMs) -> TimestampMs {
    let minute = local_minute(offset, t);
    if !window.contains(minute) {
        return t;
    }
    let wait = (window.end - minute).rem_euclid(1440);
    start_of_minute(offset, t) + wait * MINUTE_MS
}

/// Earliest time ≥ `t` inside one of `windows` (local time).
fn enter_windows(windows: &[Window], offset: i64, t: TimestampMs) -> TimestampMs {
    let minute = local_minute(offset, t);
    if windows.is_empty() || windows.iter().any(|w| w.contains(minute)) {
        return t;
    }
    let wait = windows
        .iter()
        .map(|w| (w.start - minute).rem_euclid(1440))
        .min()
        .unwrap_or(0);
    start_of_minute(offset, t) + wait * MINUTE_MS
}

fn start_of_minute(offset: i64, t: TimestampMs) -> TimestampMs {
    t - (t + offset).rem_euclid(MINUTE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::{Customer, Region};

    /// 2026-03-02 12:00 UTC, a Monday.
    const NOON: TimestampMs = 1_772_452_800_000;

    fn request(channel: Channel) -> MessageRequest {
        MessageRequest {
            customer: Customer {
                id: "c1".into(),
                region: Region::Europe,
                country: "DE".into(),
                utc_offset_minutes: 0,
                created_at: NOON - 400 * DAY_MS,
            },
            channel,
            kind: MessageKind::Promotional,
            campaign_id: "spring".into(),
            tags: vec![],
            history: vec![],
            active_campaigns: vec![],
            suppressed: vec![],
            last_engaged_at: Some(NOON - 2 * DAY_MS),
            has_trigger_signal: false,
        }
    }

    fn sent(channel: Channel, ago: i64) -> Contact {
        Contact {
            channel,
            sent_at: NOON - ago,
            campaign_id: String::new(),
        }
    }

    fn run(r: &MessageRequest, now: TimestampMs) -> Decision {
        Fatigue::decide(r.clone(), &Ctx::for_test(now)).unwrap()
    }

    #[test]
    fn fresh_customer_at_noon_is_allowed() {
        assert_eq!(run(&request(Channel::Email), NOON), Decision::Allow);
    }

    #[test]
    fn suppressed_channel_is_dropped_but_transactional_goes() {
        let mut r = request(Channel::Sms);
        r.suppressed = vec![Channel::Sms];
        assert_eq!(run(&r, NOON), Decision::Drop(DropReason::Suppressed));
        r.kind = MessageKind::Transactional;
        assert_eq!(run(&r, NOON), Decision::Allow);
    }

    #[test]
    fn another_running_campaign_blocks_enrolment() {
        let mut r = request(Channel::Email);
        r.active_campaigns = vec!["winback".into()];
        assert_eq!(run(&r, NOON), Decision::Drop(DropReason::InOtherCampaign));
        r.active_campaigns = vec!["spring".into()];
        assert_eq!(run(&r, NOON), Decision::Allow);
    }

    #[test]
    fn silent_customer_needs_a_signal() {
        let mut r = request(Channel::Email);
        r.last_engaged_at = Some(NOON - 200 * DAY_MS);
        assert_eq!(run(&r, NOON), Decision::Drop(DropReason::NoSignal));
        r.has_trigger_signal = true;
        assert_eq!(run(&r, NOON), Decision::Allow);
    }

    #[test]
    fn weekly_email_cap_defers_until_the_oldest_contact_leaves_the_window() {
        let mut r = request(Channel::Email);
        r.history = vec![
            sent(Channel::Email, 6 * DAY_MS),
            sent(Channel::Email, 4 * DAY_MS),
            sent(Channel::Email, 2 * DAY_MS),
        ];
        match run(&r, NOON) {
            Decision::Defer(d) => {
                assert_eq!(d.until, NOON + DAY_MS);
                assert_eq!(d.reason, "channel weekly cap");
            }
            other => panic!("expected a deferral, got {other:?}"),
        }
    }

    #[test]
    fn quiet_hours_follow_the_customers_time_zone() {
        // 12:00 UTC is 21:00 in Tokyo (UTC+9): quiet until 09:00 local = 00:00 UTC.
        let mut r = request(Channel::Sms);
        r.customer.utc_offset_minutes = 9 * 60;
        match run(&r, NOON) {
            Decision::Defer(d) => assert_eq!(d.until, NOON + 12 * HOUR_MS),
            other => panic!("expected a deferral, got {other:?}"),
        }
    }

    #[test]
    fn calls_wait_for_the_next_window() {
        // 12:00 local is between the 10–12 and 16–18 windows.
        match run(&request(Channel::PhoneCall), NOON) {
            Decision::Defer(d) => {
                assert_eq!(d.until, NOON + 4 * HOUR_MS);
                assert_eq!(d.reason, "outside call windows");
            }
            other => panic!("expected a deferral, got {other:?}"),
        }
    }

    #[test]
    fn zero_cap_drops_instead_of_deferring_forever() {
        let r = request(Channel::Whatsapp);
        let ctx = Ctx::for_test(NOON).with_config(Config::from_pairs([("cap.whatsapp", "0")]));
        assert_eq!(
            Fatigue::decide(r, &ctx).unwrap(),
            Decision::Drop(DropReason::CapReached)
        );
    }

    #[test]
    fn bad_config_names_the_key() {
        for (k, v) in [
            ("cap.email", "three"),
            ("quiet-hours", "22-07"),
            ("colour", "red"),
            ("min-gap-hours", "-1"),
        ] {
            let err = Fatigue::validate_config(&Config::from_pairs([(k, v)])).unwrap_err();
            match err {
                Error::InvalidConfig(msg) => assert!(msg.contains(k), "{msg}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(Fatigue::validate_config(&Config::default()).is_ok());
    }
}
