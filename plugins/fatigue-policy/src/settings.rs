//! The merchant's rules, in plain configuration:
//!
//! | key | value | default |
//! |---|---|---|
//! | `cap.<channel>` | `3` (per 7 days) or rules such as `3/week, 1/day` | email 3, sms 2, app-push 5, web-push 3, whatsapp 2, messenger 2, phone-call 1 per 7 days |
//! | `cap.total` | rules across channels | — |
//! | `cap.total-week`, `cap.total-day` | across channels, per 7 days / 24 hours | 6, 2 |
//! | `cap.tag.<tag>` | rules for messages with the tag | — |
//! | `quiet-hours` | `HH:MM-HH:MM`, local time | 21:00-09:00 |
//! | `quiet-hours.<CC>` | the same for one country (ISO code) | US and CA 21:00-08:00, FR 20:00-10:00 |
//! | `windows.<channel>` | `HH:MM-HH:MM, …`: the only times it may be used | phone-call 10:00-12:00, 16:00-18:00, 19:00-20:00 |
//! | `windows.<channel>.<segment>` | the same for customers in a segment | — |
//! | `min-gap-hours` | hours between two contacts | 12 |
//! | `ignored-gap-hours` | hours after a contact the customer did not engage with | 48 |
//! | `call-retry-hours` | hours before an unanswered call is tried again | 4 |
//! | `journey-days` | a campaign with a contact this recent is still running | 7 |
//! | `silent-after-days` | days without engagement before a signal is needed | 90 |
//! | `max-defer-hours` | longest wait worth making; beyond it, drop | 72 |
//! | `transactional-exempt` | `true`: transactional messages skip every rule | true |
//!
//! A rule is `N/<window>`: `day`, `week` (Monday first) and `month` are
//! calendar periods in the customer's own time zone; `24h` or `7d` are
//! rolling windows.

use cove_sdk::fatigue::Error;
use cove_sdk::{Channel, Config, DAY_MS, HOUR_MS, Setting, SettingKind};

use crate::clock::Calendar;

/// A local-time window `[start, end)` in minutes after midnight; wraps past
/// midnight when `start > end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First minute inside.
    pub start: i64,
    /// First minute outside.
    pub end: i64,
}

impl Window {
    /// Whether the local `minute` of the day is inside.
    pub fn contains(self, minute: i64) -> bool {
        if self.start <= self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }

    fn parse(key: &str, text: &str) -> Result<Window, Error> {
        let bad = || invalid(key, format!("expected HH:MM-HH:MM, got `{text}`"));
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

    fn parse_list(key: &str, text: &str) -> Result<Vec<Window>, Error> {
        text.split(',').map(|w| Window::parse(key, w)).collect()
    }
}

const fn hours(start: i64, end: i64) -> Window {
    Window {
        start: start * 60,
        end: end * 60,
    }
}

/// How long a cap counts contacts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// The trailing milliseconds.
    Rolling(i64),
    /// A calendar period in the customer's zone.
    Calendar(Calendar),
}

/// What a cap counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Contacts on one channel.
    Channel(Channel),
    /// Contacts on every channel.
    Total,
    /// Contacts whose message has the tag.
    Tag(String),
}

/// One cap: at most `count` contacts in `scope` per `period`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cap {
    /// What is counted.
    pub scope: Scope,
    /// How many are allowed.
    pub count: u32,
    /// Per what.
    pub period: Period,
    /// The rule in words, for the deferral reason.
    pub words: String,
}

/// The merchant's settings, read from the plugin configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Every cap; the most restrictive wins.
    pub caps: Vec<Cap>,
    /// Quiet hours for countries without their own.
    pub quiet: Window,
    /// Quiet hours by country code.
    pub quiet_by_country: Vec<(String, Window)>,
    /// Allowed windows by channel and, optionally, segment.
    pub windows: Vec<(Channel, Option<String>, Vec<Window>)>,
    /// Minimum hours between two promotional contacts.
    pub min_gap_hours: i64,
    /// Minimum hours after a contact the customer did not engage with.
    pub ignored_gap_hours: i64,
    /// Hours before an unanswered call is retried.
    pub call_retry_hours: i64,
    /// A campaign contacted within this many days is still running.
    pub journey_days: i64,
    /// Days without engagement after which the customer counts as silent.
    pub silent_after_days: i64,
    /// Longest deferral worth making; beyond it the message is dropped.
    pub max_defer_hours: i64,
    /// Transactional messages skip every rule.
    pub transactional_exempt: bool,
}

/// Each channel with its name and default cap per 7 days.
pub const CHANNELS: [(Channel, &str, u32); 7] = [
    (Channel::Email, "email", 3),
    (Channel::Sms, "sms", 2),
    (Channel::AppPush, "app-push", 5),
    (Channel::WebPush, "web-push", 3),
    (Channel::Whatsapp, "whatsapp", 2),
    (Channel::Messenger, "messenger", 2),
    (Channel::PhoneCall, "phone-call", 1),
];

/// The channel's name.
pub fn channel_name(channel: Channel) -> &'static str {
    CHANNELS
        .iter()
        .find(|(c, _, _)| *c == channel)
        .map_or("?", |(_, n, _)| n)
}

/// Quiet hours where the law or custom differs from the default: US and
/// Canadian telemarketing rules allow 08:00–21:00, French ones 10:00–20:00.
const COUNTRY_QUIET: [(&str, Window); 3] = [
    ("US", hours(21, 8)),
    ("CA", hours(21, 8)),
    ("FR", hours(20, 10)),
];

fn invalid(key: &str, why: impl std::fmt::Display) -> Error {
    Error::InvalidConfig(format!("config `{key}`: {why}"))
}

fn parse_caps(key: &str, scope: &Scope, text: &str) -> Result<Vec<Cap>, Error> {
    let what = match scope {
        Scope::Channel(c) => format!("{} cap", channel_name(*c)),
        Scope::Total => "cap across channels".to_string(),
        Scope::Tag(t) => format!("`{t}` cap"),
    };
    text.split(',')
        .map(|rule| {
            let rule = rule.trim();
            let (n, per) = rule.split_once('/').unwrap_or((rule, "7d"));
            let count: u32 = n
                .trim()
                .parse()
                .map_err(|_| invalid(key, format!("`{rule}`: expected a count such as 3/week")))?;
            let per = per.trim();
            let (period, words) = match per {
                "day" => (Period::Calendar(Calendar::Day), "calendar day".to_string()),
                "week" => (Period::Calendar(Calendar::Week), "calendar week".into()),
                "month" => (Period::Calendar(Calendar::Month), "calendar month".into()),
                _ => {
                    let (num, unit) = per.split_at(per.len().saturating_sub(1));
                    let n: i64 = num.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        invalid(
                            key,
                            format!("`{per}`: use day, week, month, or a span such as 24h or 7d"),
                        )
                    })?;
                    match unit {
                        "h" => (Period::Rolling(n * HOUR_MS), format!("{n} hours")),
                        "d" => (Period::Rolling(n * DAY_MS), format!("{n} days")),
                        _ => {
                            return Err(invalid(
                                key,
                                format!(
                                    "`{per}`: use day, week, month, or a span such as 24h or 7d"
                                ),
                            ));
                        }
                    }
                }
            };
            Ok(Cap {
                scope: scope.clone(),
                count,
                period,
                words: format!("{what} of {count} per {words}"),
            })
        })
        .collect()
}

fn channel_named(name: &str) -> Option<Channel> {
    CHANNELS
        .iter()
        .find(|(_, n, _)| *n == name)
        .map(|(c, _, _)| *c)
}

impl Settings {
    /// Read settings, falling back to the defaults for keys not set.
    pub fn from_config(config: &Config) -> Result<Settings, Error> {
        let mut caps = Vec::new();
        for (channel, name, default) in CHANNELS {
            let key = format!("cap.{name}");
            let text = config
                .get(&key)
                .map_or_else(|| default.to_string(), str::to_string);
            caps.extend(parse_caps(&key, &Scope::Channel(channel), &text)?);
        }
        for (key, per, default) in [("cap.total-week", "7d", 6), ("cap.total-day", "24h", 2)] {
            let n: u32 = config
                .parse_or(key, default)
                .map_err(Error::InvalidConfig)?;
            caps.extend(parse_caps(key, &Scope::Total, &format!("{n}/{per}"))?);
        }
        let number = |key: &str, default: i64| -> Result<i64, Error> {
            let v: i64 = config
                .parse_or(key, default)
                .map_err(Error::InvalidConfig)?;
            if v < 0 {
                return Err(invalid(key, format!("must not be negative, got {v}")));
            }
            Ok(v)
        };
        let mut settings = Settings {
            caps,
            quiet: hours(21, 9),
            quiet_by_country: COUNTRY_QUIET
                .iter()
                .map(|(c, w)| (c.to_string(), *w))
                .collect(),
            windows: vec![(
                Channel::PhoneCall,
                None,
                vec![hours(10, 12), hours(16, 18), hours(19, 20)],
            )],
            min_gap_hours: number("min-gap-hours", 12)?,
            ignored_gap_hours: number("ignored-gap-hours", 48)?,
            call_retry_hours: number("call-retry-hours", 4)?,
            journey_days: number("journey-days", 7)?,
            silent_after_days: number("silent-after-days", 90)?,
            max_defer_hours: number("max-defer-hours", 72)?,
            transactional_exempt: config
                .parse_or("transactional-exempt", true)
                .map_err(Error::InvalidConfig)?,
        };
        const SCALARS: [&str; 9] = [
            "cap.total-week",
            "cap.total-day",
            "min-gap-hours",
            "ignored-gap-hours",
            "call-retry-hours",
            "journey-days",
            "silent-after-days",
            "max-defer-hours",
            "transactional-exempt",
        ];
        for (key, value) in config.pairs() {
            let parts: Vec<&str> = key.split('.').collect();
            match parts.as_slice() {
                _ if SCALARS.contains(&key.as_str()) => {}
                ["cap", name] if channel_named(name).is_some() => {}
                ["cap", "total"] => settings.caps.extend(parse_caps(key, &Scope::Total, value)?),
                ["cap", "tag", tag] if !tag.is_empty() => {
                    settings
                        .caps
                        .extend(parse_caps(key, &Scope::Tag(tag.to_string()), value)?)
                }
                ["quiet-hours"] => settings.quiet = Window::parse(key, value)?,
                ["quiet-hours", country]
                    if country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()) =>
                {
                    let w = Window::parse(key, value)?;
                    settings.quiet_by_country.retain(|(c, _)| c != country);
                    settings.quiet_by_country.push((country.to_string(), w));
                }
                ["quiet-hours", _] => {
                    return Err(invalid(
                        key,
                        "name the country by its two-letter code in capitals, such as quiet-hours.US",
                    ));
                }
                ["windows", name, segment @ ..] if segment.len() <= 1 => {
                    let channel = channel_named(name)
                        .ok_or_else(|| invalid(key, format!("`{name}` is not a channel")))?;
                    let segment = segment.first().map(|s| s.to_string());
                    let windows = Window::parse_list(key, value)?;
                    settings
                        .windows
                        .retain(|(c, s, _)| !(*c == channel && *s == segment));
                    settings.windows.push((channel, segment, windows));
                }
                _ => return Err(invalid(key, "unknown setting")),
            }
        }
        Ok(settings)
    }

    /// Quiet hours in `country`.
    pub fn quiet_in(&self, country: &str) -> Window {
        self.quiet_by_country
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(country))
            .map_or(self.quiet, |(_, w)| *w)
    }

    /// The windows `channel` may be used in, for a customer in `segments`
    /// (a segment's own windows first); empty means any time.
    pub fn windows_for(&self, channel: Channel, segments: &[String]) -> &[Window] {
        let find = |segment: Option<&String>| {
            self.windows
                .iter()
                .find(|(c, s, _)| *c == channel && s.as_ref() == segment)
        };
        segments
            .iter()
            .find_map(|s| find(Some(s)))
            .or_else(|| find(None))
            .map_or(&[], |(_, _, w)| w.as_slice())
    }
}

/// A cap rule: `3`, `3/week`, `1/day, 4/7d`.
const CAP_RULES: &str = r"\d+(/(day|week|month|\d+[hd]))?(\s*,\s*\d+(/(day|week|month|\d+[hd]))?)*";
/// A local-time window `HH:MM-HH:MM`.
const WINDOW: &str = r"\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}";
/// Several windows, separated by commas.
const WINDOWS: &str =
    r"\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}(\s*,\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2})*";

/// Every setting [`Settings::from_config`] reads, described for the
/// merchant's form.
pub fn described() -> Vec<Setting> {
    let hours = |key: &str, default: &str, max: i64, en: &str, zh: &str| {
        Setting::new(
            key,
            SettingKind::integer(0, max),
            Some(default),
            en,
            zh,
            &format!("{key} = {default}"),
        )
    };
    vec![
        Setting::new(
            "cap.*",
            SettingKind::text(CAP_RULES),
            None,
            "How many messages a customer may get on a channel: a number per 7 days, or rules such as 3/week, 1/day (week and day follow the customer's calendar; 24h or 7d are rolling). Unless set: e-mail 3, SMS 2, app push 5, web push 3, WhatsApp 2, Messenger 2, calls 1 per 7 days.",
            "每位客户在一个渠道上最多收到多少条消息：每 7 天的条数，或 3/week, 1/day 这样的规则（week 和 day 按客户当地日历；24h 或 7d 为滚动时间窗）。未设置时：每 7 天邮件 3 条、短信 2 条、App 推送 5 条、网页推送 3 条、WhatsApp 2 条、Messenger 2 条、电话 1 次。",
            "cap.email = 3/week, 1/day",
        )
        .part("a channel: email, sms, app-push, web-push, whatsapp, messenger, phone-call"),
        Setting::new(
            "cap.total",
            SettingKind::text(CAP_RULES),
            None,
            "Rules across all channels together.",
            "所有渠道合计的规则。",
            "cap.total = 5/week",
        ),
        Setting::new(
            "cap.total-week",
            SettingKind::integer(0, 1000),
            Some("6"),
            "Messages across all channels per 7 days.",
            "每 7 天所有渠道合计的消息数。",
            "cap.total-week = 6",
        ),
        Setting::new(
            "cap.total-day",
            SettingKind::integer(0, 1000),
            Some("2"),
            "Messages across all channels per 24 hours.",
            "每 24 小时所有渠道合计的消息数。",
            "cap.total-day = 2",
        ),
        Setting::new(
            "cap.tag.*",
            SettingKind::text(CAP_RULES),
            None,
            "Rules for messages with a tag (such as promotion).",
            "带某个标签（例如 promotion）的消息的规则。",
            "cap.tag.promotion = 2/week",
        )
        .part("a message tag"),
        Setting::new(
            "quiet-hours",
            SettingKind::text(WINDOW),
            Some("21:00-09:00"),
            "Hours of the customer's local night when nothing is sent.",
            "客户当地夜间不发送任何消息的时段。",
            "quiet-hours = 21:00-09:00",
        ),
        Setting::new(
            "quiet-hours.*",
            SettingKind::text(WINDOW),
            None,
            "Quiet hours for customers in one country. Unless set: the US and Canada 21:00-08:00, France 20:00-10:00.",
            "某个国家客户的免打扰时段。未设置时：美国和加拿大 21:00-08:00，法国 20:00-10:00。",
            "quiet-hours.US = 21:00-08:00",
        )
        .part("a two-letter country code in capitals"),
        Setting::new(
            "windows.*",
            SettingKind::text(WINDOWS),
            None,
            "The only local times a channel may be used (for one segment: windows.channel.segment). Unless set: calls 10:00-12:00, 16:00-18:00, 19:00-20:00.",
            "某个渠道唯一允许使用的当地时段（针对某个分组：windows.渠道.分组）。未设置时：电话 10:00-12:00、16:00-18:00、19:00-20:00。",
            "windows.phone-call = 10:00-12:00, 16:00-18:00",
        )
        .part("a channel, optionally followed by .segment"),
        hours(
            "min-gap-hours",
            "12",
            24 * 30,
            "Hours between two messages to the same customer.",
            "同一客户两条消息之间的间隔小时数。",
        ),
        hours(
            "ignored-gap-hours",
            "48",
            24 * 30,
            "Hours to wait after a message the customer did not open.",
            "客户未打开上一条消息后需要等待的小时数。",
        ),
        hours(
            "call-retry-hours",
            "4",
            24 * 30,
            "Hours before an unanswered call is tried again.",
            "未接通的电话再次拨打前等待的小时数。",
        ),
        hours(
            "journey-days",
            "7",
            365,
            "A campaign that contacted the customer this many days ago still runs: no second one starts.",
            "在这么多天内联系过客户的营销活动仍算进行中：不会开始第二个。",
        ),
        hours(
            "silent-after-days",
            "90",
            3650,
            "Days without any reaction after which a customer is only contacted when they do something.",
            "客户多少天没有任何互动后，只有在其有新动作时才联系。",
        ),
        hours(
            "max-defer-hours",
            "72",
            24 * 90,
            "The longest a message may wait for a good moment; beyond it, it is not sent.",
            "消息等待合适时机的最长小时数；超过则不发送。",
        ),
        Setting::new(
            "transactional-exempt",
            SettingKind::Flag,
            Some("true"),
            "Order and delivery messages skip every rule above.",
            "订单和物流消息不受以上任何规则限制。",
            "transactional-exempt = true",
        ),
    ]
}
