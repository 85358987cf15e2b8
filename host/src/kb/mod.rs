//! Knowledge base: the merchant's FAQ articles (create, replace, delete,
//! list), the search indexes built from them, server-side search with the
//! same core the widget runs in the browser, and the public endpoints the
//! widget calls (index, first results, article, votes, searches that
//! found nothing).

mod lexicon;
pub mod markdown;
mod missed;
mod public;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cove_search::{Article, Index};
use serde_json::json;
use sha2::{Digest, Sha256};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::kb::store::ArticleRow;
use crate::kb::store::KbDb;
use crate::platform::feature::{ConsolePage, Feature, Migration};
use crate::platform::http::Code;
use crate::platform::http::{ApiError, ForMerchant, query, valid_locale};

/// The knowledge base's routes: articles and search for the merchant,
/// and the widget's public endpoints.
fn routes(_: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(missed::list))
        .routes(routes!(missed::preview))
        .routes(routes!(put_article, delete))
        .routes(routes!(search))
        .routes(routes!(synonyms, put_synonyms, reset_synonyms))
}

/// The widget's public endpoints.
fn public_routes(_: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(public::index))
        .routes(routes!(public::article))
        .routes(routes!(public::search))
        .routes(routes!(public::vote))
        .routes(routes!(missed::report))
}

/// The knowledge base, as registered with the platform.
pub const FEATURE: Feature = Feature {
    name: "kb",
    routes,
    public: public_routes,
    migrations: &[
        Migration::new(2, "articles", include_str!("migrations/0002_articles.sql")),
        Migration::new(20, "synonyms", include_str!("migrations/0020_synonyms.sql")),
    ],
    console: &[ConsolePage::new("kb.js", include_str!("console.js"))],
    overview: Some(overview),
    state: Some(|_| Ok(std::sync::Arc::new(Indexes::default()))),
    ..Feature::EMPTY
};

/// Built indexes per merchant and locale, with when their articles were
/// last compared against the store (so a change on any replica is seen).
#[derive(Default)]
pub struct Indexes(crate::platform::http::Cached<(String, String), Arc<Built>>);

impl Indexes {
    /// How many indexes are kept.
    pub fn len(&self) -> usize {
        self.0.lock().expect("index cache").len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One version of a merchant's search index for one locale.
pub struct Built {
    /// Fingerprint of the articles (and votes) it was built from; part of
    /// the widget's index URL, so a browser caches each version forever.
    pub version: String,
    /// The index.
    pub index: Index,
    /// The index's shards in the transfer format, gzipped, by name.
    pub shards: std::collections::HashMap<String, Vec<u8>>,
}

/// The index of `merchant`'s articles in `locale`, rebuilt when they
/// changed. Within `fresh_for` of the last comparison the cached one is
/// used without asking the store.
pub async fn built(
    state: &AppState,
    merchant: &str,
    locale: &str,
    fresh_for: Duration,
) -> Result<Arc<Built>, ApiError> {
    let key = (merchant.to_string(), locale.to_string());
    let cached = state
        .get::<Indexes>()
        .0
        .lock()
        .expect("index cache")
        .get(&key)
        .cloned();
    if let Some((at, built)) = &cached
        && at.elapsed() < fresh_for
    {
        return Ok(built.clone());
    }
    // The format is part of the version: a new format is a new URL, never
    // a cached old index read by a new widget.
    // Only the articles valid now: a scheduled one is not in anything a
    // visitor downloads before its time, and the version changes when it
    // starts (or one ends).
    let now = crate::now_ms();
    let synonyms = match KbDb(&state.store).synonyms(merchant, locale).await? {
        Some(own) => own,
        None => lexicon::default_synonyms(locale),
    };
    let mut hash = Sha256::new();
    hash.update(cove_search::FORMAT);
    hash.update(lexicon::DATA);
    hash.update(serde_json::to_string(&synonyms).unwrap_or_default());
    for (id, updated_at, helpful, unhelpful) in KbDb(&state.store)
        .article_stamps(merchant, locale, now)
        .await?
    {
        hash.update(format!("{id}\0{updated_at}\0{helpful}\0{unhelpful}\n"));
    }
    let version = hex::encode(&hash.finalize()[..8]);
    let built = match cached {
        Some((_, built)) if built.version == version => built,
        _ => {
            // Articles are read (bodies and all) only when they changed,
            // and indexed off the request threads: a big catalogue takes
            // a few hundred ms, which policy calls must not wait behind.
            let articles = KbDb(&state.store).articles(merchant, Some(locale)).await?;
            let articles = articles.into_iter().filter(move |a| {
                a.valid_from.is_none_or(|f| f <= now) && a.valid_until.is_none_or(|u| now < u)
            });
            let locale = locale.to_string();
            tokio::task::spawn_blocking(move || {
                let docs: Vec<Article> = articles
                    .into_iter()
                    .map(|a| Article {
                        body: crate::kb::markdown::to_text(&a.body),
                        id: a.id,
                        title: a.title,
                        tags: a.tags,
                        valid_from: a.valid_from,
                        valid_until: a.valid_until,
                        helpful: a.helpful.try_into().unwrap_or(0),
                        unhelpful: a.unhelpful.try_into().unwrap_or(0),
                    })
                    .collect();
                let texts = docs
                    .iter()
                    .flat_map(|d| [&d.title, &d.body].into_iter().chain(&d.tags))
                    .chain(synonyms.iter().flatten())
                    .map(String::as_str)
                    .collect::<Vec<_>>();
                let lexicon = lexicon::lexicon(&locale, synonyms.clone(), texts.into_iter());
                let index = Index::build(&locale, &docs, &lexicon);
                let shards = index
                    .shards()
                    .into_iter()
                    .map(|(name, bytes)| (name, crate::platform::http::gzip(&bytes)))
                    .collect();
                Arc::new(Built {
                    version,
                    index,
                    shards,
                })
            })
            .await
            .map_err(ApiError::internal)?
        }
    };
    crate::platform::http::cache_put(&state.get::<Indexes>().0, key, built.clone());
    Ok(built)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ArticleInput {
    locale: String,
    title: String,
    body: String,
    #[serde(default)]
    tags: Vec<String>,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
}

fn check(input: &ArticleInput) -> Result<(), ApiError> {
    let bad = |code, message: &str| Err(ApiError::unprocessable(code, message.to_string()));
    if !valid_locale(&input.locale) {
        return bad(
            Code::InvalidLocale,
            "locale must look like `en`, `de-AT` or `zh-Hans-CN`",
        );
    }
    if input.title.trim().is_empty() || input.title.chars().count() > 200 {
        return bad(
            Code::InvalidTitle,
            "the title must have 1 to 200 characters",
        );
    }
    if input.body.len() > 100_000 {
        return bad(Code::BodyTooLong, "the body must be at most 100,000 bytes");
    }
    if input.tags.len() > 20
        || input
            .tags
            .iter()
            .any(|t| t.is_empty() || t.chars().count() > 40)
    {
        return bad(Code::InvalidTags, "at most 20 tags of 1 to 40 characters");
    }
    if let (Some(from), Some(until)) = (input.valid_from, input.valid_until)
        && from >= until
    {
        return bad(
            Code::InvalidValidity,
            "valid_from must be before valid_until",
        );
    }
    Ok(())
}

/// `PUT /v1/merchants/{m}/articles/{id}`: create or replace an article.
#[utoipa::path(put, path = "/v1/merchants/{merchant}/articles/{id}", tag = "knowledge base", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Article id")), request_body = ArticleInput, responses((status = 200, description = "Replaced", body = ArticleRow), (status = 201, description = "Created", body = ArticleRow)))]
pub async fn put_article(
    State(state): State<AppState>,
    _: ForMerchant,
    Path((merchant, id)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let input: ArticleInput =
        crate::platform::http::replace_input(("article", &id, Code::InvalidArticleId), body, check)
            .await?;
    let row = ArticleRow {
        id,
        locale: input.locale,
        title: input.title,
        body: input.body,
        tags: input.tags,
        valid_from: input.valid_from,
        valid_until: input.valid_until,
        helpful: 0,
        unhelpful: 0,
        updated_at: crate::now_ms(),
    };
    let created = KbDb(&state.store).put_article(&merchant, &row).await?;
    Ok((
        crate::platform::http::created_or_ok(created),
        axum::Json(row),
    )
        .into_response())
}

/// `DELETE /v1/merchants/{m}/articles/{id}`.
#[utoipa::path(delete, path = "/v1/merchants/{merchant}/articles/{id}", tag = "knowledge base", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Article id")), responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    _: ForMerchant,
    Path((merchant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if KbDb(&state.store).delete_article(&merchant, &id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("no article `{id}`")))
    }
}

/// Query of the article list.
#[derive(serde::Deserialize)]
pub struct ListQuery {
    /// Only this locale.
    locale: Option<String>,
}

/// `GET /v1/merchants/{m}/articles[?locale=]`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/articles", tag = "knowledge base", params(("merchant" = String, Path, description = "Merchant id"), ("locale" = Option<String>, Query, description = "Only this locale")), responses((status = 200, description = "The articles", body = Articles)))]
pub async fn list(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let articles: Vec<_> = KbDb(&state.store)
        .articles(&merchant, q.locale.as_deref())
        .await?
        .into_iter()
        .map(|article| ArticleView {
            html: crate::kb::markdown::to_html(&article.body),
            article,
        })
        .collect();
    Ok(axum::Json(Articles { articles }).into_response())
}

/// An article with its safe HTML.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ArticleView {
    /// The article as stored.
    #[serde(flatten)]
    pub article: ArticleRow,
    /// Its body as the widget shows it.
    pub html: String,
}

/// A merchant's articles.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Articles {
    /// Every article (of the locale asked for).
    pub articles: Vec<ArticleView>,
}

/// A search hit.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// The article.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its score (higher is better).
    pub score: f64,
}

/// A search's results.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    /// The query.
    pub query: String,
    /// The locale searched: the one asked for, or the nearest the merchant writes in (`zh-TW` → `zh-CN`).
    pub locale: String,
    /// Best first.
    pub hits: Vec<Hit>,
}

/// Query of a search.
#[derive(serde::Deserialize)]
pub struct SearchQuery {
    /// What the visitor typed.
    q: String,
    /// The index's locale.
    locale: String,
    /// Most hits (default 10, at most 50).
    limit: Option<usize>,
}

/// `GET /v1/merchants/{m}/search?q=&locale=[&limit=]`: ranked articles
/// valid now.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/search", tag = "knowledge base", params(("merchant" = String, Path, description = "Merchant id"), ("q" = String, Query, description = "The query"), ("locale" = String, Query, description = "The index's locale"), ("limit" = Option<u32>, Query, description = "Most hits (default 10, at most 50)")), responses((status = 200, description = "Hits, best first", body = SearchResult)))]
pub async fn search(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    if !valid_locale(&q.locale) {
        return Err(ApiError::bad_request(
            Code::InvalidLocale,
            "locale must look like `en` or `de-AT`",
        ));
    }
    // The articles of the nearest locale the merchant writes in, as the
    // widget picks them (`zh-TW` finds the `zh-CN` articles).
    let have = KbDb(&state.store).article_locales(&merchant).await?;
    let locale = crate::platform::http::nearest_locale(&have, &q.locale)
        .cloned()
        .unwrap_or(q.locale);
    let built = built(&state, &merchant, &locale, Duration::ZERO).await?;
    let hits: Vec<_> = built
        .index
        .search(&q.q, crate::now_ms(), q.limit.unwrap_or(10).min(50))
        .into_iter()
        .map(|h| Hit {
            id: h.id.to_string(),
            title: h.title.to_string(),
            score: h.score,
        })
        .collect();
    Ok(axum::Json(SearchResult {
        query: q.q,
        locale,
        hits,
    })
    .into_response())
}

/// The overview's card: articles, their helpfulness, and the searches
/// since `since` that found nothing.
fn overview<'a>(
    state: &'a AppState,
    merchant: &'a str,
    since: i64,
) -> crate::platform::feature::Pending<'a, Result<serde_json::Value, ApiError>> {
    Box::pin(async move {
        let (articles, missed) = tokio::try_join!(
            KbDb(&state.store).articles(merchant, None),
            KbDb(&state.store).missed_searches(merchant, since)
        )?;
        let (yes, no) = articles
            .iter()
            .fold((0, 0), |(y, n), a| (y + a.helpful, n + a.unhelpful));
        let missed_total: i64 = missed.iter().map(|m| m.searches).sum();
        Ok(json!({
            "articles": articles.len(),
            "helpful": yes,
            "unhelpful": no,
            "missed_searches": missed_total,
            "top_missed": missed.iter().take(5).collect::<Vec<_>>(),
            "page": "kb",
        }))
    })
}

/// A locale's synonym groups: the merchant's own, or the language's.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Synonyms {
    /// The locale.
    pub locale: String,
    /// Whether these are the merchant's own (false: the language's defaults).
    pub custom: bool,
    /// Groups of words or phrases shoppers use for the same thing.
    pub groups: Vec<Vec<String>>,
}

/// A merchant's synonym groups for one locale.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SynonymsInput {
    /// Groups of 2 to 20 words or phrases (1 to 60 characters each), at
    /// most 500 groups.
    pub groups: Vec<Vec<String>>,
}

fn checked_locale(locale: &str) -> Result<(), ApiError> {
    if valid_locale(locale) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            Code::InvalidLocale,
            "locale must look like `en` or `de-AT`",
        ))
    }
}

/// `GET /v1/merchants/{m}/synonyms/{locale}`: the synonyms search uses.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/synonyms/{locale}", tag = "knowledge base", params(("merchant" = String, Path, description = "Merchant id"), ("locale" = String, Path, description = "Locale")), responses((status = 200, description = "The synonym groups", body = Synonyms)))]
pub async fn synonyms(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    Path((_, locale)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    checked_locale(&locale)?;
    let own = KbDb(&state.store).synonyms(&merchant, &locale).await?;
    Ok(axum::Json(Synonyms {
        custom: own.is_some(),
        groups: own.unwrap_or_else(|| lexicon::default_synonyms(&locale)),
        locale,
    })
    .into_response())
}

/// `PUT /v1/merchants/{m}/synonyms/{locale}`: replace the synonyms (the
/// index is rebuilt with them).
#[utoipa::path(put, path = "/v1/merchants/{merchant}/synonyms/{locale}", tag = "knowledge base", params(("merchant" = String, Path, description = "Merchant id"), ("locale" = String, Path, description = "Locale")), request_body = SynonymsInput, responses((status = 200, description = "Saved", body = Synonyms)))]
pub async fn put_synonyms(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    Path((_, locale)): Path<(String, String)>,
    crate::platform::http::JsonBody(input): crate::platform::http::JsonBody<SynonymsInput>,
) -> Result<Response, ApiError> {
    checked_locale(&locale)?;
    let mut groups = Vec::with_capacity(input.groups.len());
    for (n, group) in input.groups.into_iter().enumerate() {
        let group: Vec<String> = group.into_iter().map(|p| p.trim().to_string()).collect();
        let bad = !(2..=20).contains(&group.len())
            || group.iter().any(|p| p.is_empty() || p.chars().count() > 60);
        if bad {
            return Err(ApiError::unprocessable(
                Code::InvalidSynonyms,
                format!(
                    "group {} must have 2 to 20 words or phrases of 1 to 60 characters",
                    n + 1
                ),
            ));
        }
        groups.push(group);
    }
    if groups.len() > 500 {
        return Err(ApiError::unprocessable(
            Code::InvalidSynonyms,
            "at most 500 synonym groups per language",
        ));
    }
    KbDb(&state.store)
        .put_synonyms(&merchant, &locale, &groups)
        .await?;
    Ok(axum::Json(Synonyms {
        locale,
        custom: true,
        groups,
    })
    .into_response())
}

/// `DELETE /v1/merchants/{m}/synonyms/{locale}`: back to the language's
/// default synonyms.
#[utoipa::path(delete, path = "/v1/merchants/{merchant}/synonyms/{locale}", tag = "knowledge base", params(("merchant" = String, Path, description = "Merchant id"), ("locale" = String, Path, description = "Locale")), responses((status = 200, description = "The defaults, now in use", body = Synonyms)))]
pub async fn reset_synonyms(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    Path((_, locale)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    checked_locale(&locale)?;
    KbDb(&state.store)
        .delete_synonyms(&merchant, &locale)
        .await?;
    Ok(axum::Json(Synonyms {
        groups: lexicon::default_synonyms(&locale),
        custom: false,
        locale,
    })
    .into_response())
}
