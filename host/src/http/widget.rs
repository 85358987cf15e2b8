//! The storefront widget's side of the host: the merchant's widget
//! settings, the assets behind the script tag, and the public endpoints a
//! visitor's browser calls (config, index, article, votes, answers) behind
//! one guard that checks the merchant's allowed origins, rate-limits each
//! visitor and answers CORS preflights.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::Path as FsPath;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::surveys::{self, Survey};
use super::{
    ApiError, MAX_JSON_BYTES, kb, merchant_or_operator, parse_json, query, read_body, valid_id,
};
use crate::AppState;

/// Where the launcher sits.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    /// Bottom right.
    #[default]
    Right,
    /// Bottom left.
    Left,
}

/// A merchant's widget settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WidgetSettings {
    /// Pages on these origins (`https://shop.example`) may use the widget.
    pub allowed_origins: Vec<String>,
    /// Locale used when the page's language has no articles.
    pub default_locale: String,
    /// Accent colour (`#rrggbb`).
    pub accent: String,
    /// Launcher position.
    pub position: Position,
    /// Replacement texts per locale (keys as in the built-in texts).
    pub texts: BTreeMap<String, BTreeMap<String, String>>,
}

impl Default for WidgetSettings {
    fn default() -> WidgetSettings {
        WidgetSettings {
            allowed_origins: Vec::new(),
            default_locale: "en".into(),
            accent: "#0b6e4f".into(),
            position: Position::Right,
            texts: BTreeMap::new(),
        }
    }
}

/// Keys of the widget's texts, in the order of [`builtin_texts`]' rows.
const TEXT_KEYS: [&str; 11] = [
    "launcher",
    "title",
    "placeholder",
    "empty",
    "helpful",
    "yes",
    "no",
    "thanks",
    "close",
    "send",
    "back",
];

/// The widget's texts in the languages Cove ships.
fn builtin_texts(lang: &str) -> [&'static str; 11] {
    match lang {
        "de" => [
            "Hilfe",
            "Hilfe & FAQ",
            "Frage eingeben …",
            "Keine passenden Artikel.",
            "War das hilfreich?",
            "Ja",
            "Nein",
            "Danke!",
            "Schließen",
            "Senden",
            "Zurück",
        ],
        "es" => [
            "Ayuda",
            "Ayuda y preguntas",
            "Escribe tu pregunta…",
            "No hay artículos que coincidan.",
            "¿Te ha sido útil?",
            "Sí",
            "No",
            "¡Gracias!",
            "Cerrar",
            "Enviar",
            "Volver",
        ],
        "fr" => [
            "Aide",
            "Aide & FAQ",
            "Posez votre question…",
            "Aucun article ne correspond.",
            "Cet article vous a-t-il aidé ?",
            "Oui",
            "Non",
            "Merci !",
            "Fermer",
            "Envoyer",
            "Retour",
        ],
        "zh" => [
            "帮助",
            "帮助中心",
            "输入您的问题…",
            "没有找到相关文章。",
            "这篇文章有帮助吗？",
            "有",
            "没有",
            "谢谢！",
            "关闭",
            "提交",
            "返回",
        ],
        "ja" => [
            "ヘルプ",
            "ヘルプとよくある質問",
            "質問を入力…",
            "該当する記事がありません。",
            "この記事は役に立ちましたか？",
            "はい",
            "いいえ",
            "ありがとうございます！",
            "閉じる",
            "送信",
            "戻る",
        ],
        _ => [
            "Help",
            "Help & FAQ",
            "Type your question…",
            "No matching articles.",
            "Was this helpful?",
            "Yes",
            "No",
            "Thanks!",
            "Close",
            "Send",
            "Back",
        ],
    }
}

fn valid_origin(o: &str) -> bool {
    let Some(rest) = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest.len() <= 253
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

impl WidgetSettings {
    fn check(&self) -> Result<(), ApiError> {
        if self.allowed_origins.len() > 50 || !self.allowed_origins.iter().all(|o| valid_origin(o))
        {
            return Err(ApiError::unprocessable(
                "invalid_origin",
                "allowed_origins are up to 50 origins like `https://shop.example` (scheme, host and optional port, no path)",
            ));
        }
        if !super::valid_locale(&self.default_locale) {
            return Err(ApiError::unprocessable(
                "invalid_locale",
                "default_locale must look like `en` or `de-AT`",
            ));
        }
        let hex = self.accent.strip_prefix('#').unwrap_or("");
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ApiError::unprocessable(
                "invalid_accent",
                "accent is a colour like `#0b6e4f`",
            ));
        }
        for (locale, texts) in &self.texts {
            if !super::valid_locale(locale) {
                return Err(ApiError::unprocessable(
                    "invalid_locale",
                    format!("texts: `{locale}` is not a locale"),
                ));
            }
            if let Some(k) = texts.keys().find(|k| !TEXT_KEYS.contains(&k.as_str())) {
                return Err(ApiError::unprocessable(
                    "invalid_texts",
                    format!(
                        "texts.{locale}: unknown key `{k}`; the keys are {}",
                        TEXT_KEYS.join(", ")
                    ),
                ));
            }
            if texts
                .values()
                .any(|v| v.is_empty() || v.chars().count() > 120)
            {
                return Err(ApiError::unprocessable(
                    "invalid_texts",
                    "each text has 1 to 120 characters",
                ));
            }
        }
        Ok(())
    }

    /// The widget's texts in `locale`: built-in, then the merchant's own.
    fn texts(&self, locale: &str) -> Value {
        let lang = locale.split('-').next().unwrap_or(locale);
        let mut out: BTreeMap<&str, &str> =
            TEXT_KEYS.into_iter().zip(builtin_texts(lang)).collect();
        for key in [lang, locale] {
            for (k, v) in self.texts.get(key).into_iter().flatten() {
                if let Some(slot) = out.get_mut(k.as_str()) {
                    *slot = v;
                }
            }
        }
        json!(out)
    }
}

/// What the public endpoints know of a merchant, cached briefly.
pub struct MerchantPublic {
    settings: WidgetSettings,
    locales: Vec<String>,
    surveys: Vec<(String, Survey)>,
}

/// A visitor's token bucket.
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Caches and limits of the public endpoints.
pub struct Public {
    merchants: super::Cached<String, Option<Arc<MerchantPublic>>>,
    buckets: Mutex<HashMap<(String, IpAddr), Bucket>>,
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
            merchants: Mutex::default(),
            buckets: Mutex::default(),
            burst,
            per_sec,
            ip_header,
        }
    }
}

/// How long public data may be served from memory before the store is
/// asked again (also how long another replica's change may take to show).
const FRESH_FOR: Duration = Duration::from_secs(2);

impl Public {
    /// Take one token for `ip` at `merchant`; the wait if there is none.
    fn take(&self, merchant: &str, ip: IpAddr) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().expect("buckets");
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| b.at.elapsed().as_secs_f64() * self.per_sec < self.burst);
        }
        let b = buckets.entry((merchant.to_string(), ip)).or_insert(Bucket {
            tokens: self.burst,
            at: Instant::now(),
        });
        b.tokens = (b.tokens + b.at.elapsed().as_secs_f64() * self.per_sec).min(self.burst);
        b.at = Instant::now();
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.per_sec))
        }
    }
}

async fn merchant_public(
    state: &AppState,
    merchant: &str,
) -> Result<Option<Arc<MerchantPublic>>, ApiError> {
    if let Some((at, m)) = state
        .public
        .merchants
        .lock()
        .expect("public cache")
        .get(merchant)
        && at.elapsed() < FRESH_FOR
    {
        return Ok(m.clone());
    }
    let found = if state.store.merchant_exists(merchant).await? {
        let settings = match state.store.widget_settings(merchant).await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => WidgetSettings::default(),
        };
        Some(Arc::new(MerchantPublic {
            settings,
            locales: state.store.article_locales(merchant).await?,
            surveys: surveys::load(state, merchant).await?,
        }))
    } else {
        None
    };
    let mut cache = state.public.merchants.lock().expect("public cache");
    if cache.len() > 10_000 {
        cache.clear();
    }
    cache.insert(merchant.to_string(), (Instant::now(), found.clone()));
    Ok(found)
}

/// The guard in front of `/public/v1/{merchant}/…`.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Nested routers see a shortened path; the original names the merchant.
    let path = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| req.uri().path().to_string(), |u| u.path().to_string());
    let merchant = path.split('/').nth(3).unwrap_or("").to_string();
    let forwarded = state.public.ip_header.as_ref().and_then(|h| {
        let v = req.headers().get(h)?.to_str().ok()?;
        v.split(',').next()?.trim().parse::<IpAddr>().ok()
    });
    let ip = forwarded.unwrap_or_else(|| {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip())
    });
    let origin = req.headers().get(header::ORIGIN).cloned();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    match check(&state, &merchant, origin, &host, ip).await {
        Ok(origin) => {
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
                        HeaderValue::from_static("content-type"),
                    );
                    h.insert(
                        header::ACCESS_CONTROL_MAX_AGE,
                        HeaderValue::from_static("86400"),
                    );
                }
            }
            res
        }
        Err(res) => res,
    }
}

/// Checks origin and rate; returns the origin to echo in CORS headers.
async fn check(
    state: &AppState,
    merchant: &str,
    origin: Option<HeaderValue>,
    host: &str,
    ip: IpAddr,
) -> Result<Option<HeaderValue>, Response> {
    let public = match merchant_public(state, merchant).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Err(ApiError::not_found(format!("no merchant `{merchant}`")).into_response());
        }
        Err(e) => return Err(e.into_response()),
    };
    if let Some(o) = &origin {
        let o = o.to_str().unwrap_or("");
        let same_site = o.split_once("://").is_some_and(|(_, h)| h == host);
        if !same_site && !public.settings.allowed_origins.iter().any(|a| a == o) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                format!("pages on `{o}` may not use this merchant's widget; add the origin to the widget settings' allowed_origins"),
            )
            .into_response());
        }
    }
    if let Err(wait) = state.public.take(merchant, ip) {
        let secs = wait.as_secs().max(1);
        let mut res = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests from this visitor; try again in {secs} s"),
        )
        .into_response();
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return Err(res);
    }
    Ok(origin)
}

/// Query of the config.
#[derive(Deserialize)]
pub struct ConfigQuery {
    /// The page's language (`document.documentElement.lang`).
    locale: Option<String>,
}

/// The best of `available` for `wanted`: exact, same language, the
/// merchant's default, else the first.
fn pick_locale(available: &[String], wanted: &str, default: &str) -> Option<String> {
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
        .or_else(|| available.iter().find(|l| *l == default))
        .or_else(|| available.first())
        .cloned()
}

/// `GET /public/v1/{m}/config?locale=`: theme, texts, the index to load
/// and the surveys that may show, all in the visitor's locale.
pub async fn config(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    q: Result<Query<ConfigQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let public = merchant_public(&state, &merchant)
        .await?
        .ok_or_else(|| ApiError::not_found("no such merchant"))?;
    let s = &public.settings;
    let wanted = q.locale.unwrap_or_default();
    let locale = pick_locale(&public.locales, &wanted, &s.default_locale);
    let index = match &locale {
        Some(l) => {
            let built = kb::built(&state, &merchant, l, FRESH_FOR).await?;
            json!(format!("/public/v1/{merchant}/index/{l}/{}", built.version))
        }
        None => Value::Null,
    };
    let text_locale = locale.clone().unwrap_or_else(|| {
        if wanted.is_empty() {
            s.default_locale.clone()
        } else {
            wanted.clone()
        }
    });
    let survey_locale = if wanted.is_empty() {
        text_locale.clone()
    } else {
        wanted
    };
    let surveys: Vec<Value> = public
        .surveys
        .iter()
        .filter(|(_, sv)| sv.shows_in(&survey_locale))
        .map(|(id, sv)| sv.public(id, &survey_locale))
        .collect();
    let body = json!({
        "locale": text_locale, "index": index, "accent": s.accent, "position": s.position,
        "texts": s.texts(&text_locale), "surveys": surveys,
    });
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=30")],
        axum::Json(body),
    )
        .into_response())
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"))
}

/// A body stored gzipped, sent as is to clients that accept gzip.
fn gzipped(
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

/// `GET /public/v1/{m}/index/{locale}/{version}`: the search index in the
/// transfer format. The current version is cached forever by browsers; an
/// outdated URL gets the current index, uncached.
pub async fn index(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((merchant, locale, version)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    if !super::valid_locale(&locale) {
        return Err(ApiError::bad_request(
            "invalid_locale",
            "locale must look like `en` or `de-AT`",
        ));
    }
    let built = kb::built(&state, &merchant, &locale, FRESH_FOR).await?;
    let cache = if built.version == version {
        "public, max-age=31536000, immutable"
    } else {
        "no-store"
    };
    Ok(gzipped(
        &headers,
        &built.gz,
        "application/octet-stream",
        cache,
    ))
}

/// Query of a visitor's search.
#[derive(Deserialize)]
pub struct SearchQuery {
    /// What the visitor typed so far.
    q: String,
    /// The index's locale (from the config).
    locale: String,
}

/// `GET /public/v1/{m}/search?q=&locale=`: the widget's first results,
/// while its own copy of the index downloads (same core, same ranking).
pub async fn search(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    if !super::valid_locale(&q.locale) || q.q.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "invalid_query",
            "q is at most 200 characters and locale must look like `en` or `de-AT`",
        ));
    }
    let built = kb::built(&state, &merchant, &q.locale, FRESH_FOR).await?;
    let hits: Vec<Value> = built
        .index
        .search(&q.q, crate::now_ms(), 8)
        .into_iter()
        .map(|h| json!({"id": h.id, "title": h.title}))
        .collect();
    Ok(axum::Json(json!({ "hits": hits })).into_response())
}

/// `GET /public/v1/{m}/articles/{id}`: an article valid now, as safe HTML.
pub async fn article(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let now = crate::now_ms();
    let a = state
        .store
        .article(&merchant, &id)
        .await?
        .filter(|a| a.valid_from.is_none_or(|f| f <= now) && a.valid_until.is_none_or(|u| now < u))
        .ok_or_else(|| ApiError::not_found(format!("no article `{id}`")))?;
    let body = json!({"id": a.id, "title": a.title, "locale": a.locale, "html": crate::markdown::to_html(&a.body)});
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=60")],
        axum::Json(body),
    )
        .into_response())
}

/// Largest body a visitor may send.
const MAX_PUBLIC_BODY: usize = 64 << 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VoteIn {
    article: String,
    visitor: String,
    helpful: bool,
}

/// `POST /public/v1/{m}/votes`: one vote per visitor per article (a second
/// vote replaces the first).
pub async fn vote(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let v: VoteIn = parse_json(&read_body(body, MAX_PUBLIC_BODY, "the vote").await?)?;
    if !valid_id(&v.visitor) || !valid_id(&v.article) {
        return Err(ApiError::unprocessable(
            "invalid_vote",
            "article and visitor are ids of 1-64 letters, digits, `-` or `_`",
        ));
    }
    match state
        .store
        .vote(&merchant, &v.article, &v.visitor, v.helpful)
        .await?
    {
        Some((helpful, unhelpful)) => Ok(axum::Json(
            json!({"article": v.article, "helpful": helpful, "unhelpful": unhelpful}),
        )
        .into_response()),
        None => Err(ApiError::not_found(format!("no article `{}`", v.article))),
    }
}

/// `POST /public/v1/{m}/answers`: survey answers, each stored once.
pub async fn answers(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(body, MAX_PUBLIC_BODY, "the answers").await?;
    surveys::receive(&state, &merchant, &body).await
}

/// `GET`/`PUT /v1/merchants/{m}/widget`: the widget settings.
pub async fn settings(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(merchant): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    merchant_or_operator(&state, &headers, &merchant).await?;
    if !state.store.merchant_exists(&merchant).await? {
        return Err(ApiError::not_found(format!("no merchant `{merchant}`")));
    }
    let settings = if method == Method::PUT {
        let s: WidgetSettings =
            parse_json(&read_body(body, MAX_JSON_BYTES, "the settings").await?)?;
        s.check()?;
        state
            .store
            .put_widget_settings(
                &merchant,
                &serde_json::to_string(&s).map_err(ApiError::internal)?,
            )
            .await?;
        state
            .public
            .merchants
            .lock()
            .expect("public cache")
            .remove(&merchant);
        s
    } else {
        match state.store.widget_settings(&merchant).await? {
            Some(json) => serde_json::from_str(&json).map_err(ApiError::internal)?,
            None => WidgetSettings::default(),
        }
    };
    let tag = format!(
        "<script src=\"https://YOUR-COVE-HOST/widget.js\" data-merchant=\"{merchant}\" async></script>"
    );
    Ok(axum::Json(json!({"settings": settings, "script_tag": tag})).into_response())
}

/// One file of the widget, gzipped once.
struct Asset {
    content_type: &'static str,
    gz: Vec<u8>,
}

/// The built widget (`scripts/build-widget` output), loaded at start.
pub struct Assets {
    /// Content hash: part of every runtime URL, so they cache forever.
    pub version: String,
    loader: Asset,
    runtime: HashMap<&'static str, Asset>,
}

/// Files of the runtime, with their content types.
const RUNTIME_FILES: [(&str, &str); 3] = [
    ("ui.js", "text/javascript; charset=utf-8"),
    ("cove_widget.js", "text/javascript; charset=utf-8"),
    ("cove_widget_bg.wasm", "application/wasm"),
];

impl Assets {
    /// Load the widget from `dir` (with `widget.js` and the runtime files).
    pub fn load(dir: &FsPath) -> anyhow::Result<Assets> {
        use anyhow::Context;
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .with_context(|| format!("reading {}/{name} (run `make widget`)", dir.display()))
        };
        let mut hash = Sha256::new();
        let mut runtime = HashMap::new();
        for (name, content_type) in RUNTIME_FILES {
            let bytes = read(name)?;
            hash.update(&bytes);
            runtime.insert(
                name,
                Asset {
                    content_type,
                    gz: super::gzip(&bytes),
                },
            );
        }
        let version = hex::encode(&hash.finalize()[..6]);
        let loader = String::from_utf8(read("widget.js")?)?.replace("__COVE_V__", &version);
        Ok(Assets {
            version,
            loader: Asset {
                content_type: "text/javascript; charset=utf-8",
                gz: super::gzip(loader.as_bytes()),
            },
            runtime,
        })
    }

    /// Gzipped sizes of the loader and of the whole runtime, in bytes.
    pub fn gz_sizes(&self) -> (usize, usize) {
        (
            self.loader.gz.len(),
            self.runtime.values().map(|a| a.gz.len()).sum(),
        )
    }
}

fn not_built() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "widget_not_built",
        "this host was started without the widget; build it with `make widget` and start with --widget-dir",
    )
}

fn with_cors_any(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

/// `GET /widget.js`: the loader behind the script tag.
pub async fn loader(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let assets = state.widget.as_ref().ok_or_else(not_built)?;
    Ok(with_cors_any(gzipped(
        &headers,
        &assets.loader.gz,
        assets.loader.content_type,
        "public, max-age=300",
    )))
}

/// `GET /widget/{version}/{file}`: the runtime, cached forever per version.
pub async fn runtime(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((version, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let assets = state.widget.as_ref().ok_or_else(not_built)?;
    let asset = assets
        .runtime
        .get(file.as_str())
        .ok_or_else(|| ApiError::not_found(format!("no widget file `{file}`")))?;
    // A page that loaded an older loader still gets a working runtime.
    let cache = if version == assets.version {
        "public, max-age=31536000, immutable"
    } else {
        "no-store"
    };
    Ok(with_cors_any(gzipped(
        &headers,
        &asset.gz,
        asset.content_type,
        cache,
    )))
}

/// The demo storefront (demo mode only): a page with the tag in it.
pub async fn demo_page(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    if !state.demo {
        return Err(ApiError::not_found(
            "no such endpoint; the demo storefront runs with --seed-demo",
        ));
    }
    let (content_type, body): (&str, &str) = match file.as_str() {
        "" | "index.html" => (
            "text/html; charset=utf-8",
            include_str!("../../demo/index.html"),
        ),
        "shop.css" => (
            "text/css; charset=utf-8",
            include_str!("../../demo/shop.css"),
        ),
        "shop.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../../demo/shop.js"),
        ),
        _ => return Err(ApiError::not_found(format!("no demo file `{file}`"))),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            // The strict policy the issue promises merchants the widget works under.
            (header::CONTENT_SECURITY_POLICY, "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"),
        ],
        body,
    )
        .into_response())
}

/// Give the demo merchant the demo articles (English, Chinese, German,
/// Spanish, Japanese) and the exit survey, unless it has its own.
pub async fn seed_demo_content(state: &AppState, merchant: &str) -> anyhow::Result<()> {
    #[derive(Deserialize)]
    struct DemoArticle {
        id: String,
        locale: String,
        title: String,
        body: String,
        tags: Vec<String>,
        valid_until: Option<i64>,
    }
    if state.store.article_locales(merchant).await?.is_empty() {
        let articles: Vec<DemoArticle> =
            serde_json::from_str(include_str!("../../demo/articles.json"))?;
        for a in articles {
            let row = crate::store::ArticleRow {
                id: a.id,
                locale: a.locale,
                title: a.title,
                body: a.body,
                tags: a.tags,
                valid_from: None,
                valid_until: a.valid_until,
                helpful: 0,
                unhelpful: 0,
                updated_at: crate::now_ms(),
            };
            state.store.put_article(merchant, &row).await?;
        }
    }
    if state.store.surveys(merchant).await?.is_empty() {
        let survey: Survey = serde_json::from_str(include_str!("../../demo/survey.json"))?;
        survey
            .check()
            .map_err(|e| anyhow::anyhow!("demo survey: {e:?}"))?;
        state
            .store
            .put_survey(merchant, "exit", &serde_json::to_string(&survey)?)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_fall_back_by_language_then_default() {
        let have = vec!["de".to_string(), "en".to_string(), "zh-CN".to_string()];
        assert_eq!(pick_locale(&have, "de-AT", "en").as_deref(), Some("de"));
        assert_eq!(pick_locale(&have, "zh-cn", "en").as_deref(), Some("zh-CN"));
        assert_eq!(pick_locale(&have, "zh-TW", "en").as_deref(), Some("zh-CN"));
        assert_eq!(pick_locale(&have, "fr", "en").as_deref(), Some("en"));
        assert_eq!(pick_locale(&[], "fr", "en"), None);
    }

    #[test]
    fn origins_are_scheme_and_host_only() {
        assert!(valid_origin("https://shop.example"));
        assert!(valid_origin("http://127.0.0.1:8080"));
        assert!(!valid_origin("https://shop.example/path"));
        assert!(!valid_origin("shop.example"));
        assert!(!valid_origin("https://"));
    }

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
    fn merchant_texts_replace_builtin_ones() {
        let mut s = WidgetSettings::default();
        s.texts.insert(
            "de".into(),
            BTreeMap::from([("launcher".into(), "Fragen?".into())]),
        );
        let t = s.texts("de-AT");
        assert_eq!(t["launcher"], "Fragen?");
        assert_eq!(t["close"], "Schließen");
        assert_eq!(s.texts("xx")["close"], "Close");
    }
}
