//! The storefront widget: the merchant's settings (theme, texts, allowed
//! origins, the tag to paste), the public config a visitor's widget starts
//! from, the files behind the script tag, and the demo storefront.

mod assets;
mod demo;
mod settings;
pub mod store;

pub use assets::Assets;
pub use demo::seed_demo_content;
pub use settings::{Position, WidgetSettings};

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::kb::store::KbDb;
use crate::platform::feature::{ConsolePage, Feature, Migration};
use crate::platform::guard::FRESH_FOR;
use crate::platform::http::{ApiError, ForMerchant, JsonBody, query};
use crate::surveys::{self, Survey};
use crate::widget::store::WidgetDb;

/// The widget's routes: settings for the merchant, the files behind the
/// tag, the public config, and the demo storefront.
fn routes(_: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(settings, set_settings))
        .routes(routes!(assets::loader))
        .routes(routes!(assets::runtime))
        .routes(routes!(demo::page))
        .route("/", get(|s| demo::page(s, Path(String::new()))))
}

/// The storefront widget, as registered with the platform: it also says
/// which pages may call a merchant's public endpoints.
pub const FEATURE: Feature = Feature {
    name: "widget",
    routes,
    public: |_| OpenApiRouter::new().routes(routes!(config)),
    migrations: &[
        Migration::new(3, "widget", include_str!("migrations/0003_widget.sql")),
        Migration::new(
            16,
            "answers_by_visitor",
            include_str!("migrations/0016_answers_by_visitor.sql"),
        ),
    ],
    seed_demo: Some(|state, merchant| Box::pin(seed_demo_content(state, merchant))),
    console: &[ConsolePage::new("widget.js", include_str!("console.js"))],
    overview: Some(|state, merchant, _| {
        Box::pin(async move {
            let origins = allowed_origins(state, merchant).await?.unwrap_or_default();
            Ok(serde_json::json!({"allowed_origins": origins.len(), "page": "widget"}))
        })
    }),
    allowed_origins: Some(|state, merchant| Box::pin(allowed_origins(state, merchant))),
    state: Some(|settings| {
        let assets = match &settings.widget_dir {
            Some(dir) => Some(Assets::load(dir)?),
            None => None,
        };
        Ok(std::sync::Arc::new(WidgetState::new(assets)))
    }),
    ..Feature::EMPTY
};

/// What the public endpoints know of a merchant, cached briefly.
struct MerchantPublic {
    settings: WidgetSettings,
    locales: Vec<String>,
    surveys: Vec<(String, Survey)>,
}

/// The widget's state in the host: its files, and what the public
/// endpoints know of each merchant.
#[derive(Default)]
pub struct WidgetState {
    /// The built widget, if the host was started with it.
    pub assets: Option<Assets>,
    merchants: crate::platform::http::Cached<String, Option<Arc<MerchantPublic>>>,
}

impl WidgetState {
    /// The widget's state, with its files if built.
    pub fn new(assets: Option<Assets>) -> WidgetState {
        WidgetState {
            assets,
            merchants: Default::default(),
        }
    }
}

async fn merchant_public(
    state: &AppState,
    merchant: &str,
) -> Result<Option<Arc<MerchantPublic>>, ApiError> {
    if let Some((at, m)) = state
        .get::<WidgetState>()
        .merchants
        .lock()
        .expect("public cache")
        .get(merchant)
        && at.elapsed() < FRESH_FOR
    {
        return Ok(m.clone());
    }
    let found = if state.store.merchant_exists(merchant).await? {
        let settings = match WidgetDb(&state.store).widget_settings(merchant).await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => WidgetSettings::default(),
        };
        Some(Arc::new(MerchantPublic {
            settings,
            locales: KbDb(&state.store).article_locales(merchant).await?,
            surveys: surveys::load(state, merchant).await?,
        }))
    } else {
        None
    };
    crate::platform::http::cache_put(
        &state.get::<WidgetState>().merchants,
        merchant.to_string(),
        found.clone(),
    );
    Ok(found)
}

/// The origins whose pages may call `merchant`'s public endpoints; `None`
/// if there is no such merchant.
pub async fn allowed_origins(
    state: &AppState,
    merchant: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    Ok(merchant_public(state, merchant)
        .await?
        .map(|p| p.settings.allowed_origins.clone()))
}

/// A visitor's token bucket.
/// Query of the config.
#[derive(Deserialize)]
pub struct ConfigQuery {
    /// The page's language (`document.documentElement.lang`).
    locale: Option<String>,
}

/// The best of `available` for `wanted`: exact, same language, the
/// merchant's default, else the first.
fn pick_locale(available: &[String], wanted: &str, default: &str) -> Option<String> {
    crate::platform::http::nearest_locale(available, wanted)
        .or_else(|| available.iter().find(|l| *l == default))
        .or_else(|| available.first())
        .cloned()
}

/// `GET /public/v1/{m}/config?locale=`: theme, texts, the index to load
/// and the surveys that may show, all in the visitor's locale.
#[utoipa::path(get, path = "/public/v1/{merchant}/config", tag = "widget (public)", params(("merchant" = String, Path, description = "Merchant id"), ("locale" = Option<String>, Query, description = "The page's language")), responses((status = 200, description = "Theme, texts, index and surveys", body = PublicConfig)))]
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
            let built = crate::kb::built(&state, &merchant, l, FRESH_FOR).await?;
            Some(format!("/public/v1/{merchant}/index/{l}/{}", built.version))
        }
        None => None,
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
    let body = PublicConfig {
        texts: s.texts(&text_locale),
        locale: text_locale,
        index,
        accent_ink: settings::ink_on(&s.accent),
        accent: s.accent.clone(),
        position: s.position,
        surveys,
    };
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=30")],
        axum::Json(body),
    )
        .into_response())
}

/// What the widget needs on a page, in the visitor's locale.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PublicConfig {
    /// The locale of the texts (and of the index, if there is one).
    pub locale: String,
    /// The search index to load, if the merchant has articles in a
    /// locale near the visitor's.
    pub index: Option<String>,
    /// The accent colour.
    pub accent: String,
    /// The text colour on the accent: black or white, whichever contrasts
    /// more (at least 4.5:1 for any accent, WCAG 2.2 AA).
    pub accent_ink: &'static str,
    /// Where the launcher sits.
    pub position: Position,
    /// Key → text, in `locale`.
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub texts: Value,
    /// The surveys that may show, in the visitor's locale.
    #[schema(value_type = Vec<Object>)]
    pub surveys: Vec<Value>,
}

/// `GET /v1/merchants/{m}/widget`: the widget settings.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/widget", tag = "widget", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "The settings and the tag to paste", body = SettingsNow)))]
pub async fn settings(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    let settings = match WidgetDb(&state.store).widget_settings(&merchant).await? {
        Some(json) => serde_json::from_str(&json).map_err(ApiError::internal)?,
        None => WidgetSettings::default(),
    };
    Ok(settings_now(merchant, settings))
}

/// `PUT /v1/merchants/{m}/widget`: change the widget settings.
#[utoipa::path(put, path = "/v1/merchants/{merchant}/widget", tag = "widget", params(("merchant" = String, Path, description = "Merchant id")), request_body = WidgetSettings, responses((status = 200, description = "The settings and the tag to paste", body = SettingsNow)))]
pub async fn set_settings(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    JsonBody(settings): JsonBody<WidgetSettings>,
) -> Result<Response, ApiError> {
    settings.check()?;
    WidgetDb(&state.store)
        .put_widget_settings(
            &merchant,
            &serde_json::to_string(&settings).map_err(ApiError::internal)?,
        )
        .await?;
    state
        .get::<WidgetState>()
        .merchants
        .lock()
        .expect("public cache")
        .remove(&merchant);
    Ok(settings_now(merchant, settings))
}

fn settings_now(merchant: String, settings: WidgetSettings) -> Response {
    let tag = format!(
        "<script src=\"https://YOUR-COVE-HOST/widget.js\" data-merchant=\"{merchant}\" async></script>"
    );
    axum::Json(SettingsNow {
        settings,
        script_tag: tag,
    })
    .into_response()
}

/// A merchant's widget settings, and the tag to paste into its pages.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SettingsNow {
    /// The settings in force.
    pub settings: WidgetSettings,
    /// The one line that puts the widget on a page.
    pub script_tag: String,
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
}
