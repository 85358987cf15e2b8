//! # cove-widget: the storefront widget's wasm runtime
//!
//! The browser side of knowledge search: it loads the index the host built
//! (see [`cove_search::wire`]'s shards) and answers queries as the visitor
//! types, with the very code the host's search endpoint runs. The DOM side
//! (shadow root, dialog, surveys, answer queue) is the small script
//! `js/ui.js`, which fetches the shards [`Search::missing`] names; the
//! loader behind the script tag is `js/loader.js`.

use cove_search::Index;
use wasm_bindgen::prelude::*;

/// A merchant's search index for one locale, filled shard by shard.
#[wasm_bindgen]
pub struct Search(Index);

#[wasm_bindgen]
impl Search {
    /// Read the index's `meta` shard; refuses damaged bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(meta: &[u8]) -> Result<Search, JsError> {
        Index::from_meta(meta)
            .map(Search)
            .map_err(|e| JsError::new(e.reason()))
    }

    /// Number of articles in the index.
    #[wasm_bindgen(getter)]
    pub fn articles(&self) -> usize {
        self.0.articles()
    }

    /// The shards still needed to answer `query` (empty once it can).
    pub fn missing(&self, query: &str, now_ms: f64, limit: usize) -> Vec<String> {
        self.0.missing(query, now_ms as i64, limit)
    }

    /// Add a shard [`Search::missing`] named; refuses damaged bytes.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), JsError> {
        self.0
            .add(name, bytes)
            .map_err(|e| JsError::new(e.reason()))
    }

    /// The `limit` best articles for `query` valid at `now_ms`, flattened
    /// as `[id, title, id, title, …]` (one allocation, no JSON on either
    /// side).
    pub fn query(&self, query: &str, now_ms: f64, limit: usize) -> Vec<String> {
        self.0
            .search(query, now_ms as i64, limit)
            .into_iter()
            .flat_map(|h| [h.id, h.title])
            .collect()
    }
}
