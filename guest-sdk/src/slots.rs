//! One module per policy slot: the slot's types, its trait, and (at the
//! crate root) its export macro.

use crate::{Config, Ctx};

type ConfigPairs = Vec<(String, String)>;

/// Fatigue policy: may this customer be contacted on this channel now?
pub mod fatigue {
    use super::*;
    pub use crate::generated::fatigue::exports::cove::policy::fatigue::{
        Contact, Decision, Deferral, DropReason, Error, MessageRequest,
    };

    /// Implement this and export it with [`export_fatigue_policy!`](crate::export_fatigue_policy).
    pub trait FatiguePolicy {
        /// Check the merchant's configuration before a binding is accepted.
        fn validate_config(_config: &Config) -> Result<(), Error> {
            Ok(())
        }
        /// Decide one contact: allow, defer until a time, or drop with a reason.
        fn decide(request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error>;
    }

    #[doc(hidden)]
    pub fn __validate<P: FatiguePolicy>(config: ConfigPairs) -> Result<(), Error> {
        crate::__enter();
        P::validate_config(&Config::from_pairs(config))
    }
}

/// RFM scorer: recency, frequency and monetary scores and segments.
pub mod rfm {
    use super::*;
    pub use crate::generated::rfm::exports::cove::policy::rfm::{
        CustomerActivity, Error, RfmScore,
    };

    /// Implement this and export it with [`export_rfm_scorer!`](crate::export_rfm_scorer).
    pub trait RfmScorer {
        /// Check the merchant's configuration before a binding is accepted.
        fn validate_config(_config: &Config) -> Result<(), Error> {
            Ok(())
        }
        /// Score a batch of customers; one score per input, same order.
        fn score(
            as_of: crate::TimestampMs,
            customers: Vec<CustomerActivity>,
            ctx: &Ctx,
        ) -> Result<Vec<RfmScore>, Error>;
    }

    #[doc(hidden)]
    pub fn __validate<P: RfmScorer>(config: ConfigPairs) -> Result<(), Error> {
        crate::__enter();
        P::validate_config(&Config::from_pairs(config))
    }
}

/// A/B and multivariate allocator.
pub mod allocator {
    use super::*;
    pub use crate::generated::allocator::exports::cove::policy::allocation::{
        AllocationMode, Arm, Assignment, Error, Experiment,
    };

    /// Implement this and export it with [`export_allocator!`](crate::export_allocator).
    pub trait Allocator {
        /// Check the merchant's configuration before a binding is accepted.
        fn validate_config(_config: &Config) -> Result<(), Error> {
            Ok(())
        }
        /// Put one unit into an arm of the experiment.
        fn allocate(
            experiment: Experiment,
            unit_id: String,
            ctx: &Ctx,
        ) -> Result<Assignment, Error>;
    }

    #[doc(hidden)]
    pub fn __validate<P: Allocator>(config: ConfigPairs) -> Result<(), Error> {
        crate::__enter();
        P::validate_config(&Config::from_pairs(config))
    }
}

/// Return-refund flow.
pub mod returns {
    use super::*;
    pub use crate::generated::returns::exports::cove::policy::returns::{
        Approval, Error, Handover, MembershipTier, Outcome, Queue, ReturnRequest, SalesPlatform,
        Sentiment,
    };

    /// Implement this and export it with [`export_return_flow!`](crate::export_return_flow).
    pub trait ReturnFlow {
        /// Check the merchant's configuration before a binding is accepted.
        fn validate_config(_config: &Config) -> Result<(), Error> {
            Ok(())
        }
        /// Settle a return request or hand it to a human with the reason.
        fn evaluate(request: ReturnRequest, ctx: &Ctx) -> Result<Outcome, Error>;
    }

    #[doc(hidden)]
    pub fn __validate<P: ReturnFlow>(config: ConfigPairs) -> Result<(), Error> {
        crate::__enter();
        P::validate_config(&Config::from_pairs(config))
    }
}

/// Per-region channel chooser.
pub mod channels {
    use super::*;
    pub use crate::generated::channels::exports::cove::policy::channels::{
        ChannelStats, ChooseRequest, Consent, Error, Ranked,
    };

    /// Implement this and export it with [`export_channel_chooser!`](crate::export_channel_chooser).
    pub trait ChannelChooser {
        /// Check the merchant's configuration before a binding is accepted.
        fn validate_config(_config: &Config) -> Result<(), Error> {
            Ok(())
        }
        /// Rank the channels that may be used, best first.
        fn choose(request: ChooseRequest, ctx: &Ctx) -> Result<Vec<Ranked>, Error>;
    }

    #[doc(hidden)]
    pub fn __validate<P: ChannelChooser>(config: ConfigPairs) -> Result<(), Error> {
        crate::__enter();
        P::validate_config(&Config::from_pairs(config))
    }
}

/// Export a [`fatigue::FatiguePolicy`] implementation as the plugin's policy.
#[macro_export]
macro_rules! export_fatigue_policy {
    ($plugin:ty) => {
        // Native builds (unit tests) call the impl directly; component
        // export names are only valid inside a wasm module.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct CoveExport;
            impl $crate::generated::fatigue::exports::cove::policy::fatigue::Guest for CoveExport {
                fn validate_config(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<(), $crate::fatigue::Error> {
                    $crate::fatigue::__validate::<$plugin>(config)
                }
                fn decide(
                    request: $crate::fatigue::MessageRequest,
                ) -> ::std::result::Result<$crate::fatigue::Decision, $crate::fatigue::Error> {
                    $crate::__enter();
                    <$plugin as $crate::fatigue::FatiguePolicy>::decide(request, &$crate::Ctx::from_host())
                }
            }
            $crate::generated::fatigue::__export_fatigue!(CoveExport with_types_in $crate::generated::fatigue);
        };
    };
}

/// Export an [`rfm::RfmScorer`] implementation as the plugin's policy.
#[macro_export]
macro_rules! export_rfm_scorer {
    ($plugin:ty) => {
        // Native builds (unit tests) call the impl directly; component
        // export names are only valid inside a wasm module.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct CoveExport;
            impl $crate::generated::rfm::exports::cove::policy::rfm::Guest for CoveExport {
                fn validate_config(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<(), $crate::rfm::Error> {
                    $crate::rfm::__validate::<$plugin>(config)
                }
                fn score(
                    as_of: $crate::TimestampMs,
                    customers: ::std::vec::Vec<$crate::rfm::CustomerActivity>,
                ) -> ::std::result::Result<::std::vec::Vec<$crate::rfm::RfmScore>, $crate::rfm::Error> {
                    $crate::__enter();
                    <$plugin as $crate::rfm::RfmScorer>::score(as_of, customers, &$crate::Ctx::from_host())
                }
            }
            $crate::generated::rfm::__export_rfm!(CoveExport with_types_in $crate::generated::rfm);
        };
    };
}

/// Export an [`allocator::Allocator`] implementation as the plugin's policy.
#[macro_export]
macro_rules! export_allocator {
    ($plugin:ty) => {
        // Native builds (unit tests) call the impl directly; component
        // export names are only valid inside a wasm module.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct CoveExport;
            impl $crate::generated::allocator::exports::cove::policy::allocation::Guest for CoveExport {
                fn validate_config(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<(), $crate::allocator::Error> {
                    $crate::allocator::__validate::<$plugin>(config)
                }
                fn allocate(
                    experiment: $crate::allocator::Experiment,
                    unit_id: ::std::string::String,
                ) -> ::std::result::Result<$crate::allocator::Assignment, $crate::allocator::Error> {
                    $crate::__enter();
                    <$plugin as $crate::allocator::Allocator>::allocate(experiment, unit_id, &$crate::Ctx::from_host())
                }
            }
            $crate::generated::allocator::__export_allocator!(CoveExport with_types_in $crate::generated::allocator);
        };
    };
}

/// Export a [`returns::ReturnFlow`] implementation as the plugin's policy.
#[macro_export]
macro_rules! export_return_flow {
    ($plugin:ty) => {
        // Native builds (unit tests) call the impl directly; component
        // export names are only valid inside a wasm module.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct CoveExport;
            impl $crate::generated::returns::exports::cove::policy::returns::Guest for CoveExport {
                fn validate_config(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<(), $crate::returns::Error> {
                    $crate::returns::__validate::<$plugin>(config)
                }
                fn evaluate(
                    request: $crate::returns::ReturnRequest,
                ) -> ::std::result::Result<$crate::returns::Outcome, $crate::returns::Error> {
                    $crate::__enter();
                    <$plugin as $crate::returns::ReturnFlow>::evaluate(request, &$crate::Ctx::from_host())
                }
            }
            $crate::generated::returns::__export_returns!(CoveExport with_types_in $crate::generated::returns);
        };
    };
}

/// Export a [`channels::ChannelChooser`] implementation as the plugin's policy.
#[macro_export]
macro_rules! export_channel_chooser {
    ($plugin:ty) => {
        // Native builds (unit tests) call the impl directly; component
        // export names are only valid inside a wasm module.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct CoveExport;
            impl $crate::generated::channels::exports::cove::policy::channels::Guest for CoveExport {
                fn validate_config(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<(), $crate::channels::Error> {
                    $crate::channels::__validate::<$plugin>(config)
                }
                fn choose(
                    request: $crate::channels::ChooseRequest,
                ) -> ::std::result::Result<::std::vec::Vec<$crate::channels::Ranked>, $crate::channels::Error> {
                    $crate::__enter();
                    <$plugin as $crate::channels::ChannelChooser>::choose(request, &$crate::Ctx::from_host())
                }
            }
            $crate::generated::channels::__export_channels!(CoveExport with_types_in $crate::generated::channels);
        };
    };
}
