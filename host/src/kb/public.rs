//! The knowledge base's public endpoints, called by the widget in a
//! visitor's browser behind the public guard: the index, first results,
//! one article, and helpfulness votes.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::AppState;
use crate::kb::store::KbDb;
use crate::platform::guard::FRESH_FOR;
use crate::platform::http::Code;
use crate::platform::http::{ApiError, JsonBody, gzipped, query, valid_id};

/// `GET /public/v1/{m}/index/{locale}/{version}/{shard}`: one shard of
/// the search index in the transfer format (`meta`, then the `p<k>` and
/// `t<k>` shards the widget's search names). A version's shards are cached
/// forever by browsers; shards of an outdated version are gone (404): the
/// widget then searches through the host.
#[utoipa::path(get, path = "/public/v1/{merchant}/index/{locale}/{version}/{shard}", tag = "widget (public)", params(("merchant" = String, Path, description = "Merchant id"), ("locale" = String, Path, description = "Locale"), ("version" = String, Path, description = "Index version from the config"), ("shard" = String, Path, description = "`meta`, `p<k>` or `t<k>`")), responses((status = 200, description = "The shard in the transfer format", body = Vec<u8>, content_type = "application/octet-stream")))]
pub async fn index(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((merchant, locale, version, shard)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    if !crate::platform::http::valid_locale(&locale) {
        return Err(ApiError::bad_request(
            Code::InvalidLocale,
            "locale must look like `en` or `de-AT`",
        ));
    }
    let built = super::built(&state, &merchant, &locale, FRESH_FOR).await?;
    let bytes = built
        .shards
        .get(&shard)
        .filter(|_| built.version == version)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no shard `{shard}` in index version `{version}` (the current one is `{}`)",
                built.version
            ))
        })?;
    Ok(gzipped(
        &headers,
        bytes,
        "application/octet-stream",
        "public, max-age=31536000, immutable",
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
#[utoipa::path(get, path = "/public/v1/{merchant}/search", tag = "widget (public)", params(("merchant" = String, Path, description = "Merchant id"), ("q" = String, Query, description = "What the visitor typed"), ("locale" = String, Query, description = "The index's locale")), responses((status = 200, description = "First results", body = Hits)))]
pub async fn search(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    if !crate::platform::http::valid_locale(&q.locale) || q.q.chars().count() > 200 {
        return Err(ApiError::bad_request(
            Code::InvalidQuery,
            "q is at most 200 characters and locale must look like `en` or `de-AT`",
        ));
    }
    let built = super::built(&state, &merchant, &q.locale, FRESH_FOR).await?;
    let hits = built
        .index
        .search(&q.q, crate::now_ms(), 8)
        .into_iter()
        .map(|h| PublicHit {
            id: h.id.to_string(),
            title: h.title.to_string(),
        })
        .collect();
    Ok(axum::Json(Hits { hits }).into_response())
}

/// A first result.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PublicHit {
    /// The article.
    pub id: String,
    /// Its title.
    pub title: String,
}

/// The first results.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Hits {
    /// At most 8, best first.
    pub hits: Vec<PublicHit>,
}

/// An article as a visitor reads it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PublicArticle {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its locale.
    pub locale: String,
    /// Its body, as safe HTML.
    pub html: String,
}

/// An article's votes.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Votes {
    /// The article.
    pub article: String,
    /// Helpful votes.
    pub helpful: i64,
    /// Unhelpful votes.
    pub unhelpful: i64,
}

/// `GET /public/v1/{m}/articles/{id}`: an article valid now, as safe HTML.
#[utoipa::path(get, path = "/public/v1/{merchant}/articles/{id}", tag = "widget (public)", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Article id")), responses((status = 200, description = "The article as safe HTML", body = PublicArticle)))]
pub async fn article(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let now = crate::now_ms();
    let a = KbDb(&state.store)
        .article(&merchant, &id)
        .await?
        .filter(|a| a.valid_from.is_none_or(|f| f <= now) && a.valid_until.is_none_or(|u| now < u))
        .ok_or_else(|| ApiError::not_found(format!("no article `{id}`")))?;
    let body = PublicArticle {
        html: crate::kb::markdown::to_html(&a.body),
        id: a.id,
        title: a.title,
        locale: a.locale,
    };
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=60")],
        axum::Json(body),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteIn {
    article: String,
    visitor: String,
    helpful: bool,
}

/// `POST /public/v1/{m}/votes`: one vote per visitor per article (a second
/// vote replaces the first).
#[utoipa::path(post, path = "/public/v1/{merchant}/votes", tag = "widget (public)", params(("merchant" = String, Path, description = "Merchant id")), request_body = VoteIn, responses((status = 200, description = "The article's vote counts", body = Votes)))]
pub async fn vote(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    JsonBody(v): JsonBody<VoteIn>,
) -> Result<Response, ApiError> {
    if !valid_id(&v.visitor) || !valid_id(&v.article) {
        return Err(ApiError::unprocessable(
            Code::InvalidVote,
            "article and visitor are ids of 1-64 letters, digits, `-` or `_`",
        ));
    }
    match KbDb(&state.store)
        .vote(&merchant, &v.article, &v.visitor, v.helpful)
        .await?
    {
        Some((helpful, unhelpful)) => Ok(axum::Json(Votes {
            article: v.article,
            helpful,
            unhelpful,
        })
        .into_response()),
        None => Err(ApiError::not_found(format!("no article `{}`", v.article))),
    }
}
