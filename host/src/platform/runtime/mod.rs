//! The sandbox: one wasmtime [`Engine`] with a pooling allocator, a linker
//! that offers plugins only the `cove:policy/host` interface, and the
//! per-call limits (deadline, fuel, memory, output size, log budget).
//!
//! A call builds a fresh [`Store`] from a prepared [`InstancePre`], runs one
//! export and drops the store, so nothing survives between calls.

pub mod json;
mod limits;
mod stdio;
pub mod wit;

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker, Val};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

use limits::Limiter;
pub use limits::{BatchLimits, Limits};

use crate::platform::slots::{Contract, Slot};

/// Imports a Rust `wasm32-wasip2` guest always carries (std's startup and
/// panic paths), even when the plugin never uses them, and the seed std's
/// `HashMap` asks for. Writing to stdout and stderr is captured into the
/// call's log; the seed comes from the call's replayable randomness; every
/// other function of these interfaces is a stub that traps. Anything else outside `cove:policy` is
/// refused at publish.
pub const TOLERATED_IMPORTS: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/insecure-seed",
];

/// Imports the host really provides (in the plugin's own contract version).
pub const HOST_IMPORTS: &[&str] = &["cove:policy/host", "cove:policy/types"];

/// One line a plugin logged during a call.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct LogLine {
    /// `debug`, `info`, `warn` or `error`.
    pub level: &'static str,
    /// The text, cut to the per-line budget.
    pub message: String,
}

/// State of one call: what the host imports read and what limits record.
pub struct CallCtx {
    limiter: Limiter,
    config: Arc<[(String, String)]>,
    now: i64,
    rng: u64,
    logs: Vec<LogLine>,
    log_budget: usize,
    dropped_logs: u32,
    /// Partial lines printed to stdout and stderr.
    printing: [Vec<u8>; 2],
}

impl CallCtx {
    fn push_log(&mut self, level: &'static str, message: String) {
        let cost = message.len().max(1);
        if cost > self.log_budget {
            self.dropped_logs += 1;
            return;
        }
        self.log_budget -= cost;
        self.logs.push(LogLine { level, message });
    }

    /// Bytes written to stdout or stderr; each finished line is logged.
    fn print(&mut self, stderr: bool, bytes: &[u8]) {
        let i = usize::from(stderr);
        if self.printing[i].len() + bytes.len() > self.log_budget + 1 {
            self.dropped_logs += 1;
            return;
        }
        self.printing[i].extend_from_slice(bytes);
        while let Some(end) = self.printing[i].iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.printing[i].drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            self.push_log(if stderr { "warn" } else { "info" }, text);
        }
    }

    /// Log what was printed without a final newline, and say how many
    /// lines the budget cut.
    fn finish(mut self) -> Self {
        for (i, level) in [(0, "info"), (1, "warn")] {
            if !self.printing[i].is_empty() {
                let text =
                    String::from_utf8_lossy(&std::mem::take(&mut self.printing[i])).into_owned();
                self.push_log(level, text);
            }
        }
        if self.dropped_logs > 0 {
            let message = format!(
                "{} more log lines dropped: the per-call log budget is spent",
                self.dropped_logs
            );
            self.logs.push(LogLine {
                level: "warn",
                message,
            });
        }
        self
    }
}

impl CallCtx {
    pub(super) fn random_u64(&mut self) -> u64 {
        // splitmix64 over the per-call seed: replayable from the logged seed.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The host interface of one contract version, implemented once for
/// every version (the functions have not changed since 0.1.0).
macro_rules! host_impl {
    ($contract:ident) => {
        impl wit::$contract::imports::cove::policy::types::Host for CallCtx {}

        impl wit::$contract::imports::cove::policy::host::Host for CallCtx {
            fn log(
                &mut self,
                level: wit::$contract::imports::cove::policy::host::LogLevel,
                message: String,
            ) {
                use wit::$contract::imports::cove::policy::host::LogLevel;
                let level = match level {
                    LogLevel::Debug => "debug",
                    LogLevel::Info => "info",
                    LogLevel::Warn => "warn",
                    LogLevel::Error => "error",
                };
                self.push_log(level, message);
            }

            fn config(&mut self) -> Vec<(String, String)> {
                self.config.to_vec()
            }

            fn now(&mut self) -> i64 {
                self.now
            }

            fn random_u64(&mut self) -> u64 {
                CallCtx::random_u64(self)
            }
        }
    };
}

host_impl!(v0_1);
host_impl!(v0_2);
host_impl!(v0_3);

/// Why a call produced no usable answer. Plugin-returned errors are not
/// failures: they come back inside the `result` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The plugin trapped: a bug, a panic, a stack overflow.
    Trap,
    /// The wall-clock deadline passed.
    Deadline,
    /// The instruction budget (fuel) ran out.
    Fuel,
    /// The plugin tried to grow memory past its ceiling.
    Memory,
    /// The answer was larger than the output ceiling.
    OversizedOutput,
    /// The answer broke the slot's rules (out-of-range score, unknown arm…).
    InvalidOutput,
    /// The circuit breaker is open: the call was not made.
    Breaker,
    /// No plugin is bound to the slot.
    Unbound,
}

impl FailureKind {
    /// Stable name used in metrics and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Trap => "trap",
            FailureKind::Deadline => "deadline",
            FailureKind::Fuel => "fuel",
            FailureKind::Memory => "memory",
            FailureKind::OversizedOutput => "oversized-output",
            FailureKind::InvalidOutput => "invalid-output",
            FailureKind::Breaker => "breaker",
            FailureKind::Unbound => "unbound",
        }
    }
}

/// What one call used of its limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    /// Fuel (about one unit per wasm instruction).
    pub fuel: u64,
    /// The largest linear memory, in bytes.
    pub memory_bytes: u64,
}

/// A failed call: the kind, and detail for the operator's log.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub kind: FailureKind,
    /// Detail (trap message, limit hit).
    pub detail: String,
    /// What the plugin logged before failing.
    pub logs: Vec<LogLine>,
    /// What it used until then.
    pub usage: Usage,
}

/// A finished call.
#[derive(Debug)]
pub struct Output {
    /// The export's single result value (`result<T, error>`).
    pub value: Val,
    /// What the plugin logged (ending with a note if lines were dropped).
    pub logs: Vec<LogLine>,
    /// What it used.
    pub usage: Usage,
}

/// A component ready to be called for one slot.
pub struct Prepared {
    pre: InstancePre<CallCtx>,
    decide: ComponentExportIndex,
    validate: ComponentExportIndex,
    /// Parameter names and shapes of the slot's main export.
    pub params: Vec<(String, json::Shape)>,
    /// The slot's other functions (a bandit's `reweight`), by name.
    pub others: Vec<Function>,
    /// The contract version the component was built against.
    pub contract: Contract,
    /// Whether its calls are batch calls (see [`BatchLimits`]).
    pub batch: bool,
}

/// A function of the slot's interface besides the main one.
pub struct Function {
    /// Its WIT name.
    pub name: &'static str,
    index: ComponentExportIndex,
    /// Parameter names and shapes.
    pub params: Vec<(String, json::Shape)>,
}

/// The shared wasmtime engine and linker.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallCtx>,
    /// The limits every call runs under.
    pub limits: Limits,
}

impl Runtime {
    /// Build the engine with the pooling allocator and start the epoch
    /// ticker that enforces deadlines.
    pub fn new(limits: Limits) -> anyhow::Result<Arc<Runtime>> {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(limits.pool_instances)
            .total_core_instances(limits.pool_instances * 4)
            .total_memories(limits.pool_instances)
            .total_tables(limits.pool_instances * 2)
            .max_memory_size(limits.memory_bytes.max(limits.batch.memory_bytes))
            .max_component_instance_size(1 << 20)
            .max_core_instances_per_component(limits.core_instances)
            .max_tables_per_component(limits.tables)
            .max_memories_per_component(2)
            // Reset a used slot with memset rather than giving its pages back
            // to the kernel: a plugin call touches few pages, and re-faulting
            // them on every call costs more than the call itself.
            .linear_memory_keep_resident(limits.keep_resident_bytes)
            .table_keep_resident(64 << 10)
            // Where the kernel can tell which pages a call dirtied (Linux
            // 6.7+), reset only those.
            .pagemap_scan(wasmtime::Enabled::Auto);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(true)
            .memory_init_cow(true)
            .max_wasm_stack(limits.stack_bytes)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        // Every contract version's host interface, side by side: a plugin
        // links against the one it was built for.
        wit::v0_1::imports::HostImports::add_to_linker::<_, wasmtime::component::HasSelf<_>>(
            &mut linker,
            |ctx| ctx,
        )?;
        wit::v0_2::imports::HostImports::add_to_linker::<_, wasmtime::component::HasSelf<_>>(
            &mut linker,
            |ctx| ctx,
        )?;
        wit::v0_3::imports::HostImports::add_to_linker::<_, wasmtime::component::HasSelf<_>>(
            &mut linker,
            |ctx| ctx,
        )?;

        let weak = engine.weak();
        std::thread::Builder::new()
            .name("cove-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(Duration::from_millis(1));
                }
            })?;
        Ok(Arc::new(Runtime {
            engine,
            linker,
            limits,
        }))
    }

    /// The engine (for caching compiled artifacts).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compile a component (cranelift); the caller caches the result.
    pub fn compile(&self, wasm: &[u8]) -> wasmtime::Result<Component> {
        Component::new(&self.engine, wasm)
    }

    /// Link a compiled component for `slot` built against `contract`.
    /// Fails if the component does not export the slot's interface of that
    /// version with exactly the declared types.
    pub fn prepare(
        &self,
        component: &Component,
        slot: Slot,
        contract: Contract,
    ) -> Result<Prepared, String> {
        let mut linker = self.linker.clone();
        for (import, _) in component.component_type().imports(&self.engine) {
            stdio::define(&mut linker, import)
                .map_err(|e| format!("cannot link `{import}`: {e}"))?;
        }
        linker
            .define_unknown_imports_as_traps(component)
            .map_err(|e| format!("cannot link imports: {e}"))?;
        let pre = linker
            .instantiate_pre(component)
            .map_err(|e| format!("cannot link: {e}"))?;
        macro_rules! typecheck {
            ($v:ident) => {
                match slot {
                    Slot::Fatigue => wit::$v::fatigue::FatiguePolicyPre::new(pre.clone()).map(drop),
                    Slot::Rfm => wit::$v::rfm::RfmScorerPre::new(pre.clone()).map(drop),
                    Slot::Allocator => wit::$v::allocator::AllocatorPre::new(pre.clone()).map(drop),
                    Slot::Returns => wit::$v::returns::ReturnFlowPre::new(pre.clone()).map(drop),
                    Slot::Channels => {
                        wit::$v::channels::ChannelChooserPre::new(pre.clone()).map(drop)
                    }
                }
            };
        }
        let typecheck = match contract {
            Contract::V0_1 => typecheck!(v0_1),
            Contract::V0_2 => typecheck!(v0_2),
            Contract::V0_3 => typecheck!(v0_3),
        };
        typecheck.map_err(|e| {
            format!(
                "exports do not match world `{}` of cove:policy@{contract}: {e:#}",
                slot.world()
            )
        })?;
        let export = slot.export_name(contract);
        let interface = component
            .get_export_index(None, &export)
            .ok_or_else(|| format!("missing export `{export}`"))?;
        let lookup = |name: &str| {
            component
                .get_export(Some(&interface), name)
                .ok_or_else(|| format!("missing export `{export}#{name}`"))
        };
        let function = |name: &str| {
            let (item, index) = lookup(name)?;
            match item {
                wasmtime::component::types::ComponentItem::ComponentFunc(f) => Ok((
                    index,
                    f.params()
                        .map(|(n, t)| (n.to_string(), json::Shape::of(&t)))
                        .collect::<Vec<_>>(),
                )),
                _ => Err(format!("`{name}` is not a function")),
            }
        };
        let (decide, params) = function(slot.function(contract))?;
        let (_, validate) = lookup("validate-config")?;
        let others = slot
            .other_functions(contract)
            .iter()
            .map(|name| {
                function(name).map(|(index, params)| Function {
                    name,
                    index,
                    params,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Prepared {
            pre,
            decide,
            validate,
            params,
            others,
            contract,
            batch: slot == Slot::Rfm && contract != Contract::V0_1,
        })
    }

    /// Run the slot's main export with `params` in a fresh sandbox.
    pub fn call(
        &self,
        prepared: &Prepared,
        config: &Arc<[(String, String)]>,
        now: i64,
        seed: u64,
        params: &[Val],
    ) -> Result<Output, Failure> {
        self.run(prepared, prepared.decide, config, now, seed, params)
    }

    /// Run another function of the slot's interface (`function`, one of
    /// `prepared.others`) with `params` in a fresh sandbox.
    pub fn call_other(
        &self,
        prepared: &Prepared,
        function: &Function,
        config: &Arc<[(String, String)]>,
        now: i64,
        seed: u64,
        params: &[Val],
    ) -> Result<Output, Failure> {
        self.run(prepared, function.index, config, now, seed, params)
    }

    /// Run the plugin's `validate-config` export on `config`.
    pub fn validate_config(
        &self,
        prepared: &Prepared,
        config: &Arc<[(String, String)]>,
        now: i64,
    ) -> Result<Output, Failure> {
        let pairs = config
            .iter()
            .map(|(k, v)| Val::Tuple(vec![Val::String(k.clone()), Val::String(v.clone())]))
            .collect();
        self.run(
            prepared,
            prepared.validate,
            config,
            now,
            0,
            &[Val::List(pairs)],
        )
    }

    fn run(
        &self,
        prepared: &Prepared,
        export: ComponentExportIndex,
        config: &Arc<[(String, String)]>,
        now: i64,
        seed: u64,
        params: &[Val],
    ) -> Result<Output, Failure> {
        let batch = prepared.batch.then(|| {
            let items = params
                .iter()
                .map(|p| match p {
                    Val::List(l) => l.len(),
                    _ => 0,
                })
                .max()
                .unwrap_or(0);
            self.limits.for_batch(items)
        });
        let limits = batch.as_ref().unwrap_or(&self.limits);
        let ctx = CallCtx {
            limiter: Limiter::new(limits),
            config: config.clone(),
            now,
            rng: seed,
            logs: Vec::new(),
            log_budget: limits.log_bytes,
            dropped_logs: 0,
            printing: [Vec::new(), Vec::new()],
        };
        let mut store = Store::new(&self.engine, ctx);
        store.limiter(|ctx| &mut ctx.limiter);
        store.set_epoch_deadline(limits.deadline_ms);
        // Bound what the host copies out of the sandbox: lifting an answer
        // costs about one `Val` per value plus the bytes of its strings,
        // so this stops an answer whose records alias one buffer long
        // before the host has allocated more than a few MiB for it.
        store.set_hostcall_fuel(limits.copy_budget());
        let used = |store: &Store<CallCtx>| Usage {
            fuel: limits
                .fuel
                .saturating_sub(store.get_fuel().unwrap_or(limits.fuel)),
            memory_bytes: store.data().limiter.peak_memory as u64,
        };
        let fail = |store: Store<CallCtx>, kind, detail: String| {
            let usage = used(&store);
            let ctx = store.into_data().finish();
            Failure {
                kind: if ctx.limiter.memory_hit {
                    FailureKind::Memory
                } else {
                    kind
                },
                detail,
                logs: ctx.logs,
                usage,
            }
        };
        if let Err(e) = store.set_fuel(limits.fuel) {
            return Err(fail(store, FailureKind::Trap, e.to_string()));
        }
        let instance = match prepared.pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(e) => {
                let (kind, detail) = classify(&e);
                return Err(fail(store, kind, detail));
            }
        };
        let Some(func) = instance.get_func(&mut store, export) else {
            return Err(fail(store, FailureKind::Trap, "export vanished".into()));
        };
        let mut results = [Val::Bool(false)];
        if let Err(e) = func.call(&mut store, params, &mut results) {
            let (kind, detail) = classify(&e);
            return Err(fail(store, kind, detail));
        }
        let [value] = results;
        let size = json::val_size(&value);
        if size > limits.output_bytes {
            return Err(fail(
                store,
                FailureKind::OversizedOutput,
                format!("answer is {size} bytes, ceiling is {}", limits.output_bytes),
            ));
        }
        let usage = used(&store);
        let ctx = store.into_data().finish();
        Ok(Output {
            value,
            logs: ctx.logs,
            usage,
        })
    }
}

fn classify(error: &wasmtime::Error) -> (FailureKind, String) {
    let trap = error.downcast_ref::<Trap>();
    let kind = match trap {
        Some(Trap::Interrupt) => FailureKind::Deadline,
        Some(Trap::OutOfFuel) => FailureKind::Fuel,
        // wasmtime's copy budget (hostcall fuel) ran out: the answer, or
        // what the plugin passed to a host call, was too large to copy.
        None if error
            .chain()
            .any(|e| e.to_string().contains("fuel allocated for hostcalls")) =>
        {
            return (
                FailureKind::OversizedOutput,
                "the answer is larger than the host copies out of the sandbox".into(),
            );
        }
        _ => FailureKind::Trap,
    };
    // The trap itself (or the outermost message); the wasm backtrace is
    // noise in an operator's log line.
    let detail = match trap {
        Some(t) => t.to_string(),
        None => error.root_cause().to_string(),
    };
    (kind, detail)
}
