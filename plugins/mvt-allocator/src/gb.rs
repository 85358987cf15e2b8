//! Assignment exactly as GrowthBook's SDKs do it: FNV-1a over UTF-16 code
//! units, hash versions 1 and 2, bucket ranges from weights and coverage,
//! namespaces, and the order in which an experiment's rules apply.

use crate::json::Value;
use cove_sdk::allocator::{Assignment, Error, Experiment, Reason};

use crate::condition;

/// FNV-1a, 32 bits, over the UTF-16 code units of `s` (as JavaScript's
/// `charCodeAt` sees them).
pub fn fnv1a32(s: &str) -> u32 {
    s.encode_utf16().fold(0x811c_9dc5_u32, |h, unit| {
        (h ^ u32::from(unit)).wrapping_mul(0x0100_0193)
    })
}

/// The unit's bucket in `[0, 1)` for `seed` and `value`; `None` for an
/// unknown hash version.
pub fn hash(seed: &str, value: &str, version: u32) -> Option<f64> {
    match version {
        2 => {
            let inner = fnv1a32(&format!("{seed}{value}"));
            Some(f64::from(fnv1a32(&inner.to_string()) % 10_000) / 10_000.0)
        }
        1 => Some(f64::from(fnv1a32(&format!("{value}{seed}")) % 1_000) / 1_000.0),
        _ => None,
    }
}

/// `n` equal weights (none for `n` < 1).
pub fn equal_weights(n: usize) -> Vec<f64> {
    vec![1.0 / n as f64; n]
}

/// Whether `weights` can be used as given: one finite, non-negative weight
/// per variation, adding up to 1 (within 0.99..=1.01).
pub fn weights_valid(weights: &[f64], n: usize) -> bool {
    weights.len() == n
        && weights.iter().all(|w| w.is_finite() && *w >= 0.0)
        && (0.99..=1.01).contains(&weights.iter().sum::<f64>())
}

/// Each variation's `[start, end)` range of buckets.
pub fn bucket_ranges(n: usize, coverage: f64, weights: &[f64]) -> Vec<(f64, f64)> {
    let coverage = coverage.clamp(0.0, 1.0);
    let weights = if weights_valid(weights, n) {
        weights.to_vec()
    } else {
        equal_weights(n)
    };
    let mut start = 0.0;
    weights
        .iter()
        .map(|w| {
            let range = (start, start + coverage * w);
            start += w;
            range
        })
        .collect()
}

/// The variation whose range holds `bucket`, or `None`.
pub fn choose_variation(bucket: f64, ranges: &[(f64, f64)]) -> Option<usize> {
    ranges
        .iter()
        .position(|(start, end)| *start <= bucket && bucket < *end)
}

/// Whether `value` falls in the namespace's range.
pub fn in_namespace(value: &str, id: &str, start: f64, end: f64) -> bool {
    hash(&format!("__{id}"), value, 1).is_some_and(|n| start <= n && n < end)
}

/// An attribute value that can identify a unit, as text: a non-empty
/// string, or a finite non-zero number.
pub fn hashable(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Str(s) if !s.is_empty() => Some(s.clone()),
        Value::Num(n) if *n != 0.0 => Some(crate::json::js_number(*n)),
        _ => None,
    }
}

/// Place one unit, in GrowthBook's order: too few variations, hash
/// attribute, (sticky variation, else namespace and condition), hash
/// version, bucket ranges and coverage, forced variation.
pub fn run(exp: &Experiment, attributes: &Value, sticky: Option<u32>) -> Result<Assignment, Error> {
    let n = exp.variations as usize;
    let mut hash_attribute = exp.hash_attribute.clone();
    let mut value = hashable(attributes.get(&exp.hash_attribute));
    if value.is_none()
        && let Some(fallback) = &exp.fallback_attribute
        && let Some(v) = hashable(attributes.get(fallback))
    {
        value = Some(v);
        hash_attribute = fallback.clone();
    }
    let condition = match &exp.condition {
        Some(text) => Some(condition::parse(text)?),
        None => None,
    };
    let out = |reason: Reason, hash_value: &str| Assignment {
        in_experiment: false,
        variation: 0,
        hash_used: false,
        hash_attribute: hash_attribute.clone(),
        hash_value: hash_value.to_string(),
        bucket: None,
        reason,
    };
    if n < 2 {
        return Ok(out(
            Reason::TooFewVariations,
            value.as_deref().unwrap_or(""),
        ));
    }
    let Some(value) = value else {
        return Ok(out(Reason::NoHashAttribute, ""));
    };
    let sticky = sticky.filter(|s| (*s as usize) < n);
    if sticky.is_none() {
        if let Some(ns) = &exp.namespace
            && !in_namespace(&value, &ns.id, ns.start, ns.end)
        {
            return Ok(out(Reason::Namespace, &value));
        }
        if let Some(c) = &condition
            && !condition::eval(attributes, c)
        {
            return Ok(out(Reason::Condition, &value));
        }
    }
    let seed = if exp.seed.is_empty() {
        &exp.key
    } else {
        &exp.seed
    };
    let Some(bucket) = hash(seed, &value, exp.hash_version) else {
        return Ok(out(Reason::HashVersion, &value));
    };
    let assigned = match sticky {
        Some(s) => Some(s as usize),
        None => choose_variation(bucket, &bucket_ranges(n, exp.coverage, &exp.weights)),
    };
    let Some(assigned) = assigned else {
        return Ok(out(Reason::Coverage, &value));
    };
    if let Some(force) = exp.force {
        let valid = (0..n as i64).contains(&i64::from(force));
        return Ok(Assignment {
            in_experiment: valid,
            variation: if valid { force as u32 } else { 0 },
            reason: Reason::Forced,
            ..out(Reason::Forced, &value)
        });
    }
    Ok(Assignment {
        in_experiment: true,
        variation: assigned as u32,
        hash_used: true,
        hash_attribute,
        hash_value: value,
        bucket: Some(bucket),
        reason: if sticky.is_some() {
            Reason::Sticky
        } else {
            Reason::Assigned
        },
    })
}
