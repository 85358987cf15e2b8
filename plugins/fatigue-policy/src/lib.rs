//! Reference fatigue policy.
//!
//! Decides whether one message may go out now, later, or not at all:
//!
//! 1. Transactional messages go out (unless `transactional-exempt = false`).
//! 2. A channel the customer unsubscribed from or complained on is dropped.
//! 3. One running journey at a time: a customer inside another campaign
//!    (enrolled, or contacted for it within `journey-days`) is not enrolled.
//! 4. "Do not move when the customer does not move": a customer silent for
//!    `silent-after-days` is only contacted on a fresh trigger signal.
//! 5. Otherwise the message goes at the earliest time that respects every
//!    rule — caps per channel, per tag and across channels over rolling
//!    and calendar windows in the customer's own time zone (the most
//!    restrictive wins), the minimum gaps (and a longer one after a
//!    contact the customer ignored), quiet hours by country, the
//!    channel's contact windows (per segment), and the retry delay after
//!    an unanswered call. Later than `max-defer-hours` means the moment
//!    has passed: drop.
//!
//! Every number is configurable per merchant; see [`settings`].

pub mod clock;
pub mod settings;

use cove_sdk::fatigue::{
    Contact, Decision, Deferral, DropReason, Error, FatiguePolicy, MessageRequest,
};
use cove_sdk::{Channel, Ctx, DAY_MS, HOUR_MS, MINUTE_MS, MessageKind, TimestampMs};

use clock::Clock;
pub use settings::Settings;
use settings::{Cap, Period, Scope, Window, channel_name};

/// The reference fatigue policy.
pub struct Fatigue;

impl FatiguePolicy for Fatigue {
    fn validate_config(config: &cove_sdk::Config) -> Result<(), Error> {
        Settings::from_config(config).map(|_| ())
    }

    fn settings() -> Vec<cove_sdk::Setting> {
        settings::described()
    }

    fn decide(request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error> {
        let settings = Settings::from_config(ctx.config())?;
        Ok(decide(&settings, &request, ctx.now()))
    }
}

cove_sdk::export_fatigue_policy!(Fatigue);

/// Far enough to mean "never" and still add safely.
const NEVER: TimestampMs = TimestampMs::MAX / 4;

/// The policy itself, free of the plugin plumbing.
pub fn decide(s: &Settings, r: &MessageRequest, now: TimestampMs) -> Decision {
    let promotional = r.kind == MessageKind::Promotional;
    if !promotional && s.transactional_exempt {
        return Decision::Allow;
    }
    if r.suppressed.contains(&r.channel) {
        return Decision::Drop(DropReason::Suppressed);
    }
    // Contacts that count: every one, or the promotional ones when
    // transactional messages are exempt.
    let history: Vec<&Contact> = r
        .history
        .iter()
        .filter(|c| !s.transactional_exempt || !c.transactional)
        .collect();
    if !r.campaign_id.is_empty() {
        let running = history.iter().any(|c| {
            !c.campaign_id.is_empty()
                && c.campaign_id != r.campaign_id
                && c.sent_at > now - s.journey_days * DAY_MS
        });
        if running || r.active_campaigns.iter().any(|c| *c != r.campaign_id) {
            return Decision::Drop(DropReason::InOtherCampaign);
        }
    }
    let silent_since = r.last_engaged_at.unwrap_or(r.customer.created_at);
    if promotional && !r.has_trigger_signal && now - silent_since > s.silent_after_days * DAY_MS {
        return Decision::Drop(DropReason::NoSignal);
    }

    let clock = Clock::new(&r.offsets, r.customer.utc_offset_minutes);
    let caps: Vec<&Cap> = s
        .caps
        .iter()
        .filter(|c| match &c.scope {
            Scope::Channel(ch) => *ch == r.channel,
            Scope::Total => true,
            Scope::Tag(t) => r.tags.contains(t),
        })
        .collect();
    let quiet = s.quiet_in(&r.customer.country);
    let windows = s.windows_for(r.channel, &r.segments);
    let ignored: Vec<TimestampMs> = history
        .iter()
        .filter(|c| !c.engaged && c.sent_at <= now)
        .map(|c| c.sent_at)
        .collect();
    let unanswered_calls: Vec<TimestampMs> = history
        .iter()
        .filter(|c| c.channel == Channel::PhoneCall && !c.engaged && c.sent_at <= now)
        .map(|c| c.sent_at)
        .collect();
    let all: Vec<TimestampMs> = history.iter().map(|c| c.sent_at).collect();

    let mut t = now;
    let mut reason = String::new();
    let mut moved = |next: TimestampMs, t: &mut TimestampMs, why: &dyn Fn() -> String| {
        if next > *t {
            *t = next;
            reason = why();
        }
    };
    // Each rule moves `t` to its earliest acceptable time; repeat until no
    // rule moves it (a fixed point) or the wait is not worth it.
    for _ in 0..32 {
        let before = t;
        for cap in &caps {
            let times: Vec<TimestampMs> = history
                .iter()
                .filter(|c| counts(cap, c))
                .map(|c| c.sent_at)
                .collect();
            moved(cap_ok(cap, &times, &clock, t), &mut t, &|| {
                cap.words.clone()
            });
        }
        moved(gap_ok(&all, s.min_gap_hours * HOUR_MS, t), &mut t, &|| {
            format!("minimum gap of {} hours between messages", s.min_gap_hours)
        });
        moved(
            after(&ignored, s.ignored_gap_hours * HOUR_MS, t),
            &mut t,
            &|| {
                format!(
                    "{} hours after a message the customer did not open",
                    s.ignored_gap_hours
                )
            },
        );
        if r.channel == Channel::PhoneCall {
            moved(
                after(&unanswered_calls, s.call_retry_hours * HOUR_MS, t),
                &mut t,
                &|| {
                    format!(
                        "retry {} hours after an unanswered call",
                        s.call_retry_hours
                    )
                },
            );
        }
        moved(leave_window(quiet, &clock, t), &mut t, &|| {
            quiet_words(quiet, &r.customer.country, &r.time_zone)
        });
        moved(enter_windows(windows, &clock, t), &mut t, &|| {
            format!("outside the {} contact windows", channel_name(r.channel))
        });
        if t == before || t - now > s.max_defer_hours * HOUR_MS {
            break;
        }
    }
    if t == now {
        Decision::Allow
    } else if t - now > s.max_defer_hours * HOUR_MS {
        Decision::Drop(DropReason::CapReached)
    } else {
        Decision::Defer(Deferral { until: t, reason })
    }
}

fn quiet_words(w: Window, country: &str, zone: &str) -> String {
    let hm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
    let place = match (country.is_empty(), zone.is_empty()) {
        (_, false) => format!(" ({zone})"),
        (false, true) => format!(" ({country})"),
        (true, true) => String::new(),
    };
    format!(
        "quiet hours {}–{} local time{place}",
        hm(w.start),
        hm(w.end)
    )
}

fn counts(cap: &Cap, c: &Contact) -> bool {
    match &cap.scope {
        Scope::Channel(ch) => c.channel == *ch,
        Scope::Total => true,
        Scope::Tag(t) => c.tags.contains(t),
    }
}

/// Earliest time ≥ `t` at which one more contact keeps `cap`: in a
/// calendar period, fewer than `count` contacts in `t`'s period; rolling,
/// no window of the length that holds `t` (before or after it, for
/// contacts already planned later) reaches more than `count`.
fn cap_ok(cap: &Cap, times: &[TimestampMs], clock: &Clock, mut t: TimestampMs) -> TimestampMs {
    let n = cap.count as usize;
    if n == 0 {
        return NEVER;
    }
    match cap.period {
        Period::Calendar(p) => {
            for _ in 0..64 {
                let period = clock.period(p, t);
                if times
                    .iter()
                    .filter(|&&x| clock.period(p, x) == period)
                    .count()
                    < n
                {
                    return t;
                }
                t = clock.next_period(p, t);
            }
            NEVER
        }
        Period::Rolling(w) => {
            for _ in 0..256 {
                let fits = |end: TimestampMs| {
                    times.iter().filter(|&&x| x > end - w && x <= end).count() < n
                };
                let later = times.iter().filter(|&&x| x > t && x < t + w);
                if fits(t) && later.clone().all(|&x| fits(x)) {
                    return t;
                }
                // The next moment a contact leaves a window holding `t`.
                match times.iter().map(|&x| x + w).filter(|&x| x > t).min() {
                    Some(next) => t = next,
                    None => return NEVER,
                }
            }
            NEVER
        }
    }
}

/// Earliest time ≥ `t` at least `gap` from every contact, before or after.
fn gap_ok(times: &[TimestampMs], gap: i64, mut t: TimestampMs) -> TimestampMs {
    if gap == 0 {
        return t;
    }
    while let Some(x) = times.iter().find(|&&x| (x - t).abs() < gap) {
        t = x + gap;
    }
    t
}

/// Earliest time ≥ `t` at least `gap` after every one of `times`.
fn after(times: &[TimestampMs], gap: i64, t: TimestampMs) -> TimestampMs {
    times.iter().map(|x| x + gap).fold(t, TimestampMs::max)
}

/// Earliest time ≥ `t` outside `window` (local time).
fn leave_window(window: Window, clock: &Clock, t: TimestampMs) -> TimestampMs {
    let minute = clock.minute_of_day(t);
    if !window.contains(minute) {
        return t;
    }
    let wait = (window.end - minute).rem_euclid(1440);
    let local = clock.local(t);
    clock.utc_of(local - local.rem_euclid(MINUTE_MS) + wait * MINUTE_MS)
}

/// Earliest time ≥ `t` inside one of `windows` (local time).
fn enter_windows(windows: &[Window], clock: &Clock, t: TimestampMs) -> TimestampMs {
    let minute = clock.minute_of_day(t);
    if windows.is_empty() || windows.iter().any(|w| w.contains(minute)) {
        return t;
    }
    let wait = windows
        .iter()
        .map(|w| (w.start - minute).rem_euclid(1440))
        .min()
        .unwrap_or(0);
    let local = clock.local(t);
    clock.utc_of(local - local.rem_euclid(MINUTE_MS) + wait * MINUTE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::fatigue::OffsetSpan;
    use cove_sdk::{Config, Customer, Region};

    /// 2026-03-02 12:00 UTC, a Monday.
    const NOON: TimestampMs = 1_772_452_800_000;
    /// 2026-03-29 01:00 UTC: Europe/Berlin goes from CET (+1) to CEST (+2).
    const SPRING: TimestampMs = 1_774_746_000_000;

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
            time_zone: String::new(),
            offsets: vec![],
            segments: vec![],
        }
    }

    fn sent(channel: Channel, ago: i64) -> Contact {
        at(channel, NOON - ago)
    }

    fn at(channel: Channel, sent_at: TimestampMs) -> Contact {
        Contact {
            channel,
            sent_at,
            campaign_id: String::new(),
            transactional: false,
            tags: vec![],
            engaged: true,
        }
    }

    fn run(r: &MessageRequest, now: TimestampMs) -> Decision {
        Fatigue::decide(r.clone(), &Ctx::for_test(now)).unwrap()
    }

    fn run_with(r: &MessageRequest, now: TimestampMs, config: &[(&str, &str)]) -> Decision {
        let ctx = Ctx::for_test(now).with_config(Config::from_pairs(config.iter().copied()));
        Fatigue::decide(r.clone(), &ctx).unwrap()
    }

    #[track_caller]
    fn deferred(d: Decision) -> Deferral {
        match d {
            Decision::Defer(d) => d,
            other => panic!("expected a deferral, got {other:?}"),
        }
    }

    /// Quiet hours out of the way of a test about something else.
    const NARROW_QUIET: (&str, &str) = ("quiet-hours", "04:00-04:01");

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
    fn transactional_counts_when_not_exempt() {
        let mut r = request(Channel::Email);
        r.kind = MessageKind::Transactional;
        r.history = vec![sent(Channel::Email, 2 * HOUR_MS)];
        assert_eq!(run(&r, NOON), Decision::Allow);
        let d = deferred(run_with(
            &r,
            NOON,
            &[("transactional-exempt", "false"), NARROW_QUIET],
        ));
        assert_eq!(d.until, NOON + 10 * HOUR_MS);
        assert!(d.reason.contains("minimum gap"), "{}", d.reason);
    }

    #[test]
    fn one_journey_at_a_time() {
        let mut r = request(Channel::Email);
        r.active_campaigns = vec!["winback".into()];
        assert_eq!(run(&r, NOON), Decision::Drop(DropReason::InOtherCampaign));
        r.active_campaigns = vec!["spring".into()];
        assert_eq!(run(&r, NOON), Decision::Allow);
        // A contact of another campaign three days ago: it is still running.
        let mut other = sent(Channel::Sms, 3 * DAY_MS);
        other.campaign_id = "winback".into();
        r.history = vec![other.clone()];
        assert_eq!(run(&r, NOON), Decision::Drop(DropReason::InOtherCampaign));
        // Ten days ago it has ended; a one-off message never enrols.
        other.sent_at = NOON - 10 * DAY_MS;
        r.history = vec![other];
        assert_eq!(run(&r, NOON), Decision::Allow);
        r.history[0].sent_at = NOON - DAY_MS;
        r.campaign_id = String::new();
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
        let d = deferred(run(&r, NOON));
        assert_eq!(d.until, NOON + DAY_MS);
        assert_eq!(d.reason, "email cap of 3 per 7 days");
    }

    #[test]
    fn a_contact_planned_later_counts_too() {
        // One email per 7 days; one is planned two days ahead: sending now
        // would put two in the week that ends then.
        let mut r = request(Channel::Email);
        r.history = vec![at(Channel::Email, NOON + 2 * DAY_MS)];
        let config = [("cap.email", "1"), ("max-defer-hours", "240")];
        let d = deferred(run_with(&r, NOON, &config));
        assert_eq!(d.until, NOON + 9 * DAY_MS);
    }

    #[test]
    fn the_most_restrictive_cap_wins() {
        // Three a week allows this one; one a calendar day does not.
        let mut r = request(Channel::Email);
        r.history = vec![sent(Channel::Email, 11 * HOUR_MS)];
        let config = [
            ("cap.email", "3/week, 1/day"),
            ("min-gap-hours", "0"),
            NARROW_QUIET,
        ];
        let d = deferred(run_with(&r, NOON, &config));
        assert_eq!(d.until, NOON + 12 * HOUR_MS, "the next local midnight");
        assert_eq!(d.reason, "email cap of 1 per calendar day");
    }

    #[test]
    fn caps_per_tag_count_only_tagged_messages() {
        let mut r = request(Channel::Sms);
        let mut flash = sent(Channel::Email, 2 * DAY_MS);
        flash.tags = vec!["flash-sale".into()];
        r.history = vec![flash];
        let config = [("cap.tag.flash-sale", "1/week"), ("max-defer-hours", "240")];
        assert_eq!(run_with(&r, NOON, &config), Decision::Allow, "untagged");
        r.tags = vec!["flash-sale".into()];
        // 2 days ago was Saturday: the week ended Monday 00:00, so this one
        // (Monday noon) is in a new week. One this morning is not.
        assert_eq!(run_with(&r, NOON, &config), Decision::Allow);
        r.history[0].sent_at = NOON - 6 * HOUR_MS;
        let d = deferred(run_with(&r, NOON, &config));
        assert_eq!(d.until, NOON + 7 * DAY_MS - 12 * HOUR_MS + 9 * HOUR_MS);
        assert_eq!(
            run_with(&r, NOON, &[config[0], config[1], NARROW_QUIET]),
            Decision::Defer(Deferral {
                until: NOON + 7 * DAY_MS - 12 * HOUR_MS,
                reason: "`flash-sale` cap of 1 per calendar week".into()
            })
        );
    }

    fn berlin(r: &mut MessageRequest) {
        r.time_zone = "Europe/Berlin".into();
        r.customer.utc_offset_minutes = 120;
        r.offsets = vec![
            OffsetSpan {
                starts_at: SPRING - 100 * DAY_MS,
                utc_offset_minutes: 60,
            },
            OffsetSpan {
                starts_at: SPRING,
                utc_offset_minutes: 120,
            },
        ];
    }

    #[test]
    fn a_weekly_window_across_the_daylight_saving_change() {
        // Monday 23, Wednesday 25 and Friday 27 March at 12:00 UTC (CET);
        // on Sunday 29 at 12:00 UTC (CEST) the week's three are spent.
        let now = SPRING + 11 * HOUR_MS;
        let mut r = request(Channel::Email);
        berlin(&mut r);
        r.last_engaged_at = Some(now - DAY_MS);
        r.history = [6, 4, 2]
            .map(|d| at(Channel::Email, now - d * DAY_MS))
            .to_vec();
        let config = [("cap.email", "3/week"), NARROW_QUIET];
        let d = deferred(run_with(&r, now, &config));
        // Monday 00:00 CEST is Sunday 22:00 UTC, not 23:00 (the week began
        // in CET).
        assert_eq!(d.until, SPRING + 21 * HOUR_MS);
        assert_eq!(d.reason, "email cap of 3 per calendar week");
        // Default quiet hours then hold it to 09:00 CEST, 07:00 UTC.
        let d = deferred(run_with(&r, now, &config[..1]));
        assert_eq!(d.until, SPRING + 30 * HOUR_MS);
        assert!(d.reason.contains("Europe/Berlin"), "{}", d.reason);
    }

    #[test]
    fn quiet_hours_end_in_the_new_offset_the_night_clocks_change() {
        // Saturday 28 March 23:00 CET: quiet until 09:00 CEST = 07:00 UTC.
        let now = SPRING - 3 * HOUR_MS;
        let mut r = request(Channel::Sms);
        berlin(&mut r);
        r.last_engaged_at = Some(now - DAY_MS);
        assert_eq!(deferred(run(&r, now)).until, SPRING + 6 * HOUR_MS);
    }

    #[test]
    fn calendar_days_follow_a_travelling_customer() {
        // One message a day; the last went out at 16:00 UTC. At 02:00 UTC
        // the next day a customer in London is on a new day; one who has
        // flown to Tokyo (UTC+9) is still on the day it arrived (01:00 and
        // 11:00), until midnight there (15:00 UTC).
        let mut r = request(Channel::Email);
        let now = NOON + 14 * HOUR_MS;
        r.history = vec![at(Channel::Email, NOON + 4 * HOUR_MS)];
        let config = [("cap.total", "1/day"), ("min-gap-hours", "0"), NARROW_QUIET];
        assert_eq!(run_with(&r, now, &config), Decision::Allow);
        r.customer.utc_offset_minutes = 9 * 60;
        r.time_zone = "Asia/Tokyo".into();
        let d = deferred(run_with(&r, now, &config));
        assert_eq!(d.until, NOON + 27 * HOUR_MS);
        assert_eq!(d.reason, "cap across channels of 1 per calendar day");
    }

    #[test]
    fn quiet_hours_follow_the_customers_time_zone_and_country() {
        // 12:00 UTC is 21:00 in Tokyo (UTC+9): quiet until 09:00 local = 00:00 UTC.
        let mut r = request(Channel::Sms);
        r.customer.utc_offset_minutes = 9 * 60;
        assert_eq!(deferred(run(&r, NOON)).until, NOON + 12 * HOUR_MS);
        // 07:30 local: a German customer waits until 09:00, an American
        // one until 08:00 (the US default), unless the merchant says otherwise.
        r.customer.utc_offset_minutes = -270;
        assert_eq!(deferred(run(&r, NOON)).until, NOON + 90 * MINUTE_MS);
        r.customer.country = "US".into();
        assert_eq!(deferred(run(&r, NOON)).until, NOON + 30 * MINUTE_MS);
        let own = [("quiet-hours.US", "22:00-07:00")];
        assert_eq!(run_with(&r, NOON, &own), Decision::Allow);
    }

    #[test]
    fn calls_wait_for_the_next_window_and_segments_have_their_own() {
        // 12:00 local is between the 10–12 and 16–18 windows.
        let mut r = request(Channel::PhoneCall);
        let d = deferred(run(&r, NOON));
        assert_eq!(d.until, NOON + 4 * HOUR_MS);
        assert_eq!(d.reason, "outside the phone-call contact windows");
        let config = [("windows.phone-call.champions", "12:00-13:00")];
        assert!(matches!(run_with(&r, NOON, &config), Decision::Defer(_)));
        r.segments = vec!["champions".into()];
        assert_eq!(run_with(&r, NOON, &config), Decision::Allow);
        // Any channel can have windows.
        let r = request(Channel::Email);
        let email = [("windows.email", "18:00-20:00")];
        assert_eq!(
            deferred(run_with(&r, NOON, &email)).until,
            NOON + 6 * HOUR_MS
        );
    }

    #[test]
    fn an_unanswered_call_is_retried_after_the_delay() {
        let mut r = request(Channel::PhoneCall);
        let mut call = sent(Channel::PhoneCall, 2 * HOUR_MS);
        call.engaged = false;
        r.history = vec![call];
        let config = [
            ("windows.phone-call", "08:00-22:00"),
            ("cap.phone-call", "2"),
            ("min-gap-hours", "0"),
            ("ignored-gap-hours", "0"),
        ];
        let d = deferred(run_with(&r, NOON, &config));
        assert_eq!(d.until, NOON + 2 * HOUR_MS);
        assert_eq!(d.reason, "retry 4 hours after an unanswered call");
    }

    #[test]
    fn a_longer_gap_after_a_message_the_customer_ignored() {
        let mut r = request(Channel::Email);
        r.history = vec![sent(Channel::Sms, 30 * HOUR_MS)];
        assert_eq!(run(&r, NOON), Decision::Allow, "engaged");
        r.history[0].engaged = false;
        let d = deferred(run_with(&r, NOON, &[NARROW_QUIET]));
        assert_eq!(d.until, NOON + 18 * HOUR_MS);
        assert!(d.reason.contains("did not open"), "{}", d.reason);
    }

    #[test]
    fn zero_cap_drops_instead_of_deferring_forever() {
        let r = request(Channel::Whatsapp);
        assert_eq!(
            run_with(&r, NOON, &[("cap.whatsapp", "0")]),
            Decision::Drop(DropReason::CapReached)
        );
    }

    #[test]
    fn bad_config_names_the_key() {
        for (k, v) in [
            ("cap.email", "three"),
            ("cap.email", "3/fortnight"),
            ("cap.tag.sale", "1/0d"),
            ("quiet-hours", "22-07"),
            ("quiet-hours.usa", "22:00-07:00"),
            ("windows.fax", "10:00-12:00"),
            ("colour", "red"),
            ("min-gap-hours", "-1"),
            ("transactional-exempt", "maybe"),
        ] {
            let err = Fatigue::validate_config(&Config::from_pairs([(k, v)])).unwrap_err();
            match err {
                Error::InvalidConfig(msg) => assert!(msg.contains(k), "{msg}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(Fatigue::validate_config(&Config::default()).is_ok());
        let all = Config::from_pairs([
            ("cap.email", "3/week, 1/day"),
            ("cap.total", "8/month"),
            ("cap.tag.flash-sale", "1/week"),
            ("quiet-hours.GB", "21:30-08:30"),
            ("windows.phone-call.vip", "18:00-20:00"),
        ]);
        assert!(Fatigue::validate_config(&all).is_ok());
    }
}
