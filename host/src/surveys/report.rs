//! The survey report a merchant opens in a browser: a signed 24-hour link
//! (HMAC) to a page with the NPS, the 0–10 spread, choice shares and the
//! latest comments, under a CSP that allows nothing but its own styles.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::results::summary;
use super::with_answers;
use crate::AppState;
use crate::platform::http::{ApiError, ForMerchant, html_escape as esc};
use crate::platform::links;

/// How long a report link works.
const LINK_MS: i64 = 24 * 3_600_000;

/// A signed report link's query: valid until `expires` (ms), for one
/// merchant's survey.
#[derive(Deserialize, Default)]
pub struct LinkQuery {
    expires: Option<i64>,
    sig: Option<String>,
}

/// What a report link opens.
fn linked(id: &str) -> String {
    format!("survey-report/{id}")
}

/// The merchant's key, the operator token, or a signed link that has not
/// expired (or been revoked).
pub(super) async fn report_access(
    state: &AppState,
    caller: Result<ForMerchant, ApiError>,
    link: &LinkQuery,
    merchant: &str,
    id: &str,
) -> Result<(), ApiError> {
    let (Some(expires), Some(sig)) = (link.expires, &link.sig) else {
        return caller.map(|_| ());
    };
    // The link is the credential: a bad or stale one is refused like a
    // bad token.
    links::check(state, merchant, &linked(id), expires, sig).await
}

/// `POST /v1/merchants/{m}/surveys/{id}/report-link`: a link to the
/// survey's report (and CSV) that opens in a browser for 24 hours.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/surveys/{id}/report-link", tag = "surveys", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Survey id")), responses((status = 200, description = "A link valid for 24 hours", body = ReportLink)))]
pub async fn report_link(
    State(state): State<AppState>,
    _: ForMerchant,
    Path((merchant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    with_answers(&state, &merchant, &id).await?;
    let expires = crate::now_ms() + LINK_MS;
    let q = format!(
        "expires={expires}&sig={}",
        links::sign(&state, &merchant, &linked(&id), expires).await?
    );
    let base = format!("/v1/merchants/{merchant}/surveys/{id}");
    Ok(axum::Json(ReportLink {
        report: format!("{base}/report?{q}"),
        csv: format!("{base}/results.csv?{q}"),
        expires_at: expires,
    })
    .into_response())
}

/// Links to a survey's report and answers that need no key.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ReportLink {
    /// The report page.
    pub report: String,
    /// The answers as CSV.
    pub csv: String,
    /// When both stop working (ms since the epoch).
    pub expires_at: i64,
}

/// A labelled horizontal bar: `share` of the full width.
fn bar(label: &str, count: u64, share: f64) -> String {
    format!(
        "<div class=bar><span class=l>{}</span><span class=t><span class=f style=\"width:{:.1}%\"></span></span><span class=n>{count} · {:.0}%</span></div>",
        esc(label),
        share * 100.0,
        share * 100.0
    )
}

/// `GET /v1/merchants/{m}/surveys/{id}/report`: the results as a page a
/// merchant reads: NPS with promoters/passives/detractors, the 0–10
/// spread, choice shares as bars, the latest text answers.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/surveys/{id}/report", tag = "surveys", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Survey id"), ("expires" = Option<i64>, Query, description = "A report link's expiry (ms)"), ("sig" = Option<String>, Query, description = "A report link's signature")), responses((status = 200, description = "The report page", body = String, content_type = "text/html")))]
pub async fn report(
    State(state): State<AppState>,
    caller: Result<ForMerchant, ApiError>,
    Path((merchant, id)): Path<(String, String)>,
    link: Result<Query<LinkQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let link = crate::platform::http::query(link)?;
    report_access(&state, caller, &link, &merchant, &id).await?;
    let (survey, answers) = with_answers(&state, &merchant, &id).await?;
    let sum = serde_json::json!(summary(&id, &survey, &answers));
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let mut html = format!(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>{t}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:760px;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}\
         h2{{font-size:1.1rem;margin-top:2rem}}.big{{font-size:2.6rem;font-weight:700;margin:0}}.muted{{color:#555}}\
         .bar{{display:flex;align-items:center;gap:.6rem;margin:.3rem 0}}.l{{width:12rem}}.t{{flex:1;background:#eee;border-radius:4px;height:1.1rem;overflow:hidden}}\
         .f{{display:block;height:100%;background:#0b6e4f}}.n{{width:6.5rem;text-align:right;font-variant-numeric:tabular-nums}}\
         .stack{{display:flex;height:1.4rem;border-radius:6px;overflow:hidden;margin:.5rem 0}}.p{{background:#1a9850}}.m{{background:#bdbdbd}}.d{{background:#d73027}}\
         .cols{{display:flex;align-items:flex-end;gap:4px;height:110px;border-bottom:1px solid #999}}.cols span{{flex:1;background:#0b6e4f}}\
         .axis{{display:flex;gap:4px}}.axis span{{flex:1;text-align:center;font-size:.8rem;color:#555}}blockquote{{margin:.5rem 0;padding:.4rem .8rem;border-left:4px solid #ccc;background:#fafafa}}</style>\
         <h1>{t}</h1><p class=muted>{r} responses",
        t = esc(sum["title"].as_str().unwrap_or("")),
        r = n(&sum["responses"]),
    );
    if let (Some(e), Some(sig)) = (link.expires, &link.sig) {
        html.push_str(&format!(
            " · <a href=\"results.csv?expires={e}&amp;sig={}\">download CSV</a>",
            esc(sig)
        ));
    }
    html.push_str("</p>");
    for q in sum["questions"].as_array().into_iter().flatten() {
        html.push_str(&format!(
            "<h2>{}</h2><p class=muted>{} answered</p>",
            esc(q["prompt"].as_str().unwrap_or("")),
            n(&q["answered"])
        ));
        if let Some(nps) = q.get("nps") {
            let (p, m, d) = (
                n(&nps["promoters"]),
                n(&nps["passives"]),
                n(&nps["detractors"]),
            );
            let total = (p + m + d).max(1) as f64;
            let score = nps["score"]
                .as_f64()
                .map_or("–".to_string(), |s| format!("{s:+.0}"));
            html.push_str(&format!(
                "<p class=big>NPS {score}</p><div class=stack title=\"promoters, passives, detractors\">\
                 <span class=p style=\"width:{:.1}%\"></span><span class=m style=\"width:{:.1}%\"></span><span class=d style=\"width:{:.1}%\"></span></div>\
                 <p class=muted>{p} promoters (9–10) · {m} passives (7–8) · {d} detractors (0–6)</p>",
                p as f64 * 100.0 / total,
                m as f64 * 100.0 / total,
                d as f64 * 100.0 / total
            ));
            let spread: Vec<u64> = q["distribution"]
                .as_array()
                .into_iter()
                .flatten()
                .map(n)
                .collect();
            let most = spread.iter().copied().max().unwrap_or(0).max(1) as f64;
            html.push_str("<div class=cols>");
            for c in &spread {
                html.push_str(&format!(
                    "<span title=\"{c}\" style=\"height:{:.1}%\"></span>",
                    *c as f64 * 100.0 / most
                ));
            }
            html.push_str("</div><div class=axis>");
            for i in 0..spread.len() {
                html.push_str(&format!("<span>{i}</span>"));
            }
            html.push_str("</div>");
        }
        for c in q["choices"].as_array().into_iter().flatten() {
            html.push_str(&bar(
                c["label"].as_str().unwrap_or(""),
                n(&c["count"]),
                c["share"].as_f64().unwrap_or(0.0),
            ));
        }
        for t in q["texts"].as_array().into_iter().flatten().take(30) {
            html.push_str(&format!(
                "<blockquote>{}</blockquote>",
                esc(t["text"].as_str().unwrap_or(""))
            ));
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response())
}
