//! Operator endpoints: publish, list, show and yank plugins; create
//! merchants; bind, roll back and audit slots.

use axum::body::Body;
use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::http::{ApiError, ForMerchant, JsonBody, Operator, read_body, require_merchant};
use super::policy::slot;
use crate::AppState;
use crate::platform::bindings::config_pairs;
use crate::platform::fair::MerchantLimits;
use crate::platform::http::Code;
use crate::platform::registry::{PublishError, Upload};
use crate::platform::slots::Slot;
use crate::platform::store::{PluginRow, StoreError};

/// Publisher whose plugins new merchants get bound by default.
pub const REFERENCE_PUBLISHER: &str = "cove";

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> ApiError {
        let status = match &e {
            PublishError::Store(inner) => return ApiError::internal(inner),
            PublishError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            PublishError::VersionExists { .. } => StatusCode::CONFLICT,
            PublishError::BadName(_) | PublishError::BadVersion(_) | PublishError::BadPublisher => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// `POST /v1/plugins?name=&version=&publisher=` with the component as body.
#[utoipa::path(post, path = "/v1/plugins", tag = "plugins", params(("name" = String, Query, description = "Plugin name (lower-case, digits, dashes), in its publisher's namespace if any: `acme/fatigue` (only `acme`, signing with its registered key, publishes there)"), ("version" = String, Query, description = "Semantic version"), ("publisher" = Option<String>, Query, description = "Who publishes it (default: the name's namespace, else `unknown`)")), request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 200, description = "Already published with the same bytes", body = crate::platform::store::PluginRow), (status = 201, description = "Published", body = crate::platform::store::PluginRow)))]
pub async fn publish(
    State(state): State<AppState>,
    _: Operator,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(params) =
        query.map_err(|e| ApiError::bad_request(Code::InvalidQuery, e.body_text()))?;
    let get = |k: &str| params.get(k).map(String::as_str);
    let (Some(name), Some(version)) = (get("name"), get("version")) else {
        return Err(ApiError::bad_request(
            Code::MissingParameter,
            "give the plugin's `name` and `version` as query parameters",
        ));
    };
    // A namespaced name (`acme/fatigue`) names its publisher.
    let publisher = get("publisher")
        .or_else(|| name.split_once('/').map(|(namespace, _)| namespace))
        .unwrap_or("unknown");
    // Read a little past the limit so an oversized upload gets the
    // registry's own explanation rather than a bare transport error.
    let limit = state.runtime.limits.component_bytes;
    let wasm = read_body(body, limit * 4, "the component").await?;
    let (row, created) = state
        .registry
        .publish(Upload {
            name,
            version,
            publisher,
            wasm: &wasm,
            signature: get("signature"),
        })
        .await?;
    Ok((super::http::created_or_ok(created), axum::Json(row)).into_response())
}

/// A publisher to register.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct PublisherIn {
    /// Its name, as uploads name it (`publisher=`).
    pub name: String,
    /// Its Ed25519 public key, 64 hex digits (`cove plugin keygen`).
    pub public_key: String,
}

/// `POST /v1/publishers`: register a publisher's key; from then on its
/// uploads must be signed with it.
#[utoipa::path(post, path = "/v1/publishers", tag = "plugins", request_body = PublisherIn, responses((status = 201, description = "Registered", body = crate::platform::store::PublisherRow), (status = 409, description = "That name is registered already"), (status = 422, description = "Not a usable name or key")))]
pub async fn register_publisher(
    State(state): State<AppState>,
    _: Operator,
    JsonBody(p): JsonBody<PublisherIn>,
) -> Result<Response, ApiError> {
    if p.name.is_empty() || p.name.len() > 64 {
        return Err(
            ApiError::unprocessable(Code::InvalidPublisher, "name: 1-64 characters")
                .with_field("name"),
        );
    }
    if !crate::platform::signing::valid_public_key(&p.public_key) {
        return Err(ApiError::unprocessable(
            Code::InvalidPublicKey,
            "public_key: an Ed25519 public key as 64 hex digits (`cove plugin keygen` prints one)",
        )
        .with_field("public_key"));
    }
    let row = crate::platform::store::PublisherRow {
        name: p.name,
        public_key: p.public_key.trim().to_lowercase(),
        created_at: crate::now_ms(),
        revoked_at: None,
    };
    match state.store.insert_publisher(&row).await {
        Ok(()) => Ok((StatusCode::CREATED, axum::Json(row)).into_response()),
        Err(crate::platform::store::StoreError::Conflict) => Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::PublisherExists,
            format!("publisher `{}` is registered already", row.name),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `GET /v1/publishers`.
#[utoipa::path(get, path = "/v1/publishers", tag = "plugins", responses((status = 200, description = "Every publisher with its key, and when it was revoked", body = Vec<crate::platform::store::PublisherRow>)))]
pub async fn publishers(State(state): State<AppState>, _: Operator) -> Result<Response, ApiError> {
    Ok(axum::Json(state.store.publishers().await?).into_response())
}

/// `POST /v1/publishers/{name}/revoke`: its versions can no longer be
/// published or bound; those bound keep running (the console warns).
#[utoipa::path(post, path = "/v1/publishers/{name}/revoke", tag = "plugins", params(("name" = String, Path, description = "Publisher")), responses((status = 200, description = "Revoked", body = crate::platform::store::PublisherRow), (status = 404, description = "No such publisher, or revoked already")))]
pub async fn revoke_publisher(
    State(state): State<AppState>,
    _: Operator,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if !state.store.revoke_publisher(&name, crate::now_ms()).await? {
        return Err(ApiError::not_found(format!(
            "no publisher `{name}` with a key in force"
        )));
    }
    let row = state.store.publisher(&name).await?;
    Ok(axum::Json(row).into_response())
}

/// `GET /v1/plugins`.
#[utoipa::path(get, path = "/v1/plugins", tag = "plugins", responses((status = 200, description = "Every published version", body = PluginList)))]
pub async fn list(State(state): State<AppState>, _: Operator) -> Result<Response, ApiError> {
    let plugins = state.store.list_plugins().await?;
    Ok(axum::Json(PluginList { plugins }).into_response())
}

/// Every published plugin version.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PluginList {
    /// Oldest first.
    pub plugins: Vec<PluginRow>,
}

/// A new merchant.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CreatedMerchant {
    /// Its id.
    pub id: String,
    /// Its API key, shown only this once.
    pub api_key: String,
    /// The reference plugins bound (`name@version`).
    pub bound: Vec<String>,
}

/// A slot's binding in force.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct BindingNow {
    /// The merchant.
    pub merchant: String,
    /// The slot (its world).
    pub slot: &'static str,
    /// The plugin bound.
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// Its config, string values by key.
    #[schema(value_type = Object)]
    pub config: Value,
}

/// A merchant's binding changes.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Audit {
    /// The merchant.
    pub merchant: String,
    /// Newest first.
    pub events: Vec<super::store::EventRow>,
}

/// A merchant's limits in force.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LimitsNow {
    /// The merchant.
    pub merchant: String,
    /// The limits.
    pub limits: MerchantLimits,
    /// Whether they are the host's defaults (the operator set none).
    pub default: bool,
}

async fn find(state: &AppState, name: &str, version: &str) -> Result<PluginRow, ApiError> {
    state
        .store
        .get_plugin(name, version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no plugin {name}@{version}")))
}

/// `GET /v1/plugins/{name}/{version}`.
#[utoipa::path(get, path = "/v1/plugins/{name}/{version}", tag = "plugins", params(("name" = String, Path, description = "Plugin name"), ("version" = String, Path, description = "Semantic version")), responses((status = 200, description = "The version", body = crate::platform::store::PluginRow)))]
pub async fn show(
    State(state): State<AppState>,
    _: Operator,
    Path((name, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(find(&state, &name, &version).await?).into_response())
}

/// `POST /v1/plugins/{name}/{version}/yank`: no new bindings may use it.
#[utoipa::path(post, path = "/v1/plugins/{name}/{version}/yank", tag = "plugins", params(("name" = String, Path, description = "Plugin name"), ("version" = String, Path, description = "Semantic version")), responses((status = 200, description = "Yanked", body = crate::platform::store::PluginRow)))]
pub async fn yank(
    State(state): State<AppState>,
    _: Operator,
    Path((name, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let plugin = find(&state, &name, &version).await?;
    state.store.yank(plugin.id).await?;
    Ok(axum::Json(find(&state, &name, &version).await?).into_response())
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMerchant {
    id: String,
    name: Option<String>,
}

/// `POST /v1/merchants`: create a merchant, return its API key (shown
/// once), and bind the newest reference plugin of every slot.
#[utoipa::path(post, path = "/v1/merchants", tag = "merchants", request_body = NewMerchant, responses((status = 201, description = "Created; `api_key` is shown only this once", body = CreatedMerchant)))]
pub async fn create_merchant(
    State(state): State<AppState>,
    _: Operator,
    JsonBody(req): JsonBody<NewMerchant>,
) -> Result<Response, ApiError> {
    let valid = (1..=64).contains(&req.id.len())
        && req
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(ApiError::bad_request(
            Code::InvalidMerchantId,
            "merchant id must be 1-64 letters, digits, `-` or `_`",
        ));
    }
    let key = super::keys::new_secret();
    let bound = create_bound(
        &state,
        &req.id,
        req.name.as_deref().unwrap_or(&req.id),
        &key,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedMerchant {
            id: req.id,
            api_key: key,
            bound,
        }),
    )
        .into_response())
}

/// Create `merchant` with its first key `secret` and the newest unyanked
/// reference plugin of every slot bound, all in one transaction: each
/// binding is checked first (world, the plugin's own config check), and if
/// one fails nothing is created (503 `defaults_failed`, naming the slots
/// and why), so a retry is not met with 409. The bindings made
/// (`name@version`).
pub async fn create_bound(
    state: &AppState,
    merchant: &str,
    name: &str,
    secret: &str,
) -> Result<Vec<String>, ApiError> {
    let plugins = state.store.list_plugins().await?;
    let (mut defaults, mut bound, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for slot in Slot::ALL {
        let newest = plugins
            .iter()
            .filter(|p| {
                p.publisher == REFERENCE_PUBLISHER
                    && p.world == slot.world()
                    && p.yanked_at.is_none()
            })
            .max_by_key(|p| semver::Version::parse(&p.version).ok());
        if let Some(plugin) = newest {
            let label = format!("{}@{}", plugin.name, plugin.version);
            match check_binding(state, slot, plugin, &json!({})).await {
                Ok(()) => {
                    defaults.push((slot.world(), plugin.id, "{}".to_string()));
                    bound.push(label);
                }
                Err(e) => failed.push(format!("{slot}: {label}: {}", e.message())),
            }
        }
    }
    if !failed.is_empty() {
        tracing::warn!(%merchant, ?failed, "a reference plugin could not be bound: nothing created");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::DefaultsFailed,
            format!(
                "merchant `{merchant}` was not created: its default policies could not be bound ({})",
                failed.join("; ")
            ),
        ));
    }
    match state
        .store
        .create_merchant_bound(merchant, name, secret, &defaults)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Code::MerchantExists,
                format!("merchant `{merchant}` already exists"),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    state.refresh_bindings().await?;
    Ok(bound)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindRequest {
    /// `name@version`.
    plugin: String,
    #[serde(default = "empty_object")]
    config: Value,
}

fn empty_object() -> Value {
    json!({})
}

/// `PUT /v1/merchants/{merchant}/slots/{slot}`: bind a plugin version and config.
#[utoipa::path(put, path = "/v1/merchants/{merchant}/slots/{slot}", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot: rfm-scorer, allocator, fatigue-policy, return-flow, channel-chooser")), request_body = BindRequest, responses((status = 200, description = "The binding in force", body = BindingNow)))]
pub async fn bind(
    State(state): State<AppState>,
    Operator(actor): Operator,
    Path((merchant, slot_name)): Path<(String, String)>,
    JsonBody(req): JsonBody<BindRequest>,
) -> Result<Response, ApiError> {
    let slot = slot(&slot_name)?;
    let Some((name, version)) = req.plugin.split_once('@') else {
        return Err(ApiError::bad_request(
            Code::InvalidPluginRef,
            "give the plugin as `name@version`",
        ));
    };
    require_merchant(&state, &merchant).await?;
    let plugin = find(&state, name, version).await?;
    if plugin.yanked_at.is_some() {
        return Err(yanked(&plugin, "pick another version"));
    }
    trusted(&state, &plugin).await?;
    bind_version(
        &state,
        &merchant,
        slot,
        &plugin,
        &req.config,
        &actor,
        "bind",
    )
    .await?;
    current(&state, &merchant, slot)
}

/// `POST /v1/merchants/{merchant}/slots/{slot}/rollback`: restore the
/// binding in force before the latest change.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/slots/{slot}/rollback", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot: rfm-scorer, allocator, fatigue-policy, return-flow, channel-chooser")), responses((status = 200, description = "The binding in force", body = BindingNow)))]
pub async fn rollback(
    State(state): State<AppState>,
    Operator(actor): Operator,
    Path((merchant, slot_name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let slot = slot(&slot_name)?;
    require_merchant(&state, &merchant).await?;
    let Some((plugin_id, config)) = state
        .store
        .previous_binding(&merchant, slot.world())
        .await?
    else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::NothingToRollBack,
            format!("{slot} of `{merchant}` has no earlier binding"),
        ));
    };
    let plugin = state
        .store
        .plugin_by_id(plugin_id)
        .await?
        .ok_or_else(|| ApiError::internal("binding points at a missing plugin"))?;
    if plugin.yanked_at.is_some() {
        return Err(yanked(
            &plugin,
            "it was the earlier binding; bind another version",
        ));
    }
    let config: Value = serde_json::from_str(&config).map_err(ApiError::internal)?;
    bind_version(
        &state, &merchant, slot, &plugin, &config, &actor, "rollback",
    )
    .await?;
    current(&state, &merchant, slot)
}

/// The refusal to bind a yanked version.
fn yanked(plugin: &PluginRow, what_now: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        Code::PluginYanked,
        format!(
            "{}@{} is yanked and cannot be bound; {what_now}",
            plugin.name, plugin.version
        ),
    )
}

pub(super) fn current(state: &AppState, merchant: &str, slot: Slot) -> Result<Response, ApiError> {
    let active = state
        .bindings
        .get(merchant, slot)
        .ok_or_else(|| ApiError::internal("binding vanished after bind"))?;
    Ok(axum::Json(BindingNow {
        merchant: merchant.to_string(),
        slot: slot.world(),
        plugin: active.plugin.name.clone(),
        version: active.plugin.version.clone(),
        config: active.config_json.clone(),
    })
    .into_response())
}

/// Whether `plugin` may be bound anew: not by a revoked publisher, and
/// signed when the host requires signatures.
pub async fn trusted(state: &AppState, plugin: &PluginRow) -> Result<(), ApiError> {
    if let Some(p) = state.store.publisher(&plugin.publisher).await?
        && p.revoked_at.is_some()
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::PublisherRevoked,
            format!(
                "{}@{} is published by `{}`, whose key was revoked: it can no longer be bound (bindings in force keep it until changed)",
                plugin.name, plugin.version, p.name
            ),
        ));
    }
    if state.registry.require_signatures && !plugin.signed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::UnsignedPlugin,
            format!(
                "{}@{} is not signed, and this host runs only signed plugins",
                plugin.name, plugin.version
            ),
        ));
    }
    Ok(())
}

/// Check a binding (world, config accepted by the plugin itself), store it
/// with its audit entry, and swap it in.
pub async fn bind_version(
    state: &AppState,
    merchant: &str,
    slot: Slot,
    plugin: &PluginRow,
    config: &Value,
    actor: &str,
    action: &str,
) -> Result<(), ApiError> {
    check_binding(state, slot, plugin, config).await?;
    let config_text = config.to_string();
    state
        .store
        .bind(
            merchant,
            slot.world(),
            plugin.id,
            &config_text,
            actor,
            action,
        )
        .await?;
    state.refresh_bindings().await?;
    Ok(())
}

/// Whether `plugin` may serve `slot` with `config`: its world, and the
/// plugin's own check of the config.
async fn check_binding(
    state: &AppState,
    slot: Slot,
    plugin: &PluginRow,
    config: &Value,
) -> Result<(), ApiError> {
    if plugin.world != slot.world() {
        return Err(ApiError::unprocessable(
            Code::WorldMismatch,
            format!(
                "{}@{} implements {}, not {slot}",
                plugin.name, plugin.version, plugin.world
            ),
        ));
    }
    let pairs =
        config_pairs(config).map_err(|m| ApiError::unprocessable(Code::InvalidConfig, m))?;
    let prepared = state.registry.prepared(plugin).await?;
    match state
        .runtime
        .validate_config(&prepared, &pairs.into(), crate::now_ms())
    {
        Ok(out) => {
            if let wasmtime::component::Val::Result(Err(e)) = out.value {
                let detail = e
                    .as_deref()
                    .map(crate::platform::runtime::json::from_val)
                    .unwrap_or(Value::Null);
                let text = detail
                    .as_object()
                    .and_then(|o| o.values().next())
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| detail.to_string());
                return Err(ApiError::unprocessable(
                    Code::InvalidConfig,
                    format!(
                        "{}@{} rejected the config: {text}",
                        plugin.name, plugin.version
                    ),
                ));
            }
        }
        Err(f) => {
            return Err(ApiError::unprocessable(
                Code::PluginFailed,
                format!(
                    "{}@{} failed while checking the config ({}): {}",
                    plugin.name,
                    plugin.version,
                    f.kind.as_str(),
                    f.detail
                ),
            ));
        }
    }
    Ok(())
}

/// `GET /v1/merchants/{merchant}/audit`: every binding change, newest
/// first (the merchant reads its own).
#[utoipa::path(get, path = "/v1/merchants/{merchant}/audit", tag = "policies", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "Binding changes, newest first", body = Audit)))]
pub async fn audit(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    let events = state.store.audit(&merchant).await?;
    Ok(axum::Json(Audit { merchant, events }).into_response())
}

/// `GET /v1/merchants/{merchant}/limits`: the merchant's request rate and
/// plugin-call ceiling; anyone with access to the merchant may read them.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/limits", tag = "merchants", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "The limits in force", body = LimitsNow)))]
pub async fn limits(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    Ok(limits_now(&state, merchant))
}

/// `PUT /v1/merchants/{merchant}/limits`: set them (the operator only).
#[utoipa::path(put, path = "/v1/merchants/{merchant}/limits", tag = "merchants", params(("merchant" = String, Path, description = "Merchant id")), request_body = MerchantLimits, responses((status = 200, description = "The limits in force", body = LimitsNow)))]
pub async fn set_limits(
    State(state): State<AppState>,
    caller: ForMerchant,
    JsonBody(limits): JsonBody<MerchantLimits>,
) -> Result<Response, ApiError> {
    if !caller.operator {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Code::Forbidden,
            "this endpoint needs the operator token",
        ));
    }
    if let Some(problem) = limits.problem() {
        return Err(ApiError::unprocessable(Code::InvalidLimits, problem));
    }
    state
        .store
        .set_merchant_limits(&caller.merchant, &limits)
        .await?;
    state
        .fair
        .set_overrides(state.store.merchant_limits().await?);
    Ok(limits_now(&state, caller.merchant))
}

fn limits_now(state: &AppState, merchant: String) -> Response {
    axum::Json(LimitsNow {
        limits: state.fair.limits(&merchant),
        default: state.fair.is_default(&merchant),
        merchant,
    })
    .into_response()
}
