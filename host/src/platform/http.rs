//! What every HTTP handler shares: authentication, body and query
//! parsing, gzip, and the one error type every handler returns (status + JSON body with a stable `code` and a plain
//! `message`; internals are logged, never sent).

use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

pub use super::codes::Code;
use crate::AppState;
use crate::platform::store::StoreError;

/// A CSV field: quoted when needed, and never read as a formula by a
/// spreadsheet (a leading `=`, `+`, `-`, `@`, tab or CR gets a `'`).
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) || s.starts_with('\'') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Values kept in memory with the moment they were read from the store.
pub type Cached<K, V> = std::sync::Mutex<std::collections::HashMap<K, (std::time::Instant, V)>>;

/// Most entries a [`Cached`] holds: keys come from requests (a merchant
/// id, a locale), so a flood of made-up ones must not grow the host.
pub const CACHE_ENTRIES: usize = 4096;

/// Keep `value` under `key` in `cache`; when it is full, the entry read
/// longest ago makes room.
pub fn cache_put<K: Eq + std::hash::Hash + Clone, V>(cache: &Cached<K, V>, key: K, value: V) {
    let mut map = cache.lock().expect("cache");
    if map.len() >= CACHE_ENTRIES
        && !map.contains_key(&key)
        && let Some(oldest) = map
            .iter()
            .min_by_key(|(_, (at, _))| *at)
            .map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
    map.insert(key, (std::time::Instant::now(), value));
}

/// Largest JSON body accepted outside plugin uploads.
pub const MAX_JSON_BYTES: usize = 1 << 20;

/// Gzip `bytes` (best compression: done once per version).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).expect("writing to memory");
    e.finish().expect("writing to memory")
}

/// An API error: HTTP status, stable code, plain-words message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Code,
    message: String,
    extra: Option<serde_json::Value>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: None,
            retry_after: None,
        }
    }
    /// Its stable code.
    pub fn code(&self) -> Code {
        self.code
    }
    /// Its HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// 400.
    pub fn bad_request(code: Code, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, Code::NotFound, message)
    }
    /// 422.
    pub fn unprocessable(code: Code, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    /// 500, with the cause logged.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Code::Internal,
            "something went wrong on our side; it has been logged",
        )
    }
    /// The same error, telling the caller to try again in `secs` seconds.
    pub fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }
    /// 429 with `Retry-After`: over a limit, try again after `wait`.
    pub fn too_many(wait: std::time::Duration, message: impl Into<String>) -> ApiError {
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            Code::RateLimited,
            format!("{}; try again in {secs} s", message.into()),
        );
        e.retry_after = Some(secs);
        e
    }
    /// 503 `busy` with `Retry-After`: try again after `wait`.
    pub fn unavailable(wait: std::time::Duration, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, Code::Busy, message);
        e.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        e
    }
    /// The plain-words message.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Name the refused field: the body gains `field` beside `code` and
    /// `message`.
    pub fn with_field(self, field: &str) -> ApiError {
        let body = serde_json::json!({"code": self.code, "message": self.message, "field": field});
        self.with_body(body)
    }
    /// Attach a replacement body (keeps status).
    pub fn with_body(mut self, body: serde_json::Value) -> ApiError {
        self.extra = Some(body);
        self
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        StoreError::from(e).into()
    }
}

impl From<StoreError> for ApiError {
    /// A conflict is 409 `conflict`; a database failure 500, logged.
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict => ApiError::new(
                StatusCode::CONFLICT,
                Code::Conflict,
                "it already exists; choose another id or change the one there",
            ),
            StoreError::Db(e) => ApiError::internal(e),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        ApiError::internal(format!("{e:#}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self
            .extra
            .unwrap_or_else(|| json!({"code": self.code, "message": self.message}));
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        res
    }
}

/// Who acted on a merchant's route: set by [`ForMerchant`] for the audit
/// of changes ([`super::audit`]).
#[derive(Clone, Default)]
pub struct ActorSlot(pub std::sync::Arc<std::sync::OnceLock<String>>);

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Holder of the operator token; `actor` names them for the audit log.
    Operator {
        /// From the `x-cove-actor` header, or `operator`.
        actor: String,
    },
    /// Holder of one of a merchant's API keys (or a console session).
    Merchant(super::keys::Key),
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                Code::Unauthenticated,
                "send `Authorization: Bearer <operator token or merchant API key>`",
            )
        })
}

/// Hex sha256 of an API key, as stored.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Compare secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Identify the caller from the bearer token, or else the console cookie.
pub async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
) -> Result<Caller, ApiError> {
    // An address that sent too many wrong credentials waits, and its
    // guesses cost no look-up meanwhile. (Checked only before a look-up:
    // the operator token and cached keys answer without one.)
    let not_blocked = || match state.public.auth_blocked(ip) {
        Some(wait) => Err(ApiError::too_many(
            wait,
            "too many wrong keys or tokens from this address",
        )),
        None => Ok(()),
    };
    if !headers.contains_key(header::AUTHORIZATION)
        && let Some(token) = super::session::token(headers)
    {
        not_blocked()?;
        if let Some(s) = state.sessions.find(&state.store, token).await? {
            // A session may do what its member's role may.
            return Ok(Caller::Merchant(super::keys::Key {
                merchant: s.merchant,
                id: s.member.unwrap_or_else(|| "console".into()),
                name: s.actor,
                prefix: String::new(),
                scopes: s.scopes,
            }));
        }
        state.public.auth_failed(ip);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            Code::SessionExpired,
            "the console session has ended; sign in again",
        ));
    }
    let token = bearer(headers)?;
    if constant_time_eq(token.as_bytes(), state.operator_token.as_bytes()) {
        let actor = headers
            .get("x-cove-actor")
            .and_then(|v| v.to_str().ok())
            .filter(|a| !a.is_empty() && a.len() <= 64)
            .map_or_else(|| "operator".to_string(), |a| format!("operator:{a}"));
        return Ok(Caller::Operator { actor });
    }
    let hash = key_hash(token);
    // A made-up key from an address that keeps guessing, or one that
    // starts like a key someone keeps guessing the rest of, costs no
    // look-up.
    let prefix = || format!("key:{}", super::keys::prefix_of(token));
    if !state.keys.knows(&hash) {
        not_blocked()?;
        if let Some(wait) = state.public.accounts.wait(&prefix()) {
            return Err(ApiError::too_many(
                wait,
                "too many wrong keys starting like this one",
            ));
        }
    }
    match state.keys.find(&state.store, &hash, ip).await? {
        Some(key) => Ok(Caller::Merchant(key)),
        None => {
            state.public.auth_failed(ip);
            state.public.accounts.failed(&prefix());
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                Code::Unauthenticated,
                "unknown token or API key",
            ))
        }
    }
}

/// The operator, as a handler asks for it: the request carries the
/// operator token (403 otherwise); holds the actor's name for the records.
pub struct Operator(pub String);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = state.public.client_ip(&parts.headers, &parts.extensions);
        match caller(state, &parts.headers, ip).await? {
            Caller::Operator { actor } => Ok(Operator(actor)),
            Caller::Merchant(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                Code::Forbidden,
                "this endpoint needs the operator token",
            )),
        }
    }
}

/// Someone acting for the merchant named in the path (`{merchant}`), as a
/// handler asks for it. Checked in this order, so a made-up or garbage
/// merchant costs no look-up before the limit: the id is well formed,
/// the credentials are the operator's or that merchant's own (another
/// merchant's key gets the same 404 as a merchant that does not exist),
/// the merchant is within its request rate, and it exists (a merchant's
/// own key proves that).
pub struct ForMerchant {
    /// The merchant.
    pub merchant: String,
    /// Who acts, for the records: `operator…` or `merchant:ID`.
    pub actor: String,
    /// Whether it is the operator.
    pub operator: bool,
}

impl FromRequestParts<AppState> for ForMerchant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let params = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("no such merchant"))?;
        let merchant = params
            .iter()
            .find(|(name, _)| *name == "merchant")
            .map(|(_, v)| v.to_string())
            .filter(|m| valid_id(m))
            .ok_or_else(|| ApiError::not_found("no such merchant"))?;
        let ip = state.public.client_ip(&parts.headers, &parts.extensions);
        // What the route needs, from its template: no look-up.
        let needs = match (
            state.permissions.get(),
            parts.extensions.get::<axum::extract::MatchedPath>(),
        ) {
            (Some(p), Some(path)) => p.needs(&parts.method, path.as_str()),
            _ => super::keys::Need {
                scope: super::keys::Scope::Write,
                any: super::keys::Scopes::from_list(&[super::keys::Scope::Write]),
            },
        };
        let slot = parts.extensions.get::<ActorSlot>().cloned();
        match caller(state, &parts.headers, ip).await? {
            Caller::Operator { actor } => {
                require_merchant(state, &merchant).await?;
                if let Some(slot) = slot {
                    let _ = slot.0.set(actor.clone());
                }
                Ok(ForMerchant {
                    merchant,
                    actor,
                    operator: true,
                })
            }
            Caller::Merchant(key) if key.merchant == merchant => {
                if !key.scopes.meets(needs) {
                    let who = if key.prefix.is_empty() {
                        "your role".to_string()
                    } else {
                        format!("the key `{}`", key.name)
                    };
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        Code::MissingPermission,
                        format!(
                            "{who} lacks the `{}` permission this endpoint needs",
                            needs.scope.name()
                        ),
                    ));
                }
                if let Some(slot) = slot {
                    let _ = slot.0.set(key.actor());
                }
                admit(state, &merchant)?;
                Ok(ForMerchant {
                    actor: key.actor(),
                    merchant,
                    operator: false,
                })
            }
            Caller::Merchant(_) => Err(ApiError::not_found(format!("no merchant `{merchant}`"))),
        }
    }
}

/// A merchant's request within its rate, or 429 with `Retry-After`.
fn admit(state: &AppState, merchant: &str) -> Result<(), ApiError> {
    state.fair.admit(merchant).map_err(|wait| {
        state
            .metrics
            .throttled
            .get_or_create(&crate::platform::metrics::ThrottleLabels {
                merchant: merchant.to_string(),
                limit: "rate",
            })
            .inc();
        ApiError::too_many(
            wait,
            format!(
                "merchant `{merchant}` is over its limit of {} requests per second",
                state.fair.limits(merchant).requests_per_sec
            ),
        )
    })
}

/// A 404 unless `merchant` exists.
pub async fn require_merchant(state: &AppState, merchant: &str) -> Result<(), ApiError> {
    if state.store.merchant_exists(merchant).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no merchant `{merchant}`")))
    }
}

/// The largest JSON body a route takes, when not [`MAX_JSON_BYTES`]: set
/// by the platform on a class of routes (the public ones: 64 KiB).
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// A JSON body parsed as `T`, as a handler asks for it: at most the
/// route class's [`BodyLimit`] (413 `body_too_large` past it), a JSON
/// object, and 400 `invalid_json` with the parser's complaint when it is
/// not one or does not parse.
pub struct JsonBody<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match MaybeJson::from_request(req, state).await? {
            MaybeJson(Some(t)) => Ok(JsonBody(t)),
            MaybeJson(None) => Err(ApiError::bad_request(
                Code::InvalidJson,
                "the body must be a JSON object",
            )),
        }
    }
}

/// [`JsonBody`] for endpoints whose body may be left out (`None`).
pub struct MaybeJson<T>(pub Option<T>);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S>
    for MaybeJson<T>
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, ApiError> {
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(MAX_JSON_BYTES, |l| l.0);
        let bytes = read_body(req.into_body(), limit, "the request").await?;
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            None => Ok(MaybeJson(None)),
            // Every JSON body is an object (serde would take `[]` for a
            // struct whose fields all have defaults).
            Some(b'{') => parse_json(&bytes).map(|t| MaybeJson(Some(t))),
            Some(_) => Err(ApiError::bad_request(
                Code::InvalidJson,
                "the body must be a JSON object",
            )),
        }
    }
}

/// Read a body of at most `limit` bytes.
pub async fn read_body(body: Body, limit: usize, what: &str) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::BodyTooLarge,
            format!("{what} is larger than {limit} bytes"),
        )
    })
}

/// Query parameters, or a 400 that says which one is wrong.
pub fn query<T>(
    q: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|axum::extract::Query(t)| t)
        .map_err(|e| ApiError::bad_request(Code::InvalidQuery, e.body_text()))
}

/// A report's period: `days` (`default` when absent, 1 to `max`) and the
/// time that many days before now; 400 `invalid_days` naming the field
/// otherwise.
pub fn days_back(days: Option<i64>, default: i64, max: i64) -> Result<(i64, i64), ApiError> {
    let days = days.unwrap_or(default);
    if !(1..=max).contains(&days) {
        return Err(ApiError::bad_request(
            Code::InvalidDays,
            format!("days must be from 1 to {max}, not {days}"),
        )
        .with_field("days"));
    }
    Ok((days, crate::now_ms() - days * crate::DAY_MS))
}

/// Parse a JSON body, with the parser's complaint in the message.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            Code::InvalidJson,
            format!("the body is not valid JSON of the expected shape: {e}"),
        )
    })
}

/// A BCP 47-looking locale: `en`, `de-AT`, `zh-Hans-CN`.
pub fn valid_locale(locale: &str) -> bool {
    if locale.len() > 35 {
        return false;
    }
    let mut parts = locale.split('-');
    let lang = parts.next().unwrap_or("");
    (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The best of `available` for `wanted`: the same locale (in any case),
/// else one of the same language (`zh-TW` → `zh-CN`, `de-AT` → `de`).
pub fn nearest_locale<'a>(available: &'a [String], wanted: &str) -> Option<&'a String> {
    let lang = |l: &str| {
        l.split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    available
        .iter()
        .find(|l| l.eq_ignore_ascii_case(wanted))
        .or_else(|| available.iter().find(|l| lang(l) == lang(wanted)))
}

/// An id merchants choose: 1-64 letters, digits, `-` or `_`.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// What every create-or-replace (`PUT …/{kind}s/{id}`) checks once the
/// caller may act for the merchant ([`ForMerchant`]): the id is well
/// formed (else 400 `id_code`), and the body parses and passes `check`.
pub async fn replace_input<T: serde::de::DeserializeOwned>(
    (kind, id, id_code): (&str, &str, Code),
    body: Body,
    check: impl FnOnce(&T) -> Result<(), ApiError>,
) -> Result<T, ApiError> {
    if !valid_id(id) {
        return Err(ApiError::bad_request(
            id_code,
            format!("{kind} id must be 1-64 letters, digits, `-` or `_`"),
        ));
    }
    let input: T = parse_json(&read_body(body, MAX_JSON_BYTES, &format!("the {kind}")).await?)?;
    check(&input)?;
    Ok(input)
}

/// 201 for a new resource, 200 for a replaced one.
pub fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}
/// Text made safe inside HTML (elements and quoted attributes).
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Whether the client accepts a gzipped body.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"))
}

/// A body stored gzipped, sent as is to clients that accept gzip.
pub fn gzipped(
    headers: &HeaderMap,
    gz: &[u8],
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let mut res = if accepts_gzip(headers) {
        let mut res = gz.to_vec().into_response();
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        res
    } else {
        let mut raw = Vec::new();
        let _ = std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut raw);
        raw.into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }
}
