//! Per-call and per-plugin limits, and the resource limiter that enforces
//! the memory and table ceilings inside a store.

use wasmtime::ResourceLimiter;

/// Every limit a plugin runs under. Defaults follow Shopify Functions:
/// 256 KiB component, 10 MiB memory, ~11M instructions, 5 ms.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Limits {
    /// Largest component accepted at publish, in bytes.
    pub component_bytes: usize,
    /// How long compiling an upload may take, in milliseconds.
    pub compile_ms: u64,
    /// Linear-memory ceiling per instance, in bytes.
    pub memory_bytes: usize,
    /// Table-element ceiling per table.
    pub table_elements: usize,
    /// Fuel (≈ wasm instructions) per call.
    pub fuel: u64,
    /// Wall-clock deadline per call, in milliseconds (epoch ticks).
    pub deadline_ms: u64,
    /// Largest answer accepted, in bytes of its JSON form (approximately).
    pub output_bytes: usize,
    /// Bytes of log text a plugin may write per call.
    pub log_bytes: usize,
    /// Wasm stack per call, in bytes.
    pub stack_bytes: usize,
    /// Concurrent instances the pool holds (the most calls in flight).
    pub pool_instances: u32,
    /// Core instances per component.
    pub core_instances: u32,
    /// Tables per component.
    pub tables: u32,
    /// Bytes of each pooled linear memory kept mapped between calls.
    pub keep_resident_bytes: usize,
    /// The limits of batch calls (an RFM scorer's `fit` on a sample and
    /// `score` on a batch, off the request threads), which replace the
    /// memory, fuel, deadline and output limits above for those calls.
    pub batch: BatchLimits,
    /// A tighter copy budget than the answer size implies (batch calls).
    #[serde(skip)]
    pub copy_bytes: Option<usize>,
}

/// Bytes of answer a batch call may give per item of its batch (an RFM
/// score is a few hundred).
pub const ANSWER_PER_ITEM: usize = 2 << 10;
/// Bytes a batch call may have the host copy per item of its batch (an
/// RFM score costs about 700: a `Val` per field, names and strings).
pub const COPY_PER_ITEM: usize = 4 << 10;

/// The limits of one batch call.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct BatchLimits {
    /// Linear-memory ceiling, in bytes.
    pub memory_bytes: usize,
    /// Fuel (≈ wasm instructions).
    pub fuel: u64,
    /// Wall-clock deadline, in milliseconds.
    pub deadline_ms: u64,
    /// Largest answer, in bytes of its JSON form (approximately).
    pub output_bytes: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            memory_bytes: 512 << 20,
            fuel: 400_000_000_000,
            deadline_ms: 120_000,
            output_bytes: 32 << 20,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            component_bytes: 256 * 1024,
            compile_ms: 60_000,
            memory_bytes: 10 << 20,
            table_elements: 10_000,
            fuel: 11_000_000,
            deadline_ms: 5,
            output_bytes: 64 * 1024,
            log_bytes: 4 * 1024,
            stack_bytes: 512 * 1024,
            pool_instances: 256,
            core_instances: 16,
            tables: 8,
            keep_resident_bytes: 10 << 20,
            batch: BatchLimits::default(),
            copy_bytes: None,
        }
    }
}

impl Limits {
    /// These limits with the batch limits in place of the per-call ones,
    /// for a batch of `items` (its longest list): the answer may take
    /// [`ANSWER_PER_ITEM`] bytes per item and copying it out
    /// [`COPY_PER_ITEM`], so what a batch may copy follows what it may
    /// answer, not the batch ceiling.
    pub fn for_batch(&self, items: usize) -> Limits {
        let output = (64 << 10) + items.saturating_mul(ANSWER_PER_ITEM);
        Limits {
            memory_bytes: self.batch.memory_bytes,
            fuel: self.batch.fuel,
            deadline_ms: self.batch.deadline_ms,
            output_bytes: self.batch.output_bytes.min(output),
            copy_bytes: Some((1 << 20) + items.saturating_mul(COPY_PER_ITEM)),
            ..self.clone()
        }
    }

    /// wasmtime's budget for data copied out of the sandbox in one call
    /// ("hostcall fuel": about `size_of::<Val>()` per value lifted plus the
    /// bytes of strings). An answer within `output_bytes` as JSON has at
    /// most one value per two JSON bytes, so this never stops a valid
    /// answer, and it bounds the host's allocation to a few MiB.
    pub fn copy_budget(&self) -> usize {
        let budget = self
            .output_bytes
            .saturating_mul(std::mem::size_of::<wasmtime::component::Val>())
            / 2
            + self.log_bytes
            + (64 << 10);
        self.copy_bytes.map_or(budget, |c| c.min(budget))
    }
}

/// Enforces the memory and table ceilings, and remembers whether the
/// memory ceiling was what stopped the plugin.
pub(super) struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
    pub(super) memory_hit: bool,
    /// The largest linear memory the call asked for, in bytes.
    pub(super) peak_memory: usize,
}

impl Limiter {
    pub(super) fn new(limits: &Limits) -> Self {
        Limiter {
            memory_bytes: limits.memory_bytes,
            table_elements: limits.table_elements,
            memory_hit: false,
            peak_memory: 0,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_hit = true;
            wasmtime::bail!("memory ceiling of {} bytes reached", self.memory_bytes);
        }
        self.peak_memory = self.peak_memory.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            wasmtime::bail!("table ceiling of {} elements reached", self.table_elements);
        }
        Ok(true)
    }
}
