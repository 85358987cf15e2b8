//! Reference channel chooser.
//!
//! Ranks the channels a customer consented to, best first, each with its
//! reason in plain words:
//!
//! 1. **Regional priors.** Each region starts from a table of engagement
//!    rates the merchant can edit (`prior.<region> = email 0.22, sms 0.12`):
//!    email first in Europe and North America, SMS and WhatsApp in the
//!    Middle East, WhatsApp in Latin America and much of Asia-Pacific.
//! 2. **The customer's own behaviour.** Per channel, a Beta posterior over
//!    "engaged with a message it delivered": the prior counts as
//!    `prior-weight` messages, and each of the customer's own deliveries,
//!    opens, clicks and replies counts with a weight halving every
//!    `half-life-days`. A customer who reads SMS and ignores email gets SMS.
//! 3. **Reactivation.** A promotional message to a customer who
//!    unsubscribed from email or SMS, or who has been silent for
//!    `silent-after-days`, goes first over WhatsApp or Messenger
//!    (`reactivation`, in that order) when consented.
//! 4. **WhatsApp's 24-hour rule.** Free-form only within 24 hours of the
//!    customer's last message there; a pre-approved template otherwise
//!    (`template-only`).

use cove_sdk::channels::{ChannelChooser, ChooseRequest, Error, Ranked};
use cove_sdk::{
    Channel, Config, Ctx, DAY_MS, EngagementKind, HOUR_MS, MessageKind, Region, Setting,
    SettingKind, TimestampMs,
};

/// The reference channel chooser.
pub struct Chooser;

impl ChannelChooser for Chooser {
    fn validate_config(config: &Config) -> Result<(), Error> {
        Settings::from_config(config).map(|_| ())
    }

    fn settings() -> Vec<Setting> {
        let channel = r"(email|sms|app-push|web-push|whatsapp|messenger|phone-call)";
        vec![
            Setting::new(
                "prior.*",
                SettingKind::text(&format!(
                    r"{channel}[ =:]\s*\d+(\.\d+)?%?(\s*,\s*{channel}[ =:]\s*\d+(\.\d+)?%?)*"
                )),
                None,
                "How well each channel usually works in a region before Cove knows the customer: a rate per channel (Cove's defaults by region apply unless set).",
                "在了解客户之前，各渠道在某个地区通常的效果：每个渠道一个比率（未设置时使用 Cove 按地区的默认值）。",
                "prior.europe = email 0.22, sms 0.12, whatsapp 0.3",
            )
            .part("a region: north-america, europe, middle-east, latin-america, asia-pacific, africa, other"),
            Setting::new(
                "prior-weight",
                SettingKind::number(0.1, 10_000.0),
                Some("10"),
                "How many messages the regional rates count as against the customer's own reactions.",
                "地区比率相当于多少条消息，用来与客户自身的反应对比。",
                "prior-weight = 10",
            ),
            Setting::new(
                "half-life-days",
                SettingKind::number(1.0, 100_000.0),
                Some("60"),
                "After this many days a customer's reaction to a message counts half as much.",
                "客户对消息的反应经过这么多天后，权重减半。",
                "half-life-days = 60",
            ),
            Setting::new(
                "silent-after-days",
                SettingKind::integer(1, 3650),
                Some("60"),
                "Days without any reaction after which a promotion tries the reactivation channels first.",
                "客户多少天没有任何互动后，促销消息优先尝试唤醒渠道。",
                "silent-after-days = 60",
            ),
            Setting::new(
                "reactivation",
                SettingKind::text(&format!(r"{channel}(\s*,\s*{channel})*")),
                Some("whatsapp, messenger"),
                "Channels to win back a customer who unsubscribed or went silent, best first.",
                "用来挽回已退订或长期沉默客户的渠道，按优先顺序。",
                "reactivation = whatsapp, messenger",
            ),
        ]
    }

    fn choose(request: ChooseRequest, ctx: &Ctx) -> Result<Vec<Ranked>, Error> {
        Ok(choose(
            &Settings::from_config(ctx.config())?,
            &request,
            ctx.now(),
        ))
    }
}

cove_sdk::export_channel_chooser!(Chooser);

/// The channels, in the WIT's order, with their names.
const CHANNELS: [(Channel, &str); 7] = [
    (Channel::Email, "email"),
    (Channel::Sms, "sms"),
    (Channel::AppPush, "app-push"),
    (Channel::WebPush, "web-push"),
    (Channel::Whatsapp, "whatsapp"),
    (Channel::Messenger, "messenger"),
    (Channel::PhoneCall, "phone-call"),
];

/// The regions, with their names and default engagement rates per channel
/// (email, sms, app-push, web-push, whatsapp, messenger, phone-call).
const REGIONS: [(Region, &str, &str, [f64; 7]); 7] = [
    (
        Region::Europe,
        "europe",
        "Europe",
        [0.22, 0.12, 0.15, 0.05, 0.10, 0.05, 0.03],
    ),
    (
        Region::NorthAmerica,
        "north-america",
        "North America",
        [0.20, 0.15, 0.15, 0.05, 0.04, 0.06, 0.03],
    ),
    (
        Region::MiddleEast,
        "middle-east",
        "the Middle East",
        [0.10, 0.25, 0.12, 0.04, 0.24, 0.05, 0.04],
    ),
    (
        Region::AsiaPacific,
        "asia-pacific",
        "Asia-Pacific",
        [0.10, 0.12, 0.18, 0.04, 0.22, 0.08, 0.02],
    ),
    (
        Region::LatinAmerica,
        "latin-america",
        "Latin America",
        [0.10, 0.12, 0.12, 0.04, 0.30, 0.12, 0.03],
    ),
    (
        Region::Africa,
        "africa",
        "Africa",
        [0.08, 0.20, 0.10, 0.03, 0.22, 0.08, 0.03],
    ),
    (
        Region::Other,
        "other",
        "this region",
        [0.12, 0.10, 0.12, 0.04, 0.10, 0.06, 0.02],
    ),
];

fn index(channel: Channel) -> usize {
    CHANNELS
        .iter()
        .position(|(c, _)| *c == channel)
        .unwrap_or(0)
}

fn name(channel: Channel) -> &'static str {
    CHANNELS[index(channel)].1
}

/// The merchant's settings, read from the plugin configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Engagement rate per region (by [`REGIONS`] order) and channel.
    pub priors: [[f64; 7]; 7],
    /// How many messages the prior counts as (`prior-weight`, default 10).
    pub prior_weight: f64,
    /// Days after which an engagement counts half (`half-life-days`, 60).
    pub half_life_days: f64,
    /// Days without engagement that make a customer silent (`silent-after-days`, 60).
    pub silent_after_days: i64,
    /// Channels for reactivation, best first (`reactivation`, `whatsapp, messenger`).
    pub reactivation: Vec<Channel>,
}

fn invalid(key: &str, why: impl std::fmt::Display) -> Error {
    Error::InvalidConfig(format!("config `{key}`: {why}"))
}

fn channel_named(key: &str, text: &str) -> Result<Channel, Error> {
    CHANNELS
        .iter()
        .find(|(_, n)| *n == text.trim())
        .map(|(c, _)| *c)
        .ok_or_else(|| invalid(key, format!("`{}` is not a channel", text.trim())))
}

impl Settings {
    /// Read settings, falling back to the defaults for keys not set.
    pub fn from_config(config: &Config) -> Result<Settings, Error> {
        let number = |key: &str, default: f64| -> Result<f64, Error> {
            let v: f64 = config
                .parse_or(key, default)
                .map_err(Error::InvalidConfig)?;
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(key, format!("must be a positive number, got {v}")));
            }
            Ok(v)
        };
        let mut settings = Settings {
            priors: REGIONS.map(|r| r.3),
            prior_weight: number("prior-weight", 10.0)?,
            half_life_days: number("half-life-days", 60.0)?,
            silent_after_days: number("silent-after-days", 60.0)? as i64,
            reactivation: vec![Channel::Whatsapp, Channel::Messenger],
        };
        for (key, value) in config.pairs() {
            match key.split_once('.') {
                _ if ["prior-weight", "half-life-days", "silent-after-days"]
                    .contains(&key.as_str()) => {}
                None if key == "reactivation" => {
                    settings.reactivation = value
                        .split(',')
                        .filter(|s| !s.trim().is_empty())
                        .map(|c| channel_named(key, c))
                        .collect::<Result<_, _>>()?;
                }
                Some(("prior", region)) => {
                    let r = REGIONS
                        .iter()
                        .position(|(_, n, _, _)| *n == region)
                        .ok_or_else(|| {
                            let names: Vec<&str> = REGIONS.iter().map(|r| r.1).collect();
                            invalid(
                                key,
                                format!("`{region}` is not a region; use {}", names.join(", ")),
                            )
                        })?;
                    for entry in value.split(',').filter(|s| !s.trim().is_empty()) {
                        let (channel, rate) =
                            entry.trim().split_once([' ', '=', ':']).ok_or_else(|| {
                                invalid(
                                    key,
                                    format!(
                                        "`{}`: expected a channel and a rate, such as email 0.2",
                                        entry.trim()
                                    ),
                                )
                            })?;
                        let channel = channel_named(key, channel)?;
                        let text = rate.trim();
                        let mut rate: f64 = text
                            .trim_end_matches('%')
                            .trim()
                            .parse()
                            .map_err(|_| invalid(key, format!("`{text}` is not a number")))?;
                        if text.ends_with('%') {
                            rate /= 100.0;
                        }
                        if !(0.0..1.0).contains(&rate) || rate == 0.0 {
                            return Err(invalid(
                                key,
                                format!(
                                    "the rate for {} must be between 0 and 1, got {rate}",
                                    name(channel)
                                ),
                            ));
                        }
                        settings.priors[r][index(channel)] = rate;
                    }
                }
                _ => return Err(invalid(key, "unknown setting")),
            }
        }
        Ok(settings)
    }
}

/// What one channel did for the customer, raw and weighted by age.
#[derive(Default, Clone, Copy)]
struct Tally {
    delivered: u32,
    engaged: u32,
    weighted_delivered: f64,
    weighted_opened: f64,
    weighted_clicked: f64,
    weighted_replied: f64,
}

/// The ranking itself, free of the plugin plumbing.
pub fn choose(s: &Settings, r: &ChooseRequest, now: TimestampMs) -> Vec<Ranked> {
    let region = REGIONS
        .iter()
        .position(|x| x.0 == r.customer.region)
        .unwrap_or(REGIONS.len() - 1);
    let mut tally = [Tally::default(); 7];
    let mut opted_out_classic: Option<Channel> = None;
    let mut last_whatsapp_message: Option<TimestampMs> = None;
    for e in &r.engagement {
        let age_days = (now - e.at).max(0) as f64 / DAY_MS as f64;
        let w = 0.5f64.powf(age_days / s.half_life_days);
        let t = &mut tally[index(e.channel)];
        match e.kind {
            EngagementKind::Delivered => {
                t.delivered += 1;
                t.weighted_delivered += w;
            }
            EngagementKind::Opened => {
                t.engaged += 1;
                t.weighted_opened += w;
            }
            EngagementKind::Clicked => {
                t.engaged += 1;
                t.weighted_clicked += w;
            }
            EngagementKind::Replied => {
                t.engaged += 1;
                t.weighted_replied += w;
                if e.channel == Channel::Whatsapp {
                    last_whatsapp_message = last_whatsapp_message.max(Some(e.at));
                }
            }
            EngagementKind::Unsubscribed | EngagementKind::Complained => {
                if matches!(e.channel, Channel::Email | Channel::Sms) {
                    opted_out_classic = Some(e.channel);
                }
            }
        }
    }
    let silent_since = r.last_engaged_at.unwrap_or(r.customer.created_at);
    let silent_days = (now - silent_since) / DAY_MS;
    let reactivate = r.kind == MessageKind::Promotional
        && (opted_out_classic.is_some() || silent_days >= s.silent_after_days);
    let (_, _, region_words, _) = REGIONS[region];

    let mut ranked: Vec<(usize, Ranked)> = Vec::new();
    for consent in r.consents.iter().filter(|c| c.granted) {
        let channel = consent.channel;
        if ranked.iter().any(|(_, x)| x.channel == channel) {
            continue;
        }
        let prior = s.priors[region][index(channel)];
        let t = tally[index(channel)];
        // A click implies an open; replies are engagement of their own.
        let success = t.weighted_opened.max(t.weighted_clicked) + t.weighted_replied;
        let trials = t.weighted_delivered.max(success);
        let alpha = prior * s.prior_weight + success;
        let beta = (1.0 - prior) * s.prior_weight + (trials - success);
        let score = (alpha / (alpha + beta)).clamp(0.0, 1.0);
        let mut reason = format!(
            "{}: {:.0}% expected engagement ({region_words} starts at {:.0}%",
            name(channel),
            score * 100.0,
            prior * 100.0
        );
        if t.delivered > 0 || t.engaged > 0 {
            reason.push_str(&format!(
                "; engaged {} times with {} messages received lately",
                t.engaged, t.delivered
            ));
        }
        reason.push(')');
        let rank = s.reactivation.iter().position(|c| *c == channel);
        let first = match rank {
            Some(i) if reactivate => {
                reason = match opted_out_classic {
                    Some(c) => format!("reactivation (unsubscribed from {}): {reason}", name(c)),
                    None => format!("reactivation (silent for {silent_days} days): {reason}"),
                };
                i
            }
            _ => usize::MAX,
        };
        let mut template_only = false;
        if channel == Channel::Whatsapp {
            match last_whatsapp_message.filter(|at| now - at < 24 * HOUR_MS) {
                Some(at) => reason.push_str(&format!(
                    "; free-form allowed (the customer wrote {} h ago)",
                    (now - at) / HOUR_MS
                )),
                None => {
                    template_only = true;
                    reason.push_str(
                        "; template only (no message from the customer in the last 24 h)",
                    );
                }
            }
        }
        ranked.push((
            first,
            Ranked {
                channel,
                score,
                reason,
                template_only,
            },
        ));
    }
    ranked.sort_by(|(fa, a), (fb, b)| {
        fa.cmp(fb)
            .then(b.score.total_cmp(&a.score))
            .then(index(a.channel).cmp(&index(b.channel)))
    });
    ranked.into_iter().map(|(_, x)| x).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::channels::Consent;
    use cove_sdk::{Customer, EngagementEvent};

    /// 2026-03-02 12:00 UTC.
    const NOW: TimestampMs = 1_772_452_800_000;

    fn request(region: Region, channels: &[Channel]) -> ChooseRequest {
        ChooseRequest {
            customer: Customer {
                id: "c1".into(),
                region,
                country: String::new(),
                utc_offset_minutes: 0,
                created_at: NOW - 400 * DAY_MS,
            },
            kind: MessageKind::Promotional,
            consents: channels
                .iter()
                .map(|&channel| Consent {
                    channel,
                    granted: true,
                })
                .collect(),
            stats: vec![],
            last_engaged_at: Some(NOW - 3 * DAY_MS),
            engagement: vec![],
            tags: vec![],
        }
    }

    fn event(channel: Channel, kind: EngagementKind, days_ago: i64) -> EngagementEvent {
        EngagementEvent {
            channel,
            kind,
            at: NOW - days_ago * DAY_MS,
        }
    }

    fn order(r: &ChooseRequest, config: &[(&str, &str)]) -> Vec<Channel> {
        let ctx = Ctx::for_test(NOW).with_config(Config::from_pairs(config.iter().copied()));
        Chooser::choose(r.clone(), &ctx)
            .unwrap()
            .into_iter()
            .map(|x| x.channel)
            .collect()
    }

    const ALL: [Channel; 7] = [
        Channel::Email,
        Channel::Sms,
        Channel::AppPush,
        Channel::WebPush,
        Channel::Whatsapp,
        Channel::Messenger,
        Channel::PhoneCall,
    ];

    #[test]
    fn regions_start_from_their_own_priors() {
        for (region, first) in [
            (Region::Europe, Channel::Email),
            (Region::NorthAmerica, Channel::Email),
            (Region::MiddleEast, Channel::Sms),
            (Region::LatinAmerica, Channel::Whatsapp),
            (Region::AsiaPacific, Channel::Whatsapp),
        ] {
            assert_eq!(order(&request(region, &ALL), &[])[0], first, "{region:?}");
        }
        // The merchant's table wins.
        let r = request(Region::Europe, &ALL);
        let ranked = order(&r, &[("prior.europe", "app-push 0.4, email=25%")]);
        assert_eq!(ranked[..2], [Channel::AppPush, Channel::Email]);
    }

    #[test]
    fn never_a_channel_without_consent() {
        let mut r = request(Region::Europe, &[Channel::Sms]);
        r.consents.push(Consent {
            channel: Channel::Email,
            granted: false,
        });
        assert_eq!(order(&r, &[]), [Channel::Sms]);
        r.consents.clear();
        assert!(order(&r, &[]).is_empty());
    }

    #[test]
    fn a_customer_who_reads_sms_and_ignores_email_gets_sms() {
        let mut r = request(Region::Europe, &[Channel::Email, Channel::Sms]);
        for d in 1..=6 {
            r.engagement
                .push(event(Channel::Email, EngagementKind::Delivered, d * 5));
            r.engagement
                .push(event(Channel::Sms, EngagementKind::Delivered, d * 5));
            r.engagement
                .push(event(Channel::Sms, EngagementKind::Opened, d * 5));
        }
        let ranked = Chooser::choose(r.clone(), &Ctx::for_test(NOW)).unwrap();
        assert_eq!(ranked[0].channel, Channel::Sms);
        assert!(
            ranked[0].reason.contains("engaged 6 times with 6 messages"),
            "{}",
            ranked[0].reason
        );
        assert!(ranked[0].score > 0.4 && ranked[1].score < 0.2, "{ranked:?}");
    }

    #[test]
    fn old_behaviour_counts_less_than_new() {
        // Email read a year ago, ignored lately; SMS the other way round.
        let mut r = request(Region::Europe, &[Channel::Email, Channel::Sms]);
        for (channel, days) in [(Channel::Email, 300), (Channel::Sms, 10)] {
            for _ in 0..4 {
                r.engagement
                    .push(event(channel, EngagementKind::Delivered, days));
                r.engagement
                    .push(event(channel, EngagementKind::Clicked, days));
            }
        }
        for _ in 0..4 {
            r.engagement
                .push(event(Channel::Email, EngagementKind::Delivered, 5));
        }
        assert_eq!(order(&r, &[])[0], Channel::Sms);
        // Without decay (a very long half-life) the email history ties it up.
        let flat = order(&r, &[("half-life-days", "100000")]);
        assert_eq!(flat[0], Channel::Sms);
        let ctx =
            Ctx::for_test(NOW).with_config(Config::from_pairs([("half-life-days", "100000")]));
        let flat = Chooser::choose(r.clone(), &ctx).unwrap();
        let decayed = Chooser::choose(r, &Ctx::for_test(NOW)).unwrap();
        let email = |v: &[Ranked]| {
            v.iter()
                .find(|x| x.channel == Channel::Email)
                .unwrap()
                .score
        };
        assert!(email(&decayed) < email(&flat), "{decayed:?} {flat:?}");
    }

    #[test]
    fn reactivation_goes_to_whatsapp_then_messenger() {
        let mut r = request(Region::Europe, &ALL);
        r.engagement = vec![event(Channel::Email, EngagementKind::Unsubscribed, 20)];
        let ranked = Chooser::choose(r.clone(), &Ctx::for_test(NOW)).unwrap();
        assert_eq!(ranked[0].channel, Channel::Whatsapp);
        assert_eq!(ranked[1].channel, Channel::Messenger);
        assert!(
            ranked[0]
                .reason
                .starts_with("reactivation (unsubscribed from email)"),
            "{}",
            ranked[0].reason
        );
        // Silent for 90 days: the same, with its own reason.
        let mut silent = request(Region::Europe, &[Channel::Email, Channel::Messenger]);
        silent.last_engaged_at = Some(NOW - 90 * DAY_MS);
        let ranked = Chooser::choose(silent.clone(), &Ctx::for_test(NOW)).unwrap();
        assert_eq!(ranked[0].channel, Channel::Messenger);
        assert!(
            ranked[0].reason.contains("silent for 90 days"),
            "{}",
            ranked[0].reason
        );
        // Not for transactional messages, and not without consent.
        silent.kind = MessageKind::Transactional;
        assert_eq!(order(&silent, &[])[0], Channel::Email);
        let only_email = request(Region::Europe, &[Channel::Email]);
        assert_eq!(order(&only_email, &[]), [Channel::Email]);
    }

    #[test]
    fn whatsapp_free_form_only_within_a_day_of_the_customers_message() {
        let mut r = request(Region::LatinAmerica, &[Channel::Whatsapp]);
        let ranked = Chooser::choose(r.clone(), &Ctx::for_test(NOW)).unwrap();
        assert!(ranked[0].template_only);
        assert!(
            ranked[0].reason.contains("template only"),
            "{}",
            ranked[0].reason
        );
        r.engagement.push(EngagementEvent {
            channel: Channel::Whatsapp,
            kind: EngagementKind::Replied,
            at: NOW - 3 * HOUR_MS,
        });
        let ranked = Chooser::choose(r.clone(), &Ctx::for_test(NOW)).unwrap();
        assert!(!ranked[0].template_only);
        assert!(
            ranked[0].reason.contains("wrote 3 h ago"),
            "{}",
            ranked[0].reason
        );
        r.engagement[0].at = NOW - 25 * HOUR_MS;
        assert!(Chooser::choose(r, &Ctx::for_test(NOW)).unwrap()[0].template_only);
    }

    #[test]
    fn bad_config_names_the_key() {
        for (k, v) in [
            ("prior.mars", "email 0.2"),
            ("prior.europe", "fax 0.2"),
            ("prior.europe", "email lots"),
            ("prior.europe", "email 1.5"),
            ("half-life-days", "0"),
            ("reactivation", "pigeon"),
            ("colour", "red"),
        ] {
            match Chooser::validate_config(&Config::from_pairs([(k, v)])).unwrap_err() {
                Error::InvalidConfig(msg) => assert!(msg.contains(k), "{msg}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(Chooser::validate_config(&Config::default()).is_ok());
    }
}
