//! The five policy slots and the contract versions served: each slot's
//! WIT world, interface and functions. What a slot's answers must be, and
//! its safe fallback, belong to the feature that serves it
//! ([`super::feature::SlotPolicy`]).
/// A policy slot; each is one WIT world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// `rfm-scorer`
    Rfm,
    /// `allocator`
    Allocator,
    /// `fatigue-policy`
    Fatigue,
    /// `return-flow`
    Returns,
    /// `channel-chooser`
    Channels,
}

/// A version of the WIT contract (`cove:policy@X.Y.Z`) the host serves.
/// Plugins built against any of them run side by side, in the same slots;
/// the SDK builds against [`Contract::NEWEST`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Contract {
    /// `cove:policy@0.1.0`, frozen in `wit/v0.1.0`.
    V0_1,
    /// `cove:policy@0.2.0`, frozen in `wit/v0.2.0`.
    V0_2,
    /// `cove:policy@0.3.0`, the newest (`wit/`).
    V0_3,
}

impl Contract {
    /// Every contract version served, oldest first.
    pub const ALL: [Contract; 3] = [Contract::V0_1, Contract::V0_2, Contract::V0_3];
    /// The version new plugins are built against.
    pub const NEWEST: Contract = Contract::V0_3;

    /// The package version, `0.3.0`.
    pub fn version(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
            Contract::V0_3 => "0.3.0",
        }
    }

    /// Whether plugins of this contract describe their settings
    /// (`settings`, since 0.3.0).
    pub fn describes_settings(self) -> bool {
        self >= Contract::V0_3
    }

    /// The contract of package version `version`, if served.
    pub fn parse(version: &str) -> Option<Contract> {
        Contract::ALL.into_iter().find(|c| c.version() == version)
    }

    /// The versions served, for messages: `0.1.0, 0.2.0`.
    pub fn served() -> String {
        Contract::ALL.map(Contract::version).join(", ")
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.version())
    }
}

impl Slot {
    /// Every slot.
    pub const ALL: [Slot; 5] = [
        Slot::Rfm,
        Slot::Allocator,
        Slot::Fatigue,
        Slot::Returns,
        Slot::Channels,
    ];

    /// The world name, which is also the slot's name in the API.
    pub fn world(self) -> &'static str {
        match self {
            Slot::Rfm => "rfm-scorer",
            Slot::Allocator => "allocator",
            Slot::Fatigue => "fatigue-policy",
            Slot::Returns => "return-flow",
            Slot::Channels => "channel-chooser",
        }
    }

    /// The slot named `name` (its world name).
    pub fn from_world(name: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|s| s.world() == name)
    }

    /// The exported interface's name without its version
    /// (`cove:policy/fatigue`).
    pub fn interface(self) -> &'static str {
        match self {
            Slot::Rfm => "cove:policy/rfm",
            Slot::Allocator => "cove:policy/allocation",
            Slot::Fatigue => "cove:policy/fatigue",
            Slot::Returns => "cove:policy/returns",
            Slot::Channels => "cove:policy/channels",
        }
    }

    /// The exported interface as it appears in a component built against
    /// `contract` (`cove:policy/fatigue@0.2.0`).
    pub fn export_name(self, contract: Contract) -> String {
        format!("{}@{}", self.interface(), contract.version())
    }

    /// The main function of the interface in `contract`.
    pub fn function(self, contract: Contract) -> &'static str {
        match self {
            Slot::Rfm => "score",
            Slot::Allocator => "allocate",
            Slot::Fatigue => "decide",
            Slot::Returns if contract == Contract::V0_1 => "evaluate",
            Slot::Returns => "next",
            Slot::Channels => "choose",
        }
    }

    /// The interface's functions besides [`Slot::function`] and
    /// `validate-config`, which features call on their own schedule.
    pub fn other_functions(self, contract: Contract) -> &'static [&'static str] {
        match (self, contract) {
            (_, Contract::V0_1) => &[],
            (Slot::Allocator, Contract::V0_2) => &["reweight"],
            (Slot::Rfm, Contract::V0_2) => &["fit"],
            (_, Contract::V0_2) => &[],
            (Slot::Allocator, Contract::V0_3) => &["reweight", "settings"],
            (Slot::Rfm, Contract::V0_3) => &["fit", "settings"],
            (Slot::Fatigue, Contract::V0_3) => &["decide-batch", "settings"],
            (Slot::Channels, Contract::V0_3) => &["choose-batch", "settings"],
            (Slot::Returns, Contract::V0_3) => &["settings"],
        }
    }
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.world())
    }
}
