//! Links a merchant shares that open without a key (a survey's report for
//! a colleague): signed with a key of the merchant's own, kept in the
//! database (so every replica checks them alike), never the operator's
//! token. Rolling the key revokes every link given out.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hmac::Mac;
use sqlx::Row;

use super::http::{ApiError, Code, ForMerchant, constant_time_eq};
use super::store::{Store, StoreError};
use crate::AppState;

impl Store {
    /// The merchant's link key, made on first use.
    async fn link_key(&self, merchant: &str) -> Result<String, StoreError> {
        let fresh = hex::encode(rand::random::<[u8; 32]>());
        sqlx::query(
            "INSERT INTO link_keys (merchant_id, secret, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (merchant_id) DO NOTHING",
        )
        .bind(merchant)
        .bind(&fresh)
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query("SELECT secret FROM link_keys WHERE merchant_id = $1")
                .bind(merchant)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    /// The merchant's link key, if it has one.
    async fn find_link_key(&self, merchant: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query("SELECT secret FROM link_keys WHERE merchant_id = $1")
                .bind(merchant)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?,
        )
    }

    /// Replace the merchant's link key.
    async fn roll_link_key(&self, merchant: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO link_keys (merchant_id, secret, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (merchant_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at",
        )
        .bind(merchant)
        .bind(hex::encode(rand::random::<[u8; 32]>()))
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// The signature of a link to `what` of `merchant` that works until
/// `expires` (ms since the epoch).
pub async fn sign(
    state: &AppState,
    merchant: &str,
    what: &str,
    expires: i64,
) -> Result<String, ApiError> {
    let key = state.store.link_key(merchant).await?;
    Ok(signature(&key, merchant, what, expires))
}

fn signature(key: &str, merchant: &str, what: &str, expires: i64) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(format!("{merchant}\n{what}\n{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `sig` signs a link to `what` of `merchant` until `expires`,
/// and it has not expired: 401 `invalid_link` or `link_expired` if not.
pub async fn check(
    state: &AppState,
    merchant: &str,
    what: &str,
    expires: i64,
    sig: &str,
) -> Result<(), ApiError> {
    let refuse = |code, message: &str| ApiError::new(StatusCode::UNAUTHORIZED, code, message);
    // A merchant that never signed a link has no key: nothing is valid.
    let key = state.store.find_link_key(merchant).await?;
    let expected = key.map(|k| signature(&k, merchant, what, expires));
    if !expected.is_some_and(|e| constant_time_eq(sig.as_bytes(), e.as_bytes())) {
        return Err(refuse(
            Code::InvalidLink,
            "this link is not valid (or was revoked); ask for a new one",
        ));
    }
    if expires < crate::now_ms() {
        return Err(refuse(
            Code::LinkExpired,
            "this link has expired; ask for a new one",
        ));
    }
    Ok(())
}

/// Links revoked.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Revoked {
    /// `true`: every link given out before now stops working.
    pub revoked: bool,
}

/// `POST /v1/merchants/{m}/links/revoke`: every link the merchant gave
/// out (survey reports) stops working; new ones work.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/links/revoke", tag = "merchants", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "Every link given out stopped working", body = Revoked)))]
pub async fn revoke(
    State(state): State<AppState>,
    ForMerchant {
        merchant, actor, ..
    }: ForMerchant,
) -> Result<Response, ApiError> {
    state.store.roll_link_key(&merchant).await?;
    state
        .store
        .record_event(&merchant, "links", "revoke", &actor, &serde_json::json!({}))
        .await?;
    Ok(axum::Json(Revoked { revoked: true }).into_response())
}
