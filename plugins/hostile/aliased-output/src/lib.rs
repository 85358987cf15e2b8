//! Hostile test plugin: answers with 4,000 scores whose customer ids all
//! point at the same 64 KiB of guest memory. The answer fits easily in the
//! sandbox (one buffer plus small records), but copying it out would cost
//! the host 256 MiB: the host's copy budget must stop it first.
#![allow(unsafe_code)]

use cove_sdk::Ctx;
use cove_sdk::rfm::{CustomerScore, CustomerSummary, Error, Model, RfmScorer};

/// The hostile scorer.
pub struct Hostile;

impl RfmScorer for Hostile {
    fn fit(_sample: Vec<CustomerSummary>, unit_days: f64, _ctx: &Ctx) -> Result<Model, Error> {
        Ok(Model {
            recency_cuts: vec![],
            frequency_cuts: vec![],
            monetary_cuts: vec![],
            bgnbd: None,
            gamma_gamma: None,
            unit_days,
            clv_percentiles: vec![],
            spent_percentiles: vec![],
            purchases_percentiles: vec![],
        })
    }

    fn score(
        _model: Model,
        _customers: Vec<CustomerSummary>,
        _ctx: &Ctx,
    ) -> Result<Vec<CustomerScore>, Error> {
        let buffer: &'static mut str = "x".repeat(64 << 10).leak();
        let (ptr, len) = (buffer.as_mut_ptr(), buffer.len());
        Ok((0..4_000)
            .map(|_| CustomerScore {
                // SAFETY: never dropped in the guest: the answer is handed
                // to the host, which either copies it or (here) refuses it
                // and drops the whole sandbox.
                customer_id: unsafe { String::from_raw_parts(ptr, len, len) },
                recency: 1,
                frequency: 1,
                monetary: 1,
                segment: String::new(),
                tier: String::new(),
                micro_segments: Vec::new(),
                p_active: 0.0,
                expected_purchases: 0.0,
                expected_value: 0.0,
                clv: 0.0,
            })
            .collect())
    }
}

cove_sdk::export_rfm_scorer!(Hostile);
