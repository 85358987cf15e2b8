//! Inbound SMS straight from an SMS provider: Twilio's webhook, proved by
//! its own signature (`X-Twilio-Signature`: HMAC-SHA1 with the merchant's
//! Twilio auth token over the URL Twilio called and the POST parameters
//! sorted by name), not by a Cove key. The message's time is the host's
//! receive time, so keywords act in the order they arrive.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hmac::{Hmac, Mac};

use super::store::MessagingDb;
use crate::AppState;
use crate::platform::guard::ClientIp;
use crate::platform::http::{ApiError, Code, ForMerchant, JsonBody, constant_time_eq};

/// The signature Twilio sends for a request to `url` with the form
/// parameters `params`, signed with `auth_token`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The URL the provider called, as it saw it: the scheme a proxy in front
/// says (`X-Forwarded-Proto`), else http; the `Host` header; path and query.
fn called_url(headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map_or("http", str::trim);
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    format!("{scheme}://{host}{path}")
}

/// Where a merchant's SMS provider is configured.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Provider {
    /// Whether a Twilio auth token is stored (it is never shown).
    pub twilio: bool,
    /// The path to give Twilio as the messaging webhook (on this host's
    /// public address).
    pub webhook: String,
}

/// The merchant's Twilio credentials.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    /// The Twilio account's auth token (it signs every webhook).
    pub twilio_auth_token: String,
}

/// `GET /v1/merchants/{m}/sms-provider`: whether Twilio is set up, and the
/// webhook to give it.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/sms-provider", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "The provider's state", body = Provider)))]
pub async fn show(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    Ok(axum::Json(Provider {
        twilio: MessagingDb(&state.store)
            .twilio_token(&merchant)
            .await?
            .is_some(),
        webhook: format!("/hooks/twilio/{merchant}/sms"),
    })
    .into_response())
}

/// `PUT /v1/merchants/{m}/sms-provider`: store the Twilio auth token that
/// signs the merchant's inbound SMS webhooks.
#[utoipa::path(put, path = "/v1/merchants/{merchant}/sms-provider", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id")), request_body = ProviderInput, responses((status = 200, description = "Stored", body = Provider)))]
pub async fn set(
    State(state): State<AppState>,
    ForMerchant {
        merchant, actor, ..
    }: ForMerchant,
    JsonBody(input): JsonBody<ProviderInput>,
) -> Result<Response, ApiError> {
    let t = input.twilio_auth_token.trim();
    if !(16..=128).contains(&t.len()) || !t.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::unprocessable(
            Code::InvalidProvider,
            "a Twilio auth token is 16 to 128 letters and digits (Twilio console → Account → API keys & tokens)",
        ));
    }
    MessagingDb(&state.store)
        .set_twilio_token(&merchant, t)
        .await?;
    // The token is a credential: who changed it is audited (never the token).
    state
        .store
        .record_event(
            &merchant,
            "sms-provider",
            "set",
            &actor,
            &serde_json::json!({"twilio": true}),
        )
        .await?;
    Ok(axum::Json(Provider {
        twilio: true,
        webhook: format!("/hooks/twilio/{merchant}/sms"),
    })
    .into_response())
}

/// `POST /hooks/twilio/{m}/sms`: Twilio's messaging webhook (form
/// encoded). Refused (403 `bad_signature`) unless `X-Twilio-Signature`
/// matches the merchant's auth token; a wrong signature counts against
/// the caller's address as a wrong key does. Answers empty TwiML (no reply
/// is sent).
#[utoipa::path(post, path = "/hooks/twilio/{merchant}/sms", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id")), request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Twilio's parameters: From, Body, MessageSid, …"), responses((status = 200, description = "Recorded; empty TwiML", body = String, content_type = "text/xml")))]
pub async fn webhook(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: axum::http::Uri,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    if let Some(wait) = state.public.auth_blocked(ip) {
        return Err(ApiError::too_many(
            wait,
            "too many requests with a wrong signature from this address",
        ));
    }
    let axum::Form(params) = form.map_err(|e| {
        ApiError::bad_request(
            Code::InvalidForm,
            format!("Twilio sends a form (application/x-www-form-urlencoded): {e}"),
        )
    })?;
    let refuse = |why: &str| {
        state.public.auth_failed(ip);
        ApiError::new(StatusCode::FORBIDDEN, Code::BadSignature, why.to_string())
    };
    let token = match crate::platform::http::valid_id(&merchant) {
        true => MessagingDb(&state.store).twilio_token(&merchant).await?,
        false => None,
    };
    let Some(token) = token else {
        return Err(refuse("no Twilio auth token is set up for this merchant"));
    };
    let sent = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let expected = signature(&token, &called_url(&headers, &uri), &params);
    if !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return Err(refuse(
            "X-Twilio-Signature does not match this request signed with the merchant's auth token",
        ));
    }
    let field = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let (Some(from), Some(text)) = (field("From"), field("Body")) else {
        return Err(ApiError::unprocessable(
            Code::InvalidPhone,
            "a Twilio message has From and Body",
        ));
    };
    super::record_inbound(&state, &merchant, &from, &text, field("MessageSid")).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/xml")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Twilio's own published example (its request-validation docs and
    /// SDK tests): this token, URL and parameters give this signature.
    #[test]
    fn twilios_published_example_signs_alike() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            signature("12345", url, &params),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        // The order parameters arrive in does not matter; every input does.
        let mut shuffled = params.clone();
        shuffled.reverse();
        assert_eq!(
            signature("12345", url, &shuffled),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert_ne!(
            signature("12346", url, &params),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert_ne!(
            signature("12345", &format!("{url}&x=1"), &params),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }
}
