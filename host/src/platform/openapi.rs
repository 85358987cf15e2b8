//! The API's OpenAPI 3.1 description, generated from the handlers'
//! annotations (utoipa) as each feature's routes are built, served at
//! `/openapi.json`, and as a readable page at `/docs`.
//!
//! Every operation can answer with the shared error body; this module adds
//! those answers and the bearer-token security to each operation, so the
//! handlers only declare what is particular to them.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::http::html_escape as esc;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};

/// The body of every error: a stable `code` and a message in plain words.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable (`invalid_input`, `not_found`, `rate_limited`…).
    pub code: super::codes::Code,
    /// What went wrong, in plain words.
    pub message: String,
}

/// Error answers any operation may give, with when.
const ERRORS: [(&str, &str); 10] = [
    ("400", "The request is malformed (query, path or body)."),
    ("401", "No or an unknown bearer token."),
    (
        "403",
        "The token may not do this (e.g. a merchant key on an operator endpoint).",
    ),
    (
        "404",
        "No such merchant, object or endpoint (another merchant's key gets this too).",
    ),
    (
        "409",
        "It exists already (a merchant id; a plugin version with other contents).",
    ),
    (
        "408",
        "The request took too long to send and answer (an upload: it sent nothing for that long).",
    ),
    ("413", "The body is larger than this endpoint accepts."),
    (
        "422",
        "The body is well-formed but breaks a rule; `message` says which.",
    ),
    (
        "429",
        "Over a rate limit; `Retry-After` says when to try again.",
    ),
    (
        "503",
        "The merchant's plugin calls are all busy; `Retry-After` says when to try again.",
    ),
];

/// Complete the description the routes produced: title, security, and the
/// shared error answers on every operation.
pub fn finish(mut api: OpenApi, needs: Option<&super::keys::Permissions>) -> OpenApi {
    api.info.title = "Cove".into();
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.info.description = Some(
        "Customer-experience policies as sandboxed WebAssembly plugins, and the storefront widget. \
         Errors are `{\"code\", \"message\"}` with a 4xx status. Operator endpoints need the operator \
         token; merchant endpoints accept the operator token or that merchant's API key (as \
         `Authorization: Bearer …`)."
            .into(),
    );
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    components.schemas.insert(
        "ErrorBody".into(),
        <ErrorBody as utoipa::PartialSchema>::schema(),
    );
    components.schemas.insert(
        "Code".into(),
        <super::codes::Code as utoipa::PartialSchema>::schema(),
    );
    for (path, item) in api.paths.paths.iter_mut() {
        let secured = path.starts_with("/v1/");
        let merchant = path.starts_with("/v1/merchants/{merchant}");
        for (method, op) in operations(item) {
            for (status, when) in ERRORS {
                op.responses
                    .responses
                    .entry(status.into())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(when)
                            .content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                                    .build(),
                            )
                            .build()
                            .into()
                    });
            }
            if secured {
                // A merchant endpoint names the API-key scope it needs.
                let scope: Vec<String> = needs
                    .filter(|_| merchant)
                    .map(|n| {
                        n.needs(&method, path)
                            .names()
                            .into_iter()
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default();
                op.security = Some(vec![SecurityRequirement::new("bearer", scope)]);
            }
        }
    }
    api
}

fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (axum::http::Method, &mut Operation)> {
    use axum::http::Method;
    [
        (Method::GET, item.get.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
        (Method::HEAD, item.head.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

/// `/openapi.json` and `/docs` for `api`.
pub fn routes<S: Clone + Send + Sync + 'static>(api: &OpenApi) -> Router<S> {
    let json: Arc<str> = api.to_pretty_json().unwrap_or_default().into();
    let html: Arc<str> = docs_page(api).into();
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.to_string(),
                    )
                }
            }),
        )
        .route(
            "/docs",
            get(move || {
                let html = html.clone();
                async move {
                    (
                        [
                            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                            (
                                header::CONTENT_SECURITY_POLICY,
                                "default-src 'none'; style-src 'unsafe-inline'",
                            ),
                        ],
                        html.to_string(),
                    )
                        .into_response()
                }
            }),
        )
}

/// The API as one readable page: operations grouped by tag, each with its
/// description, parameters, body and answers. Self-contained, so it works
/// on hosts without internet access.
fn docs_page(api: &OpenApi) -> String {
    let mut ops: Vec<(String, String, &str, &Operation)> = Vec::new();
    for (path, item) in &api.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
        ] {
            if let Some(op) = op {
                let tag = op
                    .tags
                    .as_ref()
                    .and_then(|t| t.first().cloned())
                    .unwrap_or_else(|| "other".into());
                ops.push((tag, path.clone(), method, op));
            }
        }
    }
    ops.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cove API</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>\
         body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1c2430}\
         h2{margin-top:2.5rem;border-bottom:1px solid #dde;text-transform:capitalize}\
         .op{margin:1.2rem 0;padding:.6rem 1rem;border-left:4px solid #0b6e4f;background:#f6f8fa}\
         code{font:13px ui-monospace,monospace}.m{font-weight:700;margin-right:.5rem}\
         table{border-collapse:collapse}td{padding:.1rem .6rem .1rem 0;vertical-align:top}\
         </style></head><body><h1>Cove API</h1>",
    );
    let _ = write!(
        out,
        "<p>{}</p><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3.1).</p>",
        esc(api.info.description.as_deref().unwrap_or_default()),
    );
    let mut current = String::new();
    for (tag, path, method, op) in ops {
        if tag != current {
            let _ = write!(out, "<h2>{}</h2>", esc(&tag));
            current = tag;
        }
        let _ = write!(
            out,
            "<div class=\"op\"><p><span class=\"m\">{method}</span><code>{}</code></p>",
            esc(&path)
        );
        if let Some(summary) = &op.summary {
            let _ = write!(out, "<p><strong>{}</strong></p>", esc(summary));
        }
        if let Some(description) = &op.description {
            let _ = write!(out, "<p>{}</p>", esc(description));
        }
        if let Some(params) = &op.parameters
            && !params.is_empty()
        {
            out.push_str("<table>");
            for p in params {
                let _ = write!(
                    out,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    esc(&p.name),
                    match p.parameter_in {
                        utoipa::openapi::path::ParameterIn::Path => "path",
                        utoipa::openapi::path::ParameterIn::Query => "query",
                        utoipa::openapi::path::ParameterIn::Header => "header",
                        utoipa::openapi::path::ParameterIn::Cookie => "cookie",
                    },
                    esc(p.description.as_deref().unwrap_or_default())
                );
            }
            out.push_str("</table>");
        }
        let answers: Vec<String> = op
            .responses
            .responses
            .keys()
            .filter(|s| s.starts_with('2'))
            .cloned()
            .collect();
        let _ = write!(out, "<p>Answers {}.</p></div>", answers.join(", "));
    }
    out.push_str("</body></html>");
    out
}
