//! Photos a customer attaches to a return (a damaged item): uploaded to
//! the session, answered by id, shown to the merchant's team.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::Value;

use super::store::{Photo, PhotoLimits, PhotoRefused, ReturnRow};
use super::{ReturnToken, open_session, refused};
use crate::AppState;
use crate::platform::http::Code;
use crate::platform::http::{ApiError, ForMerchant, read_body};
use crate::returns::store::ReturnsDb;

/// The largest photo accepted.
pub const MAX_PHOTO_BYTES: usize = 4 * 1024 * 1024;
/// Photos per return.
pub const MAX_PHOTOS: i64 = 3;
/// Photos per order, over all its returns of the last week.
pub const MAX_PHOTOS_PER_ORDER: i64 = 6;

/// The image type of `bytes` from its first bytes (the declared type is
/// not trusted): JPEG, PNG or WebP.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// `POST /public/v1/{m}/returns/{id}/photos`: attach a photo (the body,
/// a JPEG, PNG or WebP of at most 4 MiB; token in `x-return-token`).
#[utoipa::path(post, path = "/public/v1/{merchant}/returns/{id}/photos", tag = "returns (public)", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Return id"), ("x-return-token" = String, Header, description = "The session's token")), request_body(content = Vec<u8>, content_type = "image/jpeg", description = "The photo: JPEG, PNG or WebP"), responses((status = 201, description = "The photo's id, to answer a photo field with", body = PhotoId), (status = 410, description = "The session lapsed before it was finished"), (status = 415, description = "Not a JPEG, PNG or WebP image")))]
pub async fn upload(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    ReturnToken(token): ReturnToken,
    body: Body,
) -> Result<Response, ApiError> {
    let r = open_session(&state, &merchant, &id, &token).await?;
    if r.status != super::store::ReturnStatus::Open {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::NoForm,
            format!("this return is {}: photos can no longer be added", r.status),
        ));
    }
    let bytes = read_body(body, MAX_PHOTO_BYTES, "the photo").await?;
    let content_type = sniff(&bytes).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::NotAnImage,
            "the photo must be a JPEG, PNG or WebP image",
        )
    })?;
    let photo = Photo {
        id: format!("p-{}", hex::encode(rand::random::<[u8; 8]>())),
        return_id: r.id.clone(),
        content_type: content_type.into(),
        data: base64::engine::general_purpose::STANDARD.encode(&bytes),
    };
    let limits = PhotoLimits {
        per_return: MAX_PHOTOS,
        per_order: MAX_PHOTOS_PER_ORDER,
        quota_bytes: i64::from(state.fair.limits(&merchant).upload_mb) << 20,
    };
    // The limits are checked with the insert, atomically.
    let refused = ReturnsDb(&state.store)
        .insert_return_photo(&merchant, &r, &photo, limits)
        .await?;
    match refused {
        Ok(()) => {}
        Err(PhotoRefused::Return) => {
            return Err(ApiError::unprocessable(
                Code::TooManyPhotos,
                format!("a return takes at most {MAX_PHOTOS} photos"),
            ));
        }
        Err(PhotoRefused::Order) => {
            return Err(ApiError::unprocessable(
                Code::TooManyPhotos,
                format!(
                    "this order's returns have {MAX_PHOTOS_PER_ORDER} photos this week, the most it may have; the shop has them"
                ),
            ));
        }
        Err(PhotoRefused::Quota) => {
            return Err(ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                Code::UploadQuotaFull,
                "this shop cannot take more photos right now; describe the problem in words instead",
            ));
        }
    }
    Ok((StatusCode::CREATED, axum::Json(PhotoId { id: photo.id })).into_response())
}

/// A stored photo's id.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PhotoId {
    /// Its id (`p-…`): the answer to a photo field.
    pub id: String,
}

/// `GET /v1/merchants/{m}/returns/{id}/photos/{photo}`: the image.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/returns/{id}/photos/{photo}", tag = "returns", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Return id"), ("photo" = String, Path, description = "Photo id")), responses((status = 200, description = "The image", content_type = "image/jpeg")))]
pub async fn view(
    State(state): State<AppState>,
    Path((merchant, id, photo)): Path<(String, String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let p = ReturnsDb(&state.store)
        .return_photo(&merchant, &id, &photo)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no photo `{photo}` of return `{id}`")))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&p.data)
        .map_err(ApiError::internal)?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&p.content_type).map_err(ApiError::internal)?,
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    Ok(res)
}

/// Answers to photo fields must name photos of this return.
pub async fn check_answers(
    state: &AppState,
    merchant: &str,
    r: &ReturnRow,
    form: &Value,
    answers: &[(String, String)],
) -> Result<(), ApiError> {
    let fields = form["fields"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let photo_fields: Vec<&str> = fields
        .iter()
        .filter(|f| f["kind"] == "photo")
        .filter_map(|f| f["name"].as_str())
        .collect();
    let given: Vec<&(String, String)> = answers
        .iter()
        .filter(|(f, _)| photo_fields.contains(&f.as_str()))
        .collect();
    if given.is_empty() {
        return Ok(());
    }
    let ids = ReturnsDb(&state.store)
        .return_photo_ids(merchant, &r.id)
        .await?;
    for (field, value) in given {
        if !ids.contains(value) {
            return Err(refused(
                Code::InvalidAnswer,
                field,
                format!("`{field}`: no photo `{value}` was uploaded to this return"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_images_pass_by_their_bytes() {
        assert_eq!(sniff(b"\xff\xd8\xff\xe0rest"), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nIHDR"), Some("image/png"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b""), None);
    }
}
