//! The merchant console at `/console`: one page per feature, in English
//! and Simplified Chinese, over the same JSON API as everything else.
//!
//! The server side is small: the page shell with a strict CSP (no inline
//! script or style), the console's files (cached forever under a content
//! hash), sign-in and sign-out ([`crate::platform::session`]), and the
//! overview's numbers. Each page is one ES module, served beside `app.js`:
//! a feature registers its own ([`Feature::console`]); the shell lists
//! them, in the order of [`crate::FEATURES`], for `app.js` to load.

mod overview;

use std::collections::HashMap;
use std::path::Path as FsPath;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::platform::feature::{ConsolePage, Feature};
use crate::platform::guard::ClientIp;
use crate::platform::http::Code;
use crate::platform::http::{ApiError, Caller, JsonBody, caller, gzip, gzipped};
use crate::platform::keys::Scopes;
use crate::platform::{session, team};

/// The console's own files: name, content type, text.
const FILES: &[(&str, &str, &str)] = &[
    ("app.js", JS, include_str!("assets/app.js")),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("assets/app.css"),
    ),
    ("ui.js", JS, include_str!("assets/ui.js")),
];
const JS: &str = "text/javascript; charset=utf-8";

/// The charting library (Chart.js, from npm via `scripts/build-widget`),
/// looked for in the built web files.
const CHART_FILE: &str = "chart.umd.min.js";

/// The policy every console response is served under: nothing inline,
/// nothing from elsewhere, never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console, as registered with the platform: the overview first (the
/// home page; `app.js` puts it first in the navigation), the policies
/// page and the API keys page, over the platform's own endpoints.
pub const FEATURE: Feature = Feature {
    name: "console",
    routes,
    console: &[
        ConsolePage::new("overview.js", include_str!("assets/pages/overview.js")),
        ConsolePage::new("policies.js", include_str!("assets/pages/policies.js")),
        ConsolePage::new("keys.js", include_str!("assets/pages/keys.js")),
        ConsolePage::new("team.js", include_str!("assets/pages/team.js")),
        ConsolePage::new("account.js", include_str!("assets/pages/account.js")),
    ],
    state: Some(|settings| {
        Ok(std::sync::Arc::new(Assets::load(
            settings.widget_dir.as_deref(),
            crate::FEATURES,
        )))
    }),
    ..Feature::EMPTY
};

/// The console's files, gzipped once, under one content hash.
pub struct Assets {
    version: String,
    files: HashMap<String, (&'static str, Vec<u8>)>,
    /// The pages' files, in navigation order.
    pages: Vec<&'static str>,
    /// Whether the charting library was found.
    pub charts: bool,
}

impl Assets {
    /// The embedded files and every feature's pages, plus Chart.js from
    /// `web_dir` if it is there (without it the console shows its tables
    /// and no charts).
    pub fn load(web_dir: Option<&FsPath>, features: &[&Feature]) -> Assets {
        let mut hash = Sha256::new();
        let mut files = HashMap::new();
        let pages: Vec<&ConsolePage> = features.iter().flat_map(|f| f.console).collect();
        let own = FILES
            .iter()
            .map(|(name, content_type, text)| (*name, *content_type, *text));
        for (name, content_type, text) in own.chain(pages.iter().map(|p| (p.file, JS, p.js))) {
            hash.update(text.as_bytes());
            files.insert(name.to_string(), (content_type, gzip(text.as_bytes())));
        }
        let chart = web_dir.and_then(|d| std::fs::read(d.join(CHART_FILE)).ok());
        let charts = chart.is_some();
        if let Some(bytes) = chart {
            hash.update(&bytes);
            files.insert("chart.js".into(), (JS, gzip(&bytes)));
        }
        Assets {
            version: hex::encode(&hash.finalize()[..6]),
            files,
            pages: pages.iter().map(|p| p.file).collect(),
            charts,
        }
    }

    /// Gzipped bytes of every file, for the first-load figure.
    pub fn gz_total(&self) -> usize {
        self.files.values().map(|(_, gz)| gz.len()).sum()
    }
}

/// The console's routes: the shell, its files, sessions and the overview.
fn routes(_state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(shell))
        .routes(routes!(file))
        .routes(routes!(sign_in, whoami, sign_out))
        .routes(routes!(invitation, accept))
        .routes(routes!(totp_offer, totp_on, totp_off))
        .routes(routes!(overview::overview))
}

fn secured(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    res
}

/// `GET /console`: the page shell; the pages render in the browser.
#[utoipa::path(get, path = "/console", tag = "console", responses((status = 200, description = "The console's page", body = String, content_type = "text/html")))]
pub async fn shell(State(state): State<AppState>) -> Response {
    let v = &state.get::<Assets>().version;
    // Everything app.js imports, and the charts, load at once rather than
    // one after another.
    let pages = state.get::<Assets>().pages.join(" ");
    let mut preload: String = std::iter::once("ui.js")
        .chain(state.get::<Assets>().pages.iter().copied())
        .map(|name| format!("<link rel=\"modulepreload\" href=\"/console/{v}/{name}\">"))
        .collect();
    if state.get::<Assets>().charts {
        preload += &format!("<link rel=\"preload\" as=\"script\" href=\"/console/{v}/chart.js\">");
    }
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Cove</title><link rel=\"stylesheet\" href=\"/console/{v}/app.css\">{preload}\
         <script type=\"module\" src=\"/console/{v}/app.js\" data-charts=\"{}\" data-pages=\"{pages}\"></script></head>\
         <body><div id=\"app\" aria-live=\"polite\"></div>\
         <noscript>The Cove console needs JavaScript. 控制台需要启用 JavaScript。</noscript></body></html>",
        state.get::<Assets>().charts
    );
    let mut res = (
        [(header::CACHE_CONTROL, "no-cache")],
        axum::response::Html(html),
    )
        .into_response();
    res = secured(res);
    res
}

/// `GET /console/{version}/{file}`: a console file, cached forever.
#[utoipa::path(get, path = "/console/{version}/{file}", tag = "console", params(("version" = String, Path, description = "Content hash from the shell"), ("file" = String, Path, description = "app.js, app.css, ui.js, chart.js or a page's module (kb.js, …)")), responses((status = 200, description = "The file", body = String, content_type = "text/javascript")))]
pub async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((version, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let Some((content_type, gz)) = state.get::<Assets>().files.get(&name) else {
        return Err(ApiError::not_found(format!("no console file `{name}`")));
    };
    let cache = if version == state.get::<Assets>().version {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok(secured(gzipped(&headers, gz, content_type, cache)))
}

/// A sign-in to the console: a member's e-mail address and password (and
/// one-time code, if they set one up), or, for the first setup, a key
/// with every scope.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The member's e-mail address.
    email: Option<String>,
    /// Their password.
    password: Option<String>,
    /// The authenticator app's current code, for members who set one up.
    code: Option<String>,
    /// The shop, for a member of several.
    merchant: Option<String>,
    /// Instead: a merchant API key with every scope (the first setup,
    /// before the team has an owner).
    key: Option<String>,
}

/// Who is signed in to the console.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SessionNow {
    /// The merchant.
    pub merchant: String,
    /// The token every write must echo in `x-csrf-token`; null for an API
    /// key, which needs none.
    pub csrf: Option<String>,
    /// When the session ends (ms since the epoch); absent for an API key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Who: `member:EMAIL`, or the key.
    pub actor: String,
    /// The member's e-mail address (absent when signed in with a key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// What the session may do; the console shows only that.
    pub scopes: Vec<crate::platform::keys::Scope>,
}

fn session_body(s: &session::Session) -> SessionNow {
    SessionNow {
        merchant: s.merchant.clone(),
        csrf: Some(s.csrf.clone()),
        expires_at: Some(s.expires_at),
        actor: s.actor.clone(),
        member: s.member.clone(),
        scopes: s.scopes.list(),
    }
}

/// Answer with a new session for `member` (or a key) and its cookie.
async fn open_session(
    state: &AppState,
    headers: &HeaderMap,
    merchant: &str,
    member: Option<&str>,
    scopes: Scopes,
    actor: &str,
) -> Result<Response, ApiError> {
    let (token, s) = state
        .sessions
        .start(&state.store, merchant, member, scopes, actor)
        .await?;
    let mut res = (StatusCode::CREATED, axum::Json(session_body(&s))).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&session::cookie(headers, &token)).map_err(ApiError::internal)?,
    );
    Ok(res)
}

/// Answer with a new session for member `m` and its cookie.
async fn member_session(
    state: &AppState,
    headers: &HeaderMap,
    m: &team::SignedIn,
) -> Result<Response, ApiError> {
    let scopes = m.role.scopes();
    open_session(
        state,
        headers,
        &m.merchant,
        Some(&m.email),
        scopes,
        &m.actor(),
    )
    .await
}

/// 429 while `ip` or `account` must wait after failed sign-ins.
fn throttled(state: &AppState, ip: std::net::IpAddr, account: &str) -> Result<(), ApiError> {
    let wait = [
        state.public.auth_blocked(ip),
        state.public.accounts.wait(account),
    ]
    .into_iter()
    .flatten()
    .max();
    match wait {
        Some(w) => Err(ApiError::too_many(
            w,
            "too many failed sign-ins; wait a little and try again",
        )),
        None => Ok(()),
    }
}

/// Count a failed sign-in against `ip` and `account`.
fn failed(state: &AppState, ip: std::net::IpAddr, account: &str) {
    state.public.auth_failed(ip);
    state.public.accounts.failed(account);
}

/// `POST /console/session`: sign in with e-mail and password (or a key
/// with every scope); answers with the session cookie and the CSRF token
/// writes must echo. Failures are throttled per address and per account.
#[utoipa::path(post, path = "/console/session", tag = "console", request_body = SignIn, responses((status = 201, description = "Signed in; the cookie is set", body = SessionNow)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    JsonBody(req): JsonBody<SignIn>,
) -> Result<Response, ApiError> {
    if let (Some(email), Some(password)) = (&req.email, &req.password) {
        let account = format!(
            "email:{}",
            team::normal_email(email).unwrap_or_else(|| email.trim().to_lowercase())
        );
        throttled(&state, ip, &account)?;
        return match team::check(
            &state,
            email,
            password,
            req.code.as_deref(),
            req.merchant.as_deref(),
        )
        .await
        {
            Ok(m) => {
                state.public.accounts.succeeded(&account);
                member_session(&state, &headers, &m).await
            }
            Err(e) => {
                // Asking for the code is not a failure: the password was right.
                if e.code() != Code::TotpNeeded && e.code() != Code::ChooseMerchant {
                    failed(&state, ip, &account);
                }
                Err(e)
            }
        };
    }
    let Some(key) = req.key else {
        return Err(ApiError::unprocessable(
            Code::InvalidMemberRequest,
            "sign in with `email` and `password`",
        ));
    };
    let mut with_key = HeaderMap::new();
    let bearer = HeaderValue::from_str(&format!("Bearer {}", key.trim()))
        .map_err(|_| ApiError::bad_request(Code::InvalidKey, "that is not an API key"))?;
    with_key.insert(header::AUTHORIZATION, bearer);
    match caller(&state, &with_key, ip).await {
        // A key session may do anything its merchant may, so only a key
        // with every scope opens one.
        Ok(Caller::Merchant(k)) if k.scopes == Scopes::all() => {
            open_session(&state, &headers, &k.merchant, None, k.scopes, &k.actor()).await
        }
        Ok(Caller::Merchant(k)) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Code::MissingPermission,
            format!(
                "the key `{}` is limited to some scopes; the console needs a key with every scope",
                k.name
            ),
        )),
        Ok(Caller::Operator { .. }) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Code::OperatorToken,
            "the console is for merchants: sign in with a merchant's API key, not the operator token",
        )),
        Err(e) if e.status() == StatusCode::TOO_MANY_REQUESTS => Err(e),
        Err(_) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            Code::UnknownKey,
            "this API key is not known; check it was copied whole",
        )),
    }
}

/// `GET /console/session`: who is signed in, what they may do, and the
/// CSRF token (for an API key: whose it is).
#[utoipa::path(get, path = "/console/session", tag = "console", responses((status = 200, description = "The session", body = SessionNow)))]
pub async fn whoami(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        // A key holder: whose key it is, and no CSRF token (keys need none).
        return match caller(&state, &headers, ip).await? {
            Caller::Merchant(k) => Ok(axum::Json(SessionNow {
                actor: k.actor(),
                merchant: k.merchant,
                csrf: None,
                expires_at: None,
                member: None,
                scopes: k.scopes.list(),
            })
            .into_response()),
            Caller::Operator { .. } => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                Code::OperatorToken,
                "the operator has no console session",
            )),
        };
    }
    Ok(axum::Json(session_body(&signed_in(&state, &headers).await?)).into_response())
}

/// The console session of this request, or 401 `signed_out`.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<session::Session, ApiError> {
    let found = match session::token(headers) {
        Some(t) => state.sessions.find(&state.store, t).await?,
        None => None,
    };
    found.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            Code::SignedOut,
            "not signed in to the console",
        )
    })
}

/// `GET /console/invitations/{token}`: what an invitation link offers
/// (the shop, the role, whether a password exists already, a one-time
/// code secret to set up).
#[utoipa::path(get, path = "/console/invitations/{token}", tag = "console", params(("token" = String, Path, description = "The invitation link's token")), responses((status = 200, description = "The invitation", body = team::InvitationView)))]
pub async fn invitation(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    throttled(&state, ip, "invitations")?;
    match team::show_invitation(&state, &token).await {
        Ok(v) => Ok(axum::Json(v).into_response()),
        Err(e) => {
            state.public.auth_failed(ip);
            Err(e)
        }
    }
}

/// `POST /console/invitations/{token}`: accept an invitation (choose a
/// password, or enter yours; optionally set up a one-time code) and sign
/// in. A link works once.
#[utoipa::path(post, path = "/console/invitations/{token}", tag = "console", params(("token" = String, Path, description = "The invitation link's token")), request_body = team::Accept, responses((status = 201, description = "Joined and signed in; the cookie is set", body = SessionNow)))]
pub async fn accept(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    JsonBody(input): JsonBody<team::Accept>,
) -> Result<Response, ApiError> {
    throttled(&state, ip, "invitations")?;
    match team::accept(&state, &token, input).await {
        Ok(m) => member_session(&state, &headers, &m).await,
        Err(e) => {
            if matches!(e.code(), Code::InvalidInvitation | Code::SignInFailed) {
                state.public.auth_failed(ip);
            }
            Err(e)
        }
    }
}

/// The member signed in, with their role, or 403 for a key session.
async fn member(state: &AppState, headers: &HeaderMap) -> Result<team::SignedIn, ApiError> {
    let s = signed_in(state, headers).await?;
    let Some(email) = s.member else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Code::Forbidden,
            "one-time codes are for members; you signed in with a key",
        ));
    };
    let role = team::Role::of_scopes(s.scopes);
    Ok(team::SignedIn {
        merchant: s.merchant,
        email,
        role,
    })
}

/// `GET /console/totp`: a fresh one-time-code secret to set up.
#[utoipa::path(get, path = "/console/totp", tag = "console", responses((status = 200, description = "A secret to scan or type in", body = team::TotpSetup)))]
pub async fn totp_offer(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let m = member(&state, &headers).await?;
    Ok(axum::Json(team::propose_totp(&m.email, &m.merchant)).into_response())
}

/// Turning one-time codes on or off.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpChange {
    /// The secret from `GET /console/totp` (to turn codes on).
    secret: Option<String>,
    /// The app's current code.
    code: String,
}

/// `PUT /console/totp`: sign in with one-time codes from now on.
#[utoipa::path(put, path = "/console/totp", tag = "console", request_body = TotpChange, responses((status = 204, description = "On")))]
pub async fn totp_on(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<TotpChange>,
) -> Result<Response, ApiError> {
    let m = member(&state, &headers).await?;
    let Some(secret) = input.secret else {
        return Err(ApiError::unprocessable(
            Code::InvalidMemberRequest,
            "send the `secret` you set up and its current `code`",
        ));
    };
    team::set_totp(&state, &m, Some(&secret), &input.code).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /console/totp`: stop using one-time codes (send the current
/// one).
#[utoipa::path(delete, path = "/console/totp", tag = "console", request_body = TotpChange, responses((status = 204, description = "Off")))]
pub async fn totp_off(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<TotpChange>,
) -> Result<Response, ApiError> {
    let m = member(&state, &headers).await?;
    team::set_totp(&state, &m, None, &input.code).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /console/session`: sign out (the session ends everywhere).
#[utoipa::path(delete, path = "/console/session", tag = "console", responses((status = 204, description = "Signed out; the cookie is cleared")))]
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(t) = session::token(&headers) {
        state.sessions.end(&state.store, t).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&session::cookie(&headers, "")).map_err(ApiError::internal)?,
    );
    Ok(res)
}
