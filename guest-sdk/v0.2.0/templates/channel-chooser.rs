//! A Cove channel chooser. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::channels::{ChannelChooser, ChooseRequest, Error, Ranked};
use cove_sdk::Ctx;

/// Ranks consented channels by click rate.
pub struct Chooser;

impl ChannelChooser for Chooser {
    fn choose(request: ChooseRequest, _ctx: &Ctx) -> Result<Vec<Ranked>, Error> {
        let mut ranked: Vec<Ranked> = request
            .consents
            .iter()
            .filter(|c| c.granted)
            .map(|c| {
                let stats = request.stats.iter().find(|s| s.channel == c.channel);
                let rate = stats.map_or(0.0, |s| f64::from(s.clicked) / f64::from(s.delivered.max(1)));
                Ranked { channel: c.channel, score: rate.clamp(0.0, 1.0), reason: "click rate".into(), template_only: false }
            })
            .collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(ranked)
    }
}

cove_sdk::export_channel_chooser!(Chooser);

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::channels::Consent;
    use cove_sdk::{Channel, Customer, MessageKind, Region};

    #[test]
    fn only_consented_channels() {
        let request = ChooseRequest {
            customer: Customer { id: "c1".into(), region: Region::MiddleEast, country: "AE".into(), utc_offset_minutes: 240, created_at: 0 },
            kind: MessageKind::Promotional,
            consents: vec![Consent { channel: Channel::Sms, granted: true }, Consent { channel: Channel::Email, granted: false }],
            stats: vec![],
            last_engaged_at: None,
            engagement: vec![],
            tags: vec![],
        };
        let ranked = Chooser::choose(request, &Ctx::for_test(0)).unwrap();
        assert_eq!(ranked.len(), 1);
        assert_eq!(ranked[0].channel, Channel::Sms);
    }
}
