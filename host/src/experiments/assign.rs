//! Placing a unit in an experiment through the merchant's allocator: the
//! unit from the attributes, sticky bandit units, the allocator's answer.

use super::cache::Loaded;
use super::handlers::AssignIn;
use super::model::{Mode, Status};
use super::*;
use crate::experiments::store::ExperimentsDb;
use crate::platform::http::Code;
use crate::platform::invoke::invoke_tree;

/// The unit an assignment is for: the hash attribute's value (or the
/// fallback's), as GrowthBook reads it.
pub(super) fn unit_of(def: &Definition, attributes: &Value) -> Option<String> {
    let read = |name: &str| match attributes.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.as_f64().is_some_and(|x| x != 0.0) => Some(n.to_string()),
        _ => None,
    };
    read(&def.hash_attribute).or_else(|| def.fallback_attribute.as_deref().and_then(read))
}

/// One unit's assignment to `e`.
pub(super) async fn place(
    state: &AppState,
    merchant: &str,
    e: &Loaded,
    attributes: &Value,
) -> Result<Assignment, ApiError> {
    let n = e.def.variations.len();
    let answer = |variation: usize, inside: bool, reason: &str| Assignment {
        key: e.row.key.clone(),
        variation,
        value: e
            .def
            .variations
            .get(variation)
            .cloned()
            .unwrap_or(Value::Null),
        in_experiment: inside,
        hash_used: false,
        hash_attribute: None,
        hash_value: None,
        bucket: None,
        reason: Some(reason.to_string()),
        fallback: None,
    };
    match e.row.status {
        Status::Draft => return Ok(answer(0, false, "draft")),
        Status::Stopped => {
            let served = e.row.served.unwrap_or(0).clamp(0, n as i64 - 1) as usize;
            return Ok(answer(served, false, "stopped"));
        }
        Status::Running => {}
    }
    let bandit = e.def.mode == Mode::Bandit;
    let unit = unit_of(&e.def, attributes);
    let sticky = match (&unit, bandit) {
        (Some(u), true) => {
            ExperimentsDb(&state.store)
                .sticky_variation(merchant, &e.row.key, u)
                .await?
        }
        _ => None,
    };
    // The input as a tree: the experiment's is ready, only the unit's
    // attributes are new.
    let input = serde_json::Map::from_iter([
        ("experiment".to_string(), e.wit.clone()),
        (
            "attributes".to_string(),
            Value::String(attributes.to_string()),
        ),
        ("sticky".to_string(), json!(sticky)),
    ]);
    let decided = match invoke_tree(state, merchant, Slot::Allocator, Value::Object(input), None)
        .await
    {
        Ok(a) => a,
        Err(InvokeError::PluginError { plugin, error }) => {
            let message = crate::platform::invoke::plugin_error_body(&plugin, &error)["message"]
                .as_str()
                .unwrap_or("the allocator refused")
                .to_string();
            return Err(ApiError::unprocessable(Code::AllocatorRefused, message));
        }
        Err(e @ InvokeError::Busy(_)) => return Err(e.into()),
        Err(InvokeError::BadJson(m) | InvokeError::BadInput(m)) => {
            return Err(ApiError::internal(m));
        }
    };
    let r = &decided.result;
    let variation = r["variation"].as_u64().unwrap_or(0) as usize;
    let inside = r["in-experiment"] == true;
    if bandit
        && inside
        && sticky.is_none()
        && let Some(u) = &unit
    {
        ExperimentsDb(&state.store)
            .keep_variation(merchant, &e.row.key, u, variation as i64, crate::now_ms())
            .await?;
    }
    let text = |k: &str| r[k].as_str().map(str::to_string);
    Ok(Assignment {
        hash_used: r["hash-used"] == true,
        hash_attribute: text("hash-attribute"),
        hash_value: text("hash-value"),
        bucket: r["bucket"].as_f64(),
        reason: text("reason"),
        fallback: decided.fallback,
        ..answer(variation, inside, "")
    })
}

/// Where one unit goes.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Assignment {
    /// The experiment.
    pub key: String,
    /// The variation's index (0 is the control).
    pub variation: usize,
    /// The variation's value.
    pub value: Value,
    /// Whether the unit is in the experiment (counted), or only served.
    pub in_experiment: bool,
    /// Whether the unit's hash placed it.
    pub hash_used: bool,
    /// The attribute hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_attribute: Option<String>,
    /// Its value: the unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_value: Option<String>,
    /// The unit's bucket, 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<f64>,
    /// Why it went there.
    pub reason: Option<String>,
    /// Why the safe fallback answered, when the allocator could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<crate::platform::runtime::FailureKind>,
}

pub(super) async fn attributes_of(
    state: &AppState,
    merchant: &str,
    input: AssignIn,
) -> Result<Value, ApiError> {
    let mut attrs = input.attributes;
    if let Some(id) = input.customer_id {
        let stored = ExperimentsDb(&state.store)
            .targeting_attributes(merchant, &id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no customer `{id}`")))?;
        attrs.entry("id").or_insert_with(|| json!(id));
        for (k, v) in stored {
            attrs.entry(k).or_insert(v);
        }
    }
    Ok(Value::Object(attrs))
}
