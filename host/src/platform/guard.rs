//! The public guard in front of `/public/v1/{merchant}/…`, the endpoints a
//! visitor's browser calls: it admits only the merchant's allowed origins
//! (and the host's own pages), answers CORS preflights, and rate-limits
//! each visitor with a token bucket. Also the token buckets themselves,
//! which the per-merchant limits use too.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;

use super::http::ApiError;
use crate::AppState;
use crate::platform::http::Code;

/// How long public data may be served from memory before the store is
/// asked again (also how long another replica's change may take to show).
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// Largest body a visitor may send.
pub const MAX_PUBLIC_BODY: usize = 64 << 10;

/// One key's token bucket.
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Most keys a [`RateLimiter`] remembers.
const MAX_BUCKETS: usize = 100_000;

/// Token buckets by key: `burst` requests at once, then `per_sec`.
pub struct RateLimiter<K> {
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq> Default for RateLimiter<K> {
    fn default() -> Self {
        RateLimiter {
            buckets: Mutex::default(),
        }
    }
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// How long `key` must wait for a token, if it has none now (taking
    /// nothing).
    pub fn wait<Q>(&self, key: &Q, burst: f64, per_sec: f64) -> Option<Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let buckets = self.buckets.lock().expect("buckets");
        let b = buckets.get(key)?;
        let tokens = (b.tokens + b.at.elapsed().as_secs_f64() * per_sec).min(burst);
        (tokens < 1.0).then(|| until_one(tokens, per_sec))
    }

    /// Take one token for `key`; the wait until the next one if there is
    /// none. A key seen before costs no allocation.
    pub fn take<Q>(&self, key: &Q, burst: f64, per_sec: f64) -> Result<(), Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut buckets = self.buckets.lock().expect("buckets");
        let now = Instant::now();
        let b = match buckets.get_mut(key) {
            Some(b) => b,
            None => {
                if buckets.len() > MAX_BUCKETS {
                    // Full buckets are the same as no bucket: forget them.
                    buckets.retain(|_, b| b.at.elapsed().as_secs_f64() * per_sec < burst);
                    if buckets.len() > MAX_BUCKETS {
                        // A flood of keys: memory stays bounded, at the
                        // cost of forgetting whom it limited.
                        buckets.clear();
                    }
                }
                buckets.entry(key.to_owned()).or_insert(Bucket {
                    tokens: burst,
                    at: now,
                })
            }
        };
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(until_one(b.tokens, per_sec))
        }
    }
}

/// Failures of one account (an e-mail address, a key's prefix) that cost
/// nothing; each after them doubles the wait, from one second up to
/// [`BACKOFF_MAX`].
pub const BACKOFF_FREE: u32 = 5;
/// The longest wait [`Backoff`] imposes.
pub const BACKOFF_MAX: Duration = Duration::from_secs(15 * 60);
/// A quiet hour forgets an account's failures.
const BACKOFF_FORGET: Duration = Duration::from_secs(3600);

/// Exponential waits after repeated failures, by account: after
/// [`BACKOFF_FREE`] failures the account waits 1 s, then 2 s, 4 s, … up
/// to [`BACKOFF_MAX`], whichever address the attempts come from. A
/// success forgets the failures.
pub struct Backoff {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    free: u32,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            failures: Mutex::default(),
            free: BACKOFF_FREE,
        }
    }
}

impl Backoff {
    /// How long `account` must still wait, if it must.
    pub fn wait(&self, account: &str) -> Option<Duration> {
        let map = self.failures.lock().expect("backoff");
        let (n, last) = map.get(account)?;
        let wait = self.penalty(*n).checked_sub(last.elapsed())?;
        (!wait.is_zero()).then_some(wait)
    }

    fn penalty(&self, n: u32) -> Duration {
        match n.checked_sub(self.free.saturating_add(1)) {
            None => Duration::ZERO,
            Some(k) => Duration::from_secs(1u64 << k.min(20)).min(BACKOFF_MAX),
        }
    }

    /// Count a failure of `account`; the wait it now has.
    pub fn failed(&self, account: &str) -> Duration {
        let mut map = self.failures.lock().expect("backoff");
        if map.len() >= MAX_BUCKETS && !map.contains_key(account) {
            map.retain(|_, (_, at)| at.elapsed() < BACKOFF_FORGET);
            if map.len() >= MAX_BUCKETS {
                map.clear();
            }
        }
        let e = map
            .entry(account.to_string())
            .or_insert((0, Instant::now()));
        if e.1.elapsed() > BACKOFF_FORGET {
            e.0 = 0;
        }
        e.0 = e.0.saturating_add(1);
        e.1 = Instant::now();
        self.penalty(e.0)
    }

    /// `account` got in: forget its failures.
    pub fn succeeded(&self, account: &str) {
        self.failures.lock().expect("backoff").remove(account);
    }
}

/// Wrong API keys, tokens or session cookies one address may send at
/// once by default (`--bad-auth-burst`); after that one per
/// [`BAD_AUTH_PER_SEC`], each wait a 429.
pub const BAD_AUTH_BURST: f64 = 20.0;
/// See [`BAD_AUTH_BURST`].
pub const BAD_AUTH_PER_SEC: f64 = 0.5;

/// Wrong proofs (an order number with the wrong e-mail, say) one claimed
/// thing may get at once; after that one per [`PROOF_PER_SEC`].
pub const PROOF_BURST: f64 = 10.0;
/// See [`PROOF_BURST`]: ten an hour.
pub const PROOF_PER_SEC: f64 = 10.0 / 3600.0;

/// The caller's address (see [`Public::client_ip`]).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            state.public.client_ip(&parts.headers, &parts.extensions),
        ))
    }
}

/// How long until a bucket holding `tokens` has one. A rate of 0 (an
/// operator's choice: only the burst, ever) waits an hour rather than
/// panicking with the lock held.
fn until_one(tokens: f64, per_sec: f64) -> Duration {
    Duration::try_from_secs_f64((1.0 - tokens) / per_sec).unwrap_or(Duration::from_secs(3600))
}

/// Limits of the public endpoints.
pub struct Public {
    visitors: RateLimiter<(String, IpAddr)>,
    /// Wrong credentials per address.
    bad_auth: RateLimiter<IpAddr>,
    /// Wrong proofs per claimed thing (hashed).
    proofs: RateLimiter<String>,
    /// Failed sign-ins per e-mail address and wrong keys per key prefix.
    pub accounts: Backoff,
    bad_auth_burst: f64,
    burst: f64,
    per_sec: f64,
    ip_header: Option<axum::http::HeaderName>,
}

impl Public {
    /// Limits of `burst` requests at once and `per_sec` after that, per
    /// visitor address: the peer's, or the first one in `ip_header` (such
    /// as `x-forwarded-for`, when a proxy in front sets it).
    pub fn new(burst: f64, per_sec: f64, ip_header: Option<axum::http::HeaderName>) -> Public {
        Public {
            visitors: RateLimiter::default(),
            bad_auth: RateLimiter::default(),
            proofs: RateLimiter::default(),
            accounts: Backoff::default(),
            bad_auth_burst: BAD_AUTH_BURST,
            burst,
            per_sec,
            ip_header,
        }
    }

    /// The caller's address: the first one in `ip_header` when the
    /// operator set one (a proxy in front), else the peer's.
    pub fn client_ip(
        &self,
        headers: &axum::http::HeaderMap,
        extensions: &axum::http::Extensions,
    ) -> IpAddr {
        let forwarded = self.ip_header.as_ref().and_then(|h| {
            let v = headers.get(h)?.to_str().ok()?;
            v.split(',').next()?.trim().parse::<IpAddr>().ok()
        });
        forwarded.unwrap_or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip())
        })
    }

    /// How long `ip` must wait before its credentials are looked at
    /// again, when it sent too many wrong ones.
    pub fn auth_blocked(&self, ip: IpAddr) -> Option<Duration> {
        self.bad_auth
            .wait(&ip, self.bad_auth_burst, BAD_AUTH_PER_SEC)
    }

    /// Count wrong credentials from `ip`.
    pub fn auth_failed(&self, ip: IpAddr) {
        let _ = self
            .bad_auth
            .take(&ip, self.bad_auth_burst, BAD_AUTH_PER_SEC);
    }

    /// How long a visitor must wait before trying to prove any of
    /// `claims` again (say an order number, or an e-mail), when one of
    /// them got too many wrong proofs, from any address.
    pub fn proof_blocked(&self, claims: &[&str]) -> Option<Duration> {
        claims
            .iter()
            .filter_map(|c| {
                self.proofs
                    .wait(&super::http::key_hash(c), PROOF_BURST, PROOF_PER_SEC)
            })
            .max()
    }

    /// Count a wrong proof against each of `claims`.
    pub fn proof_failed(&self, claims: &[&str]) {
        for c in claims {
            let _ = self
                .proofs
                .take(&super::http::key_hash(c), PROOF_BURST, PROOF_PER_SEC);
        }
    }

    /// Allow `burst` wrong credentials per address at once (default
    /// [`BAD_AUTH_BURST`]).
    pub fn with_bad_auth_burst(mut self, burst: f64) -> Public {
        self.bad_auth_burst = burst;
        // An operator who lets addresses fail more (a fuzzer's host) lets
        // accounts fail as many times before they wait.
        if burst > BAD_AUTH_BURST {
            self.accounts.free = burst.min(f64::from(u32::MAX)) as u32;
        }
        self
    }

    /// Take one token for visitor `ip` at `merchant`.
    fn take(&self, merchant: &str, ip: IpAddr) -> Result<(), Duration> {
        self.visitors
            .take(&(merchant.to_string(), ip), self.burst, self.per_sec)
    }
}

/// `routes` (under `/public/v1/{merchant}/`) behind the guard, each
/// path also answering CORS preflights (`OPTIONS`), which the guard answers.
pub fn public(state: &AppState, routes: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    let paths: Vec<String> = routes.get_openapi().paths.paths.keys().cloned().collect();
    let mut routes = routes;
    for path in paths {
        debug_assert!(path.starts_with("/public/v1/{merchant}/"));
        routes = routes.route(&path, axum::routing::options(preflight));
    }
    routes.route_layer(axum::middleware::from_fn_with_state(state.clone(), guard))
}

/// The `OPTIONS` handler of a public route: it only has to exist, so that
/// CORS preflights reach the guard, which answers them.
pub async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// The guard in front of `/public/v1/{merchant}/…`.
async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let merchant = match axum::extract::RawPathParams::from_request_parts(&mut parts, &state).await
    {
        Ok(params) => params
            .iter()
            .find(|(name, _)| *name == "merchant")
            .map_or_else(String::new, |(_, v)| v.to_string()),
        Err(e) => return e.into_response(),
    };
    let req = Request::from_parts(parts, body);
    let ip = state.public.client_ip(req.headers(), req.extensions());
    let origin = req.headers().get(header::ORIGIN).cloned();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let origin = match check(&state, &merchant, origin, &host, ip, write).await {
        Ok(origin) => origin,
        Err(res) => return res,
    };
    let preflight = req.method() == Method::OPTIONS;
    let mut res = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if preflight {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type, x-return-token"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            );
        }
    }
    res
}

/// Checks, in this order, that the merchant id is well formed, the
/// visitor's rate, that the merchant exists and the origin is one of its
/// allowed ones (so a made-up merchant costs no look-up before the
/// rate); a write must name its origin, as browsers always do on one.
/// Returns the origin to echo in CORS headers.
async fn check(
    state: &AppState,
    merchant: &str,
    origin: Option<HeaderValue>,
    host: &str,
    ip: IpAddr,
    write: bool,
) -> Result<Option<HeaderValue>, Response> {
    if !super::http::valid_id(merchant) {
        return Err(ApiError::not_found("no such merchant").into_response());
    }
    if let Err(wait) = state.public.take(merchant, ip) {
        return Err(
            ApiError::too_many(wait, "too many requests from this visitor").into_response(),
        );
    }
    let origins = state.features.iter().find_map(|f| f.allowed_origins);
    let allowed = match origins {
        Some(allowed_origins) => allowed_origins(state, merchant).await,
        None => Ok(Some(Vec::new())),
    };
    let allowed = match allowed {
        Ok(Some(allowed)) => allowed,
        Ok(None) => {
            return Err(ApiError::not_found(format!("no merchant `{merchant}`")).into_response());
        }
        Err(e) => return Err(e.into_response()),
    };
    let Some(o) = &origin else {
        if write {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                Code::OriginRequired,
                "a widget's writes come from a web page, and a page's requests name their origin; this one names none",
            )
            .into_response());
        }
        return Ok(None);
    };
    let o = o.to_str().unwrap_or("");
    let same_site = o.split_once("://").is_some_and(|(_, h)| h == host);
    if !same_site && !allowed.iter().any(|a| a == o) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Code::OriginNotAllowed,
            format!("pages on `{o}` may not use this merchant's widget; add the origin to the widget settings' allowed_origins"),
        )
        .into_response());
    }
    Ok(origin)
}

#[cfg(test)]
mod tests {

    #[test]
    fn backoff_doubles_after_the_free_failures_and_a_success_forgets() {
        let b = Backoff::default();
        for _ in 0..BACKOFF_FREE {
            assert_eq!(b.failed("a@b.co"), Duration::ZERO);
        }
        assert!(b.wait("a@b.co").is_none());
        assert_eq!(b.failed("a@b.co"), Duration::from_secs(1));
        assert_eq!(b.failed("a@b.co"), Duration::from_secs(2));
        assert_eq!(b.failed("a@b.co"), Duration::from_secs(4));
        assert!(b.wait("a@b.co").is_some_and(|w| w > Duration::from_secs(3)));
        assert!(b.wait("c@d.co").is_none(), "another account is not touched");
        for _ in 0..40 {
            b.failed("a@b.co");
        }
        assert_eq!(b.wait("a@b.co").map(|w| w <= BACKOFF_MAX), Some(true));
        b.succeeded("a@b.co");
        assert!(b.wait("a@b.co").is_none());
    }

    use super::*;

    #[test]
    fn a_visitor_runs_out_of_tokens_and_others_do_not() {
        let p = Public::new(3.0, 0.001, None);
        let a = IpAddr::from([10, 0, 0, 1]);
        assert!((0..3).all(|_| p.take("m", a).is_ok()));
        assert!(p.take("m", a).is_err());
        assert!(p.take("m", IpAddr::from([10, 0, 0, 2])).is_ok());
        assert!(p.take("other", a).is_ok());
    }

    #[test]
    fn a_rate_of_zero_refuses_after_the_burst_without_panicking() {
        let p = Public::new(1.0, 0.0, None);
        let a = IpAddr::from([10, 0, 0, 1]);
        assert!(p.take("m", a).is_ok());
        assert_eq!(p.take("m", a), Err(Duration::from_secs(3600)));
        assert_eq!(p.take("m", a), Err(Duration::from_secs(3600)));
    }
}
