//! The messaging slots' rules: the fatigue policy's fallback (defer an
//! hour) and its deferrals' range, and the channel chooser's fallback (the
//! region's default channel, when consented) and its rankings' rules.

use serde_json::{Value, json};

use crate::platform::feature::SlotPolicy;
use crate::platform::slots::{Contract, Slot};

const HOUR_MS: i64 = 3_600_000;

/// The fatigue policy: a customer id and a message in the short form are
/// completed from the customer data ([`super::profile::input`]).
pub const FATIGUE: SlotPolicy = SlotPolicy {
    slot: Slot::Fatigue,
    fallback: |_, _, now, _| {
        json!({"defer": {
            "until": now + HOUR_MS,
            "reason": "the fatigue policy is unavailable; retry later",
        }})
    },
    check: check_fatigue,
    reads_input: false,
    input: Some(super::profile::input),
    memory: None,
    customer: Some(customer_of_request),
    units: Some("customers"),
    words: Some(&WORDS),
};

/// Messages in a merchant's words: what a candidate would have sent,
/// deferred or dropped; differences by the customer's country.
const WORDS: crate::platform::feature::AnswerWords = crate::platform::feature::AnswerWords {
    change: |from, to, n, share| {
        let verb = |kind: &str| match kind {
            "allow" => Some("sent"),
            "defer" => Some("deferred"),
            "drop" => Some("dropped"),
            _ => None,
        };
        let (would, today) = (verb(to)?, verb(from)?);
        let today = match today {
            "sent" => "sends",
            "deferred" => "defers",
            _ => "drops",
        };
        Some(format!(
            "would have {would} {n} messages ({share}) that today's policy {today}"
        ))
    },
    place: |input| {
        let customer = input.pointer("/request/customer")?;
        customer
            .get("country")
            .or_else(|| customer.get("region"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
    },
    // A chooser's ranking reads as its first channel.
    kind: |answer| {
        let first = answer.as_array()?.first();
        Some(
            first
                .and_then(|r| r.get("channel"))
                .and_then(Value::as_str)
                .map_or_else(|| "nothing".into(), |c| format!("{c} first")),
        )
    },
};

/// A deferral lies within 90 days after now.
fn check_fatigue(_: Contract, _: &Value, output: &Value, now: i64) -> Result<(), String> {
    if let Some(defer) = output.get("defer") {
        let until = defer["until"].as_i64().unwrap_or(i64::MIN);
        if until <= now || until > now + 90 * 24 * HOUR_MS {
            return Err(format!(
                "deferral until {until} is not within 90 days after now ({now})"
            ));
        }
    }
    Ok(())
}

/// The channel chooser.
pub const CHANNELS: SlotPolicy = SlotPolicy {
    slot: Slot::Channels,
    fallback: |_, input, _, _| region_default(&input["request"]),
    check: check_ranking,
    reads_input: true,
    input: None,
    memory: None,
    customer: Some(customer_of_request),
    units: Some("customers"),
    words: Some(&WORDS),
};

/// The region's default channel (SMS in the Middle East, e-mail
/// elsewhere) when the customer consented to it; else no channel.
fn region_default(req: &Value) -> Value {
    let region = req
        .pointer("/customer/region")
        .and_then(Value::as_str)
        .unwrap_or("other");
    let default = if region == "middle-east" {
        "sms"
    } else {
        "email"
    };
    if consented(req, &json!(default)) {
        json!([{"channel": default, "score": 1.0, "reason": "region default (fallback)"}])
    } else {
        json!([])
    }
}

fn consented(req: &Value, channel: &Value) -> bool {
    req["consents"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| &c["channel"] == channel && c["granted"] == true)
    })
}

/// Scores within 0..1, each channel once, only consented channels.
fn check_ranking(_: Contract, input: &Value, output: &Value, _: i64) -> Result<(), String> {
    let req = &input["request"];
    let mut seen = Vec::new();
    for r in output.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let ch = &r["channel"];
        let score = r["score"].as_f64().unwrap_or(f64::NAN);
        if !(0.0..=1.0).contains(&score) {
            return Err(format!("score {score} for {ch} is outside 0..1"));
        }
        if seen.contains(&ch) {
            return Err(format!("channel {ch} is ranked twice"));
        }
        if !consented(req, ch) {
            return Err(format!("channel {ch} has no consent"));
        }
        seen.push(ch);
    }
    Ok(())
}

/// The customer a fatigue or channel decision is about.
fn customer_of_request(input: &Value) -> Option<String> {
    input
        .pointer("/request/customer/id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::feature::answer_kind;
    use serde_json::json;

    #[test]
    fn answers_are_counted_by_kind_in_the_slots_words() {
        let ranked = json!([{"channel": "sms", "template-only": false}, {"channel": "email"}]);
        assert_eq!(answer_kind(Some(&WORDS), &ranked), "sms first");
        assert_eq!(answer_kind(Some(&WORDS), &json!([])), "nothing");
        // The platform alone knows variants and words, not rankings.
        assert_eq!(answer_kind(None, &ranked), "answer");
        let defer = json!({"defer": {"until": 1, "reason": "quiet hours"}});
        assert_eq!(answer_kind(Some(&WORDS), &defer), "defer");
        assert_eq!(answer_kind(None, &json!("allow")), "allow");
    }
}
