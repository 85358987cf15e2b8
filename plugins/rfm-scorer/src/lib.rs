//! Cove's reference RFM scorer.

pub mod predict;

#[cfg(test)]
mod tests;
