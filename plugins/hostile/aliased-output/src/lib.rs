//! Hostile test plugin: answers with 4,000 scores whose customer ids all
//! point at the same 64 KiB of guest memory. The answer fits easily in the
//! sandbox (one buffer plus small records), but copying it out would cost
//! the host 256 MiB: the host's copy budget must stop it first.
#![allow(unsafe_code)]

use cove_sdk::Ctx;
use cove_sdk::rfm::{CustomerActivity, Error, RfmScore, RfmScorer};

/// The hostile scorer.
pub struct Hostile;

impl RfmScorer for Hostile {
    fn score(
        _as_of: cove_sdk::TimestampMs,
        _customers: Vec<CustomerActivity>,
        _ctx: &Ctx,
    ) -> Result<Vec<RfmScore>, Error> {
        let buffer: &'static mut str = "x".repeat(64 << 10).leak();
        let (ptr, len) = (buffer.as_mut_ptr(), buffer.len());
        Ok((0..4_000)
            .map(|_| RfmScore {
                // SAFETY: never dropped in the guest: the answer is handed
                // to the host, which either copies it or (here) refuses it
                // and drops the whole sandbox.
                customer_id: unsafe { String::from_raw_parts(ptr, len, len) },
                recency: 1,
                frequency: 1,
                monetary: 1,
                segment: String::new(),
                segments: Vec::new(),
            })
            .collect())
    }
}

cove_sdk::export_rfm_scorer!(Hostile);
