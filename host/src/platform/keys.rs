//! A merchant's API keys: several per merchant, each with a name, scopes
//! and an optional expiry; only a hash and a short visible prefix are
//! stored (the key is shown once); rolled with a grace period for the old
//! one, revoked everywhere within [`KEY_FRESH`]. And what each endpoint
//! needs: one [`Scope`] per route, decided in one place ([`Permissions`]),
//! checked by [`super::http::ForMerchant`] without a database query, and
//! shown in the spec as the bearer scheme's scope.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use sqlx::Row;

use super::http::{ApiError, Code, ForMerchant, JsonBody, MaybeJson, key_hash};
use super::store::{Store, StoreError};
use crate::AppState;

/// How long a key's checked state is trusted before it is read again: a
/// revoked key stops working on every replica within this.
pub const KEY_FRESH: Duration = Duration::from_secs(1);
/// How often a key's last use is written (at most).
const LAST_USED_EVERY: Duration = Duration::from_secs(60);
/// Longest grace an old key gets when it is rolled.
const MAX_GRACE_HOURS: u32 = 24 * 30;

/// What a key may do. A route needs exactly one.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read anything (every `GET`).
    Read,
    /// Change content and settings (articles, surveys, widget, experiments,
    /// returns decisions, customers).
    Write,
    /// Stream files and events in.
    Import,
    /// Bind, configure, roll back and run policies.
    Policies,
    /// Manage the merchant's keys (and its link key and SMS provider's
    /// token).
    Keys,
    /// Invite, change and remove the merchant's team members.
    Members,
    /// Customer service: the routes a feature opens to it (reading
    /// customers, returns and surveys; deciding returns), besides the
    /// scope they need otherwise.
    Support,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 7] = [
        Scope::Read,
        Scope::Write,
        Scope::Import,
        Scope::Policies,
        Scope::Keys,
        Scope::Members,
        Scope::Support,
    ];

    /// Its name, as in the API and the spec.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Import => "import",
            Scope::Policies => "policies",
            Scope::Keys => "keys",
            Scope::Members => "members",
            Scope::Support => "support",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// Every scope.
    pub fn all() -> Scopes {
        Scopes(Scope::ALL.iter().fold(0, |b, s| b | s.bit()))
    }

    /// Whether `scope` is in the set.
    pub fn has(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes, in order.
    pub fn list(self) -> Vec<Scope> {
        Scope::ALL.into_iter().filter(|s| self.has(*s)).collect()
    }

    /// The set of `list`.
    pub fn from_list(list: &[Scope]) -> Scopes {
        Scopes(list.iter().fold(0, |b, s| b | s.bit()))
    }

    /// Whether these scopes meet `need` (one bit test).
    pub fn meets(self, need: Need) -> bool {
        self.0 & need.any.0 != 0
    }

    /// As stored: names separated by commas.
    pub fn stored(self) -> String {
        self.list()
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// From [`Scopes::stored`].
    pub fn parse(stored: &str) -> Scopes {
        Scopes::from_list(
            &Scope::ALL
                .into_iter()
                .filter(|s| stored.split(',').any(|n| n == s.name()))
                .collect::<Vec<_>>(),
        )
    }
}

/// What a route needs: its scope, or any of `any` (the scope itself and,
/// where a feature opens the route to customer service, `support`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Need {
    /// The scope named in refusals and the spec.
    pub scope: Scope,
    /// Every scope that is enough.
    pub any: Scopes,
}

impl Need {
    fn of(scope: Scope) -> Need {
        Need {
            scope,
            any: Scopes(scope.bit()),
        }
    }

    /// The scopes that are enough, by name, the route's own first.
    pub fn names(self) -> Vec<&'static str> {
        std::iter::once(self.scope)
            .chain(self.any.list().into_iter().filter(|s| *s != self.scope))
            .map(Scope::name)
            .collect()
    }
}

/// The scope each route needs, by method and path template. Routes not
/// named here need `read` for `GET`/`HEAD` and `write` otherwise.
#[derive(Default, Debug)]
pub struct Permissions(HashMap<String, Vec<(Method, Need)>>);

impl Permissions {
    /// Every operation of `api` needs `scope`.
    pub fn class(&mut self, api: &utoipa::openapi::OpenApi, scope: Scope) {
        for (path, item) in &api.paths.paths {
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ] {
                if op.is_some() {
                    self.put(method, path, Need::of(scope));
                }
            }
        }
    }

    /// `method path` needs `scope` (a feature's own declaration);
    /// `support` opens it to customer service besides what it needs.
    pub fn set(&mut self, method: &str, path: &str, scope: Scope) {
        let Ok(m) = method.parse::<Method>() else {
            return;
        };
        let need = if scope == Scope::Support {
            let mut need = self.needs(&m, path);
            need.any.0 |= Scope::Support.bit();
            need
        } else {
            let mut need = Need::of(scope);
            need.any.0 |= self.needs(&m, path).any.0 & Scope::Support.bit();
            need
        };
        self.put(m, path, need);
    }

    fn put(&mut self, method: Method, path: &str, need: Need) {
        let entry = self.0.entry(path.to_string()).or_default();
        entry.retain(|(m, _)| *m != method);
        entry.push((method, need));
    }

    /// What `method path` needs (no allocation: this runs per request).
    pub fn needs(&self, method: &Method, path: &str) -> Need {
        let declared = self
            .0
            .get(path)
            .and_then(|ms| ms.iter().find(|(m, _)| m == method));
        match declared {
            Some((_, n)) => *n,
            None if method == Method::GET || method == Method::HEAD => Need::of(Scope::Read),
            None => Need::of(Scope::Write),
        }
    }
}

/// A merchant's key, as a request's caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The merchant.
    pub merchant: String,
    /// The key's id (`console` for a console session).
    pub id: String,
    /// Its name, for the records.
    pub name: String,
    /// Its visible prefix (`ck_1a2b3c`).
    pub prefix: String,
    /// What it may do.
    pub scopes: Scopes,
}

impl Key {
    /// Who acts, for the audit log: the key by name and prefix, or the
    /// console session's member.
    pub fn actor(&self) -> String {
        if self.prefix.is_empty() {
            self.name.clone()
        } else {
            format!("key:{} ({}…)", self.name, self.prefix)
        }
    }
}

/// A checked key in the cache, with when it was checked and until when
/// it works.
pub struct Cached {
    key: Key,
    checked: Instant,
    until: Option<i64>,
    last_used_written: Instant,
}

/// Keys recently checked, by hash: a request with a fresh entry needs no
/// look-up.
#[derive(Default)]
pub struct KeyCache(std::sync::RwLock<HashMap<String, Cached>>);

/// Longest a key cache may grow (made-up keys are never cached).
const CACHE_KEYS: usize = 10_000;

impl KeyCache {
    /// Whether this hash was a valid key when last checked.
    pub fn knows(&self, hash: &str) -> bool {
        self.0.read().expect("key cache").contains_key(hash)
    }

    /// The key with this hash, from the cache while fresh, else read (and
    /// its last use written, at most once a minute); `None` if unknown,
    /// revoked or expired.
    pub async fn find(
        &self,
        store: &Store,
        hash: &str,
        ip: std::net::IpAddr,
    ) -> Result<Option<Key>, StoreError> {
        let now = crate::now_ms();
        if let Some(c) = self.0.read().expect("key cache").get(hash)
            && c.checked.elapsed() < KEY_FRESH
        {
            return Ok(c.until.is_none_or(|u| now < u).then(|| c.key.clone()));
        }
        let found = store.key_by_hash(hash).await?;
        // The cache is updated in a block of its own: no lock is held
        // across the write below.
        let write_use = {
            let mut cache = self.0.write().expect("key cache");
            match &found {
                None => {
                    cache.remove(hash);
                    false
                }
                Some((key, until)) => {
                    let written = cache
                        .get(hash)
                        .map(|c| c.last_used_written)
                        .filter(|at| at.elapsed() < LAST_USED_EVERY);
                    if cache.len() >= CACHE_KEYS {
                        cache.clear();
                    }
                    cache.insert(
                        hash.to_string(),
                        Cached {
                            key: key.clone(),
                            checked: Instant::now(),
                            until: *until,
                            last_used_written: written.unwrap_or_else(Instant::now),
                        },
                    );
                    written.is_none()
                }
            }
        };
        let Some((key, until)) = found else {
            return Ok(None);
        };
        if write_use {
            store.key_used(hash, now, &ip.to_string()).await?;
        }
        Ok(until.is_none_or(|u| now < u).then_some(key))
    }
}

/// A new key's secret.
pub fn new_secret() -> String {
    format!("ck_{}", hex::encode(rand::random::<[u8; 24]>()))
}

/// The part of a key shown after creation.
pub fn prefix_of(secret: &str) -> String {
    secret.chars().take(9).collect()
}

impl Store {
    /// A live key by hash: the key and until when it works (revoked keys
    /// are not found).
    pub async fn key_by_hash(&self, hash: &str) -> Result<Option<(Key, Option<i64>)>, StoreError> {
        let row = sqlx::query(
            "SELECT merchant_id, id, name, prefix, scopes, expires_at FROM api_keys \
             WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let scopes: String = r.try_get(4)?;
        Ok(Some((
            Key {
                merchant: r.try_get(0)?,
                id: r.try_get(1)?,
                name: r.try_get(2)?,
                prefix: r.try_get(3)?,
                scopes: Scopes::parse(&scopes),
            },
            r.try_get(5)?,
        )))
    }

    async fn key_used(&self, hash: &str, at: i64, ip: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1, last_used_ip = $2 WHERE key_hash = $3")
            .bind(at)
            .bind(ip)
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Store a new key (hashed).
    pub(crate) async fn insert_key(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        merchant: &str,
        secret: &str,
        name: &str,
        scopes: Scopes,
        expires_at: Option<i64>,
    ) -> Result<String, StoreError> {
        let id = format!("key_{}", hex::encode(rand::random::<[u8; 6]>()));
        sqlx::query(
            "INSERT INTO api_keys (key_hash, merchant_id, created_at, id, name, prefix, scopes, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(key_hash(secret))
        .bind(merchant)
        .bind(crate::now_ms())
        .bind(&id)
        .bind(name)
        .bind(prefix_of(secret))
        .bind(scopes.stored())
        .bind(expires_at)
        .execute(&mut **tx)
        .await?;
        Ok(id)
    }

    /// Let key `id` work until `until` at the latest (within `tx`).
    async fn end_key_by(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        merchant: &str,
        id: &str,
        until: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_keys SET expires_at = CASE WHEN expires_at IS NULL OR expires_at > $1 THEN $1 ELSE expires_at END \
             WHERE merchant_id = $2 AND id = $3",
        )
        .bind(until)
        .bind(merchant)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Revoke key `id` (once).
    async fn revoke_key(&self, merchant: &str, id: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE merchant_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(merchant)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn keys(&self, merchant: &str) -> Result<Vec<KeyView>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, prefix, scopes, created_at, expires_at, revoked_at, last_used_at, last_used_ip \
             FROM api_keys WHERE merchant_id = $1 ORDER BY created_at, id",
        )
        .bind(merchant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let scopes: String = r.try_get(3)?;
                Ok(KeyView {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    prefix: r.try_get(2)?,
                    scopes: Scopes::parse(&scopes).list(),
                    created_at: r.try_get(4)?,
                    expires_at: r.try_get(5)?,
                    revoked_at: r.try_get(6)?,
                    last_used_at: r.try_get(7)?,
                    last_used_ip: r.try_get(8)?,
                    key: None,
                })
            })
            .collect()
    }
}

/// A key as the merchant sees it (never its secret, except once).
#[derive(serde::Serialize, utoipa::ToSchema, Clone)]
pub struct KeyView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its first characters, to recognise it.
    pub prefix: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Created, ms since epoch.
    pub created_at: i64,
    /// Stops working at (ms), if set.
    pub expires_at: Option<i64>,
    /// Revoked at (ms), if it was.
    pub revoked_at: Option<i64>,
    /// Last used at (ms; written at most once a minute).
    pub last_used_at: Option<i64>,
    /// The address it was last used from.
    pub last_used_ip: Option<String>,
    /// The key itself: only in the answer that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A merchant's keys.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct KeyList {
    /// Oldest first, revoked ones included.
    pub keys: Vec<KeyView>,
}

/// A new key.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// A name to recognise it by (1-64 characters).
    pub name: String,
    /// What it may do (at least one).
    pub scopes: Vec<Scope>,
    /// When it stops working (ms since epoch), if ever.
    pub expires_at: Option<i64>,
}

/// Rolling a key.
#[derive(serde::Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Roll {
    /// How long the old key keeps working (hours, up to 720; default 24).
    pub grace_hours: Option<f64>,
}

fn view_of(keys: Vec<KeyView>, id: &str) -> Result<KeyView, ApiError> {
    keys.into_iter()
        .find(|k| k.id == id)
        .ok_or_else(|| ApiError::not_found(format!("no key `{id}`")))
}

/// `GET /v1/merchants/{m}/keys`: the merchant's keys (never the secrets).
#[utoipa::path(get, path = "/v1/merchants/{merchant}/keys", tag = "keys", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "The keys", body = KeyList)))]
pub async fn list(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    let keys = state.store.keys(&merchant).await?;
    Ok(axum::Json(KeyList { keys }).into_response())
}

/// `POST /v1/merchants/{m}/keys`: a new key, shown only in this answer.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/keys", tag = "keys", params(("merchant" = String, Path, description = "Merchant id")), request_body = NewKey, responses((status = 201, description = "Created; `key` is shown only this once", body = KeyView)))]
pub async fn create(
    State(state): State<AppState>,
    ForMerchant {
        merchant, actor, ..
    }: ForMerchant,
    JsonBody(input): JsonBody<NewKey>,
) -> Result<Response, ApiError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::unprocessable(
            Code::InvalidKeyRequest,
            "a key's name has 1 to 64 characters",
        ));
    }
    if input.scopes.is_empty() {
        return Err(ApiError::unprocessable(
            Code::InvalidKeyRequest,
            "a key needs at least one scope: read, write, import, policies, keys, members or support",
        ));
    }
    if input.expires_at.is_some_and(|e| e <= crate::now_ms()) {
        return Err(ApiError::unprocessable(
            Code::InvalidKeyRequest,
            "expires_at is in the past",
        ));
    }
    let secret = new_secret();
    let mut tx = state.store.write_tx().await.map_err(StoreError::from)?;
    let id = state
        .store
        .insert_key(
            &mut tx,
            &merchant,
            &secret,
            name,
            Scopes::from_list(&input.scopes),
            input.expires_at,
        )
        .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let mut view = view_of(state.store.keys(&merchant).await?, &id)?;
    audit(&state, &merchant, "create", &actor, &view).await?;
    view.key = Some(secret);
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// Record a change to `key` in the audit log (never its secret).
async fn audit(
    state: &AppState,
    merchant: &str,
    action: &str,
    actor: &str,
    key: &KeyView,
) -> Result<(), StoreError> {
    let detail = serde_json::json!({"id": key.id, "name": key.name, "prefix": key.prefix, "scopes": key.scopes});
    state
        .store
        .record_event(merchant, "keys", action, actor, &detail)
        .await
}

/// `POST /v1/merchants/{m}/keys/{id}/roll`: a new key with the same name
/// and scopes; the old one keeps working for the grace period, then stops.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/keys/{id}/roll", tag = "keys", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Key id")), request_body = Roll, responses((status = 201, description = "The new key; `key` is shown only this once", body = KeyView)))]
pub async fn roll(
    State(state): State<AppState>,
    ForMerchant {
        merchant, actor, ..
    }: ForMerchant,
    Path((_, id)): Path<(String, String)>,
    MaybeJson(input): MaybeJson<Roll>,
) -> Result<Response, ApiError> {
    let grace = input.unwrap_or_default().grace_hours.unwrap_or(24.0);
    if !(0.0..=f64::from(MAX_GRACE_HOURS)).contains(&grace) {
        return Err(ApiError::unprocessable(
            Code::InvalidKeyRequest,
            format!("grace_hours is between 0 and {MAX_GRACE_HOURS}"),
        ));
    }
    let old = view_of(state.store.keys(&merchant).await?, &id)?;
    if old.revoked_at.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::KeyRevoked,
            format!("key `{id}` is revoked; create a new one instead"),
        ));
    }
    let now = crate::now_ms();
    let until = now + (grace * 3_600_000.0) as i64;
    let secret = new_secret();
    let mut tx = state.store.write_tx().await.map_err(StoreError::from)?;
    let new_id = state
        .store
        .insert_key(
            &mut tx,
            &merchant,
            &secret,
            &old.name,
            Scopes::from_list(&old.scopes),
            old.expires_at,
        )
        .await?;
    Store::end_key_by(&mut tx, &merchant, &id, until).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let mut view = view_of(state.store.keys(&merchant).await?, &new_id)?;
    audit(&state, &merchant, "roll", &actor, &old).await?;
    view.key = Some(secret);
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// `DELETE /v1/merchants/{m}/keys/{id}`: revoke a key; it stops working
/// on every replica within a second. The last live key that can manage
/// keys cannot be revoked (the merchant would be locked out).
#[utoipa::path(delete, path = "/v1/merchants/{merchant}/keys/{id}", tag = "keys", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Key id")), responses((status = 200, description = "Revoked", body = KeyView)))]
pub async fn revoke(
    State(state): State<AppState>,
    ForMerchant {
        merchant, actor, ..
    }: ForMerchant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let keys = state.store.keys(&merchant).await?;
    let now = crate::now_ms();
    let live = |k: &KeyView| k.revoked_at.is_none() && k.expires_at.is_none_or(|e| now < e);
    let target = view_of(keys.clone(), &id)?;
    let managers = keys
        .iter()
        .filter(|k| live(k) && k.scopes.contains(&Scope::Keys))
        .count();
    if live(&target) && target.scopes.contains(&Scope::Keys) && managers <= 1 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::LastKey,
            "this is the last key that can manage keys: create another one first",
        ));
    }
    state.store.revoke_key(&merchant, &id, now).await?;
    audit(&state, &merchant, "revoke", &actor, &target).await?;
    Ok(axum::Json(view_of(state.store.keys(&merchant).await?, &id)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_survive_storage_and_the_default_rule_is_by_method() {
        let s = Scopes::from_list(&[Scope::Read, Scope::Import]);
        assert_eq!(Scopes::parse(&s.stored()), s);
        assert!(s.has(Scope::Import) && !s.has(Scope::Write));
        assert_eq!(Scopes::parse(&Scopes::all().stored()).list().len(), 7);
        let mut p = Permissions::default();
        p.set("POST", "/v1/merchants/{merchant}/events", Scope::Import);
        assert_eq!(p.needs(&Method::GET, "/v1/x").scope, Scope::Read);
        assert_eq!(p.needs(&Method::DELETE, "/v1/x").scope, Scope::Write);
        assert_eq!(
            p.needs(&Method::POST, "/v1/merchants/{merchant}/events")
                .scope,
            Scope::Import
        );
        // Customer service may decide a return: a write, opened to it.
        p.set("POST", "/v1/r/{id}/decision", Scope::Support);
        let need = p.needs(&Method::POST, "/v1/r/{id}/decision");
        assert_eq!(need.names(), ["write", "support"]);
        assert!(Scopes::from_list(&[Scope::Support]).meets(need));
        assert!(Scopes::from_list(&[Scope::Write]).meets(need));
        assert!(!Scopes::from_list(&[Scope::Read]).meets(need));
    }
}
