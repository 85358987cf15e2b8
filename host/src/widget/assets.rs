//! The widget's files: the loader behind the script tag and the runtime
//! (wasm search core, glue, UI), gzipped once and cached by version.

use std::collections::HashMap;
use std::path::Path as FsPath;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::platform::http::Code;
use crate::platform::http::{ApiError, gzipped};

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
                    gz: crate::platform::http::gzip(&bytes),
                },
            );
        }
        let version = hex::encode(&hash.finalize()[..6]);
        let loader = String::from_utf8(read("widget.js")?)?.replace("__COVE_V__", &version);
        Ok(Assets {
            version,
            loader: Asset {
                content_type: "text/javascript; charset=utf-8",
                gz: crate::platform::http::gzip(loader.as_bytes()),
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
        Code::WidgetNotBuilt,
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
#[utoipa::path(get, path = "/widget.js", tag = "widget (public)", responses((status = 200, description = "The loader behind the script tag", body = String, content_type = "text/javascript"), (status = 503, description = "The host was started without the widget")))]
pub async fn loader(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let assets = state
        .get::<super::WidgetState>()
        .assets
        .as_ref()
        .ok_or_else(not_built)?;
    Ok(with_cors_any(gzipped(
        &headers,
        &assets.loader.gz,
        assets.loader.content_type,
        "public, max-age=300",
    )))
}

/// `GET /widget/{version}/{file}`: the runtime, cached forever per version.
#[utoipa::path(get, path = "/widget/{version}/{file}", tag = "widget (public)", params(("version" = String, Path, description = "Widget version"), ("file" = String, Path, description = "ui.js, cove_widget.js or cove_widget_bg.wasm")), responses((status = 200, description = "A runtime file", body = Vec<u8>, content_type = "application/octet-stream"), (status = 503, description = "The host was started without the widget")))]
pub async fn runtime(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((version, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let assets = state
        .get::<super::WidgetState>()
        .assets
        .as_ref()
        .ok_or_else(not_built)?;
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
