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
use crate::platform::session;

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

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
/// A sign-in to the console.
pub struct SignIn {
    /// The merchant's API key.
    key: String,
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
}

fn session_body(merchant: &str, s: &session::Session) -> SessionNow {
    SessionNow {
        merchant: merchant.to_string(),
        csrf: Some(s.csrf.clone()),
        expires_at: Some(s.expires_at),
    }
}

/// `POST /console/session`: sign in with the merchant's API key; answers
/// with the session cookie and the CSRF token writes must echo.
#[utoipa::path(post, path = "/console/session", tag = "console", request_body = SignIn, responses((status = 201, description = "Signed in; the cookie is set", body = SessionNow)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    JsonBody(req): JsonBody<SignIn>,
) -> Result<Response, ApiError> {
    let mut with_key = HeaderMap::new();
    let bearer = HeaderValue::from_str(&format!("Bearer {}", req.key.trim()))
        .map_err(|_| ApiError::bad_request(Code::InvalidKey, "that is not an API key"))?;
    with_key.insert(header::AUTHORIZATION, bearer);
    let merchant = match caller(&state, &with_key, ip).await {
        // A session may do anything its merchant may (until members have
        // roles), so only a key with every scope opens one.
        Ok(Caller::Merchant(k)) if k.scopes == crate::platform::keys::Scopes::all() => k.merchant,
        Ok(Caller::Merchant(k)) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                Code::MissingPermission,
                format!(
                    "the key `{}` is limited to some scopes; the console needs a key with every scope",
                    k.name
                ),
            ));
        }
        Ok(Caller::Operator { .. }) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                Code::OperatorToken,
                "the console is for merchants: sign in with a merchant's API key, not the operator token",
            ));
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                Code::UnknownKey,
                "this API key is not known; check it was copied whole",
            ));
        }
    };
    let (token, s) = state.sessions.start(&state.store, &merchant).await?;
    let mut res = (StatusCode::CREATED, axum::Json(session_body(&merchant, &s))).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&session::cookie(&headers, &token)).map_err(ApiError::internal)?,
    );
    Ok(res)
}

/// `GET /console/session`: who is signed in, and the CSRF token (for an
/// API key: whose it is).
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
                merchant: k.merchant,
                csrf: None,
                expires_at: None,
            })
            .into_response()),
            Caller::Operator { .. } => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                Code::OperatorToken,
                "the operator has no console session",
            )),
        };
    }
    let found = match session::token(&headers) {
        Some(t) => state.sessions.find(&state.store, t).await?,
        None => None,
    };
    match found {
        Some(s) => Ok(axum::Json(session_body(&s.merchant, &s)).into_response()),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            Code::SignedOut,
            "not signed in to the console",
        )),
    }
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
