//! Console sessions: a team member signs in with e-mail and password (or,
//! for the first setup, someone with a key of every scope signs in with
//! it) and gets an `HttpOnly`, `SameSite=Strict` cookie (`Secure` behind
//! TLS). A session carries its member's scopes and name for the records. The cookie
//! then stands in for the key on the merchant's own endpoints; every write
//! made with it must carry the session's CSRF token in `x-cove-csrf`.
//!
//! The store keeps only hashes of the cookie tokens, so a database leak
//! signs nobody in. Replicas cache a session for at most
//! [`CACHE_MS`]: a sign-out on one replica holds on all within that time.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::Row;

use super::http::{ApiError, key_hash};
use super::keys::Scopes;
use super::store::{Store, StoreError};
use crate::AppState;
use crate::platform::http::Code;

/// The cookie's name.
pub const COOKIE: &str = "cove_session";
/// How long a session lasts after sign-in.
pub const LIFETIME_MS: i64 = 12 * 3_600_000;
/// How long a replica trusts its cached copy of a session: a removed
/// member or a changed role holds on every replica within this.
pub const CACHE_MS: i64 = 1_000;

/// A signed-in member (or key holder).
#[derive(Clone, Debug)]
pub struct Session {
    /// The merchant.
    pub merchant: String,
    /// The member's e-mail address (none: signed in with a key).
    pub member: Option<String>,
    /// What the session may do (the member's role's scopes).
    pub scopes: Scopes,
    /// Who acts, for the audit log (`member:EMAIL`, or the key).
    pub actor: String,
    /// What writes must echo in `x-cove-csrf`.
    pub csrf: String,
    /// End of the session, ms since epoch.
    pub expires_at: i64,
    cached_at: i64,
}

/// Sessions by token hash, cached in front of the store.
#[derive(Default)]
pub struct Sessions {
    cache: RwLock<HashMap<String, Session>>,
}

/// The session token in the request's cookie, if any.
pub fn token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .filter(|t| !t.is_empty())
}

impl Sessions {
    /// Start a session for `merchant`, by `member` (or a key) with
    /// `scopes`, acting as `actor`; returns the cookie token and the
    /// session.
    pub async fn start(
        &self,
        store: &Store,
        merchant: &str,
        member: Option<&str>,
        scopes: Scopes,
        actor: &str,
    ) -> Result<(String, Session), StoreError> {
        let token = hex::encode(rand::random::<[u8; 32]>());
        let now = crate::now_ms();
        let session = Session {
            merchant: merchant.to_string(),
            member: member.map(String::from),
            scopes,
            actor: actor.to_string(),
            csrf: hex::encode(rand::random::<[u8; 16]>()),
            expires_at: now + LIFETIME_MS,
            cached_at: now,
        };
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, merchant_id, csrf, created_at, expires_at, member, scopes, actor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(key_hash(&token))
        .bind(merchant)
        .bind(&session.csrf)
        .bind(now)
        .bind(session.expires_at)
        .bind(member)
        .bind(scopes.stored())
        .bind(actor)
        .execute(&store.pool)
        .await?;
        // Sign-ins are rare: a good moment to forget expired sessions.
        sqlx::query("DELETE FROM console_sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&store.pool)
            .await?;
        Ok((token, session))
    }

    /// The live session behind `token`, if any.
    pub async fn find(&self, store: &Store, token: &str) -> Result<Option<Session>, StoreError> {
        let hash = key_hash(token);
        let now = crate::now_ms();
        if let Some(s) = self.cache.read().expect("session cache").get(&hash)
            && now - s.cached_at < CACHE_MS
        {
            return Ok((s.expires_at > now).then(|| s.clone()));
        }
        let row = sqlx::query(
            "SELECT merchant_id, csrf, expires_at, member, scopes, actor FROM console_sessions WHERE token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&store.pool)
        .await?;
        let mut cache = self.cache.write().expect("session cache");
        let Some(row) = row else {
            cache.remove(&hash);
            return Ok(None);
        };
        let scopes: String = row.try_get(4)?;
        let session = Session {
            merchant: row.try_get(0)?,
            csrf: row.try_get(1)?,
            expires_at: row.try_get(2)?,
            member: row.try_get(3)?,
            scopes: Scopes::parse(&scopes),
            actor: row.try_get(5)?,
            cached_at: now,
        };
        cache.retain(|_, s| s.expires_at > now);
        cache.insert(hash, session.clone());
        Ok((session.expires_at > now).then_some(session))
    }

    /// Forget this replica's copies of `member`'s sessions at `merchant`
    /// (their role changed, or they left).
    pub fn forget_member(&self, merchant: &str, member: &str) {
        self.cache
            .write()
            .expect("session cache")
            .retain(|_, s| !(s.merchant == merchant && s.member.as_deref() == Some(member)));
    }

    /// End the session behind `token`.
    pub async fn end(&self, store: &Store, token: &str) -> Result<(), StoreError> {
        let hash = key_hash(token);
        self.cache.write().expect("session cache").remove(&hash);
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(&hash)
            .execute(&store.pool)
            .await?;
        Ok(())
    }
}

/// The `Set-Cookie` value for `token` (empty: clear it). `Secure` when the
/// request reached a TLS front (`x-forwarded-proto: https`).
pub fn cookie(headers: &HeaderMap, token: &str) -> String {
    let secure = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let max_age = if token.is_empty() {
        0
    } else {
        LIFETIME_MS / 1000
    };
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Middleware: a write that may rely on the session cookie (no bearer
/// token) must echo the session's CSRF token in `x-cove-csrf`. The
/// widget's public requests carry no cookie (`credentials: "omit"`).
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let headers = req.headers();
    if safe || headers.contains_key(header::AUTHORIZATION) {
        return next.run(req).await;
    }
    let Some(token) = token(headers) else {
        return next.run(req).await;
    };
    let session = match state.sessions.find(&state.store, token).await {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let sent = headers.get("x-cove-csrf").map(|v| v.as_bytes());
    match session {
        // Signing in again over a stale cookie needs no token.
        None => next.run(req).await,
        Some(s) if sent.is_some_and(|t| super::http::constant_time_eq(t, s.csrf.as_bytes())) => {
            next.run(req).await
        }
        Some(_) => ApiError::new(
            StatusCode::FORBIDDEN,
            Code::CsrfTokenMissing,
            "this change came with the console's cookie but without its `x-cove-csrf` token; reload the console and try again",
        )
        .into_response(),
    }
}
