//! One module per policy slot: the slot's types, its trait, and (at the
//! crate root) its export macro.

use crate::{Config, Ctx, Setting};

type ConfigPairs = Vec<(String, String)>;

/// Fatigue policy: may this customer be contacted on this channel now?
pub mod fatigue {
    use super::*;
    pub use crate::OffsetSpan;
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
        /// Decide many contacts at once; by default each as [`decide`](Self::decide).
        fn decide_batch(requests: Vec<MessageRequest>, ctx: &Ctx) -> Vec<Result<Decision, Error>> {
            requests.into_iter().map(|r| Self::decide(r, ctx)).collect()
        }
        /// Every setting the policy reads, described for the merchant's
        /// form (none by default: the merchant gets a plain text box).
        fn settings() -> Vec<Setting> {
            Vec::new()
        }
    }

    #[doc(hidden)]
    pub fn __validate<P: FatiguePolicy>(config: ConfigPairs) -> Result<(), Error> {
        crate::__enter();
        P::validate_config(&Config::from_pairs(config))
    }
}

/// RFM scorer: a model fitted on a sample, then batches scored against it.
pub mod rfm {
    use super::*;
    pub use crate::generated::rfm::exports::cove::policy::rfm::{
        Bgnbd, CustomerScore, CustomerSummary, Error, GammaGamma, Model,
    };

    /// Implement this and export it with [`export_rfm_scorer!`](crate::export_rfm_scorer).
    pub trait RfmScorer {
        /// Check the merchant's configuration before a binding is accepted.
        fn validate_config(_config: &Config) -> Result<(), Error> {
            Ok(())
        }
        /// Learn a model (cut points, fitted parameters) from a sample of
        /// the base; times in the summaries are in units of `unit_days`.
        fn fit(sample: Vec<CustomerSummary>, unit_days: f64, ctx: &Ctx) -> Result<Model, Error>;
        /// Score a batch against the model; one score per summary, same order.
        fn score(
            model: Model,
            customers: Vec<CustomerSummary>,
            ctx: &Ctx,
        ) -> Result<Vec<CustomerScore>, Error>;
        /// Every setting the policy reads, described for the merchant's
        /// form (none by default: the merchant gets a plain text box).
        fn settings() -> Vec<Setting> {
            Vec::new()
        }
    }

    #[doc(hidden)]
    pub fn __validate<P: RfmScorer>(config: ConfigPairs) -> Result<(), Error> {
        crate::__enter();
        P::validate_config(&Config::from_pairs(config))
    }
}

/// A/B and multivariate allocator, GrowthBook-compatible.
pub mod allocator {
    use super::*;
    pub use crate::generated::allocator::exports::cove::policy::allocation::{
        ArmStats, Assignment, BanditSettings, Error, Experiment, Namespace, Reason,
    };

    /// Implement this and export it with [`export_allocator!`](crate::export_allocator).
    pub trait Allocator {
        /// Check the merchant's configuration before a binding is accepted.
        fn validate_config(_config: &Config) -> Result<(), Error> {
            Ok(())
        }
        /// Place one unit: in or out of the experiment, and which variation.
        /// `attributes` is a JSON object; `sticky` the unit's earlier
        /// variation, if the host stored one.
        fn allocate(
            experiment: Experiment,
            attributes: String,
            sticky: Option<u32>,
            ctx: &Ctx,
        ) -> Result<Assignment, Error>;
        /// A bandit's next weights, one per arm, adding up to 1. By
        /// default an equal split (a plugin without bandits).
        fn reweight(
            arms: Vec<ArmStats>,
            _settings: BanditSettings,
            _ctx: &Ctx,
        ) -> Result<Vec<f64>, Error> {
            let n = arms.len().max(1) as f64;
            Ok(arms.iter().map(|_| 1.0 / n).collect())
        }
        /// Every setting the policy reads, described for the merchant's
        /// form (none by default: the merchant gets a plain text box).
        fn settings() -> Vec<Setting> {
            Vec::new()
        }
    }

    #[doc(hidden)]
    pub fn __validate<P: Allocator>(config: ConfigPairs) -> Result<(), Error> {
        crate::__enter();
        P::validate_config(&Config::from_pairs(config))
    }
}

/// Return-refund flow: a step machine the host drives, one form at a time.
pub mod returns {
    use super::*;
    pub use crate::generated::returns::exports::cove::policy::returns::{
        Answer, Approval, Choice, CustomerFacts, DateBounds, Error, Field, FieldKind, Form,
        Handoff, Handover, Localized, NumberBounds, OrderFacts, OrderLine, Outcome, Queue,
        RefundLine, ReturnMethod, Session, Step,
    };

    /// Implement this and export it with [`export_return_flow!`](crate::export_return_flow).
    pub trait ReturnFlow {
        /// Check the merchant's configuration before a binding is accepted.
        fn validate_config(_config: &Config) -> Result<(), Error> {
            Ok(())
        }
        /// The next step of a session: a form to show, or the outcome.
        fn next(session: Session, ctx: &Ctx) -> Result<Step, Error>;
        /// Every setting the policy reads, described for the merchant's
        /// form (none by default: the merchant gets a plain text box).
        fn settings() -> Vec<Setting> {
            Vec::new()
        }
    }

    impl Session {
        /// The answer to field `name`, if given.
        pub fn answer(&self, name: &str) -> Option<&str> {
            self.answers
                .iter()
                .rev()
                .find(|a| a.field == name)
                .map(|a| a.value.as_str())
        }
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
        /// Rank for many customers at once; by default each as [`choose`](Self::choose).
        fn choose_batch(
            requests: Vec<ChooseRequest>,
            ctx: &Ctx,
        ) -> Vec<Result<Vec<Ranked>, Error>> {
            requests.into_iter().map(|r| Self::choose(r, ctx)).collect()
        }
        /// Every setting the policy reads, described for the merchant's
        /// form (none by default: the merchant gets a plain text box).
        fn settings() -> Vec<Setting> {
            Vec::new()
        }
    }

    #[doc(hidden)]
    pub fn __validate<P: ChannelChooser>(config: ConfigPairs) -> Result<(), Error> {
        crate::__enter();
        P::validate_config(&Config::from_pairs(config))
    }
}

/// The export glue shared by the five `export_*!` macros: implement the
/// generated `Guest` trait by calling the plugin's trait impl, then export it.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_slot {
    ($plugin:ty, $module:ident, $interface:ident, $trait:ident, $export:ident,
     $(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty);+
     $(; batch fn $bname:ident($barg:ident: $bty:ty) -> $bret:ty)?) => {
        // Native builds (unit tests) call the impl directly; component
        // export names are only valid inside a wasm module.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct CoveExport;
            impl $crate::generated::$module::exports::cove::policy::$interface::Guest for CoveExport {
                fn validate_config(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<(), $crate::$module::Error> {
                    $crate::$module::__validate::<$plugin>(config)
                }
                $(fn $name($($arg: $ty),*) -> ::std::result::Result<$ret, $crate::$module::Error> {
                    $crate::__enter();
                    <$plugin as $crate::$module::$trait>::$name($($arg,)* &$crate::Ctx::from_host())
                })+
                $(fn $bname($barg: $bty) -> $bret {
                    $crate::__enter();
                    <$plugin as $crate::$module::$trait>::$bname($barg, &$crate::Ctx::from_host())
                })?
                fn settings() -> ::std::vec::Vec<$crate::Setting> {
                    $crate::__enter();
                    <$plugin as $crate::$module::$trait>::settings()
                }
            }
            $crate::generated::$module::$export!(CoveExport with_types_in $crate::generated::$module);
        };
        /// Logged decisions replayed through this crate natively (`cove
        /// plugin replay --native`).
        #[cfg(all(test, not(target_arch = "wasm32")))]
        #[test]
        #[ignore = "replays logged decisions: run by `cove plugin replay --native`"]
        fn cove_replay() {
            $crate::replay::run(|function, args, ctx| {
                $(if function == stringify!($name) {
                    return Ok($crate::replay::answer(
                        &<$plugin as $crate::$module::$trait>::$name(
                            $($crate::replay::arg(args, stringify!($arg))?,)* ctx),
                    ));
                })+
                $crate::replay::unknown(function)
            });
        }
    };
}

/// Export a [`fatigue::FatiguePolicy`] implementation as the plugin's policy.
#[macro_export]
macro_rules! export_fatigue_policy {
    ($plugin:ty) => {
        $crate::__export_slot!($plugin, fatigue, fatigue, FatiguePolicy, __export_fatigue,
            fn decide(request: $crate::fatigue::MessageRequest) -> $crate::fatigue::Decision;
            batch fn decide_batch(requests: ::std::vec::Vec<$crate::fatigue::MessageRequest>)
                -> ::std::vec::Vec<::std::result::Result<$crate::fatigue::Decision, $crate::fatigue::Error>>);
    };
}

/// Export an [`rfm::RfmScorer`] implementation as the plugin's policy.
#[macro_export]
macro_rules! export_rfm_scorer {
    ($plugin:ty) => {
        $crate::__export_slot!($plugin, rfm, rfm, RfmScorer, __export_rfm,
            fn score(model: $crate::rfm::Model, customers: ::std::vec::Vec<$crate::rfm::CustomerSummary>)
                -> ::std::vec::Vec<$crate::rfm::CustomerScore>;
            fn fit(sample: ::std::vec::Vec<$crate::rfm::CustomerSummary>, unit_days: f64) -> $crate::rfm::Model);
    };
}

/// Export an [`allocator::Allocator`] implementation as the plugin's policy.
#[macro_export]
macro_rules! export_allocator {
    ($plugin:ty) => {
        $crate::__export_slot!($plugin, allocator, allocation, Allocator, __export_allocator,
            fn allocate(experiment: $crate::allocator::Experiment, attributes: ::std::string::String,
                sticky: ::std::option::Option<u32>) -> $crate::allocator::Assignment;
            fn reweight(arms: ::std::vec::Vec<$crate::allocator::ArmStats>, settings: $crate::allocator::BanditSettings)
                -> ::std::vec::Vec<f64>);
    };
}

/// Export a [`returns::ReturnFlow`] implementation as the plugin's policy.
#[macro_export]
macro_rules! export_return_flow {
    ($plugin:ty) => {
        $crate::__export_slot!($plugin, returns, returns, ReturnFlow, __export_returns,
            fn next(session: $crate::returns::Session) -> $crate::returns::Step);
    };
}

/// Export a [`channels::ChannelChooser`] implementation as the plugin's policy.
#[macro_export]
macro_rules! export_channel_chooser {
    ($plugin:ty) => {
        $crate::__export_slot!($plugin, channels, channels, ChannelChooser, __export_channels,
            fn choose(request: $crate::channels::ChooseRequest) -> ::std::vec::Vec<$crate::channels::Ranked>;
            batch fn choose_batch(requests: ::std::vec::Vec<$crate::channels::ChooseRequest>)
                -> ::std::vec::Vec<::std::result::Result<::std::vec::Vec<$crate::channels::Ranked>, $crate::channels::Error>>);
    };
}
