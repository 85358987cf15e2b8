//! A Cove fatigue policy. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::fatigue::{Decision, DropReason, Error, FatiguePolicy, MessageRequest};
use cove_sdk::Ctx;

/// Drops messages on suppressed channels, allows the rest.
pub struct Policy;

impl FatiguePolicy for Policy {
    fn decide(request: MessageRequest, _ctx: &Ctx) -> Result<Decision, Error> {
        if request.suppressed.contains(&request.channel) {
            return Ok(Decision::Drop(DropReason::Suppressed));
        }
        Ok(Decision::Allow)
    }
}

cove_sdk::export_fatigue_policy!(Policy);

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::{Channel, Customer, MessageKind, Region};

    #[test]
    fn suppressed_channel_is_dropped() {
        let request = MessageRequest {
            customer: Customer { id: "c1".into(), region: Region::Europe, country: "FR".into(), utc_offset_minutes: 60, created_at: 0 },
            channel: Channel::Email,
            kind: MessageKind::Promotional,
            campaign_id: String::new(),
            tags: vec![],
            history: vec![],
            active_campaigns: vec![],
            suppressed: vec![Channel::Email],
            last_engaged_at: None,
            has_trigger_signal: false,
            time_zone: "Europe/Paris".into(),
            offsets: vec![],
            segments: vec![],
        };
        let decision = Policy::decide(request, &Ctx::for_test(0)).unwrap();
        assert_eq!(decision, Decision::Drop(DropReason::Suppressed));
    }
}
