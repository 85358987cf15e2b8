//! The search core compiled to wasm, run by `wasm-bindgen-test` (in Node):
//! the same answers as natively, through the exported API.
#![cfg(target_arch = "wasm32")]

use cove_search::{Article, Index};
use cove_widget::Search;
use wasm_bindgen_test::wasm_bindgen_test;

fn index_bytes() -> Vec<u8> {
    let article = |id: &str, locale_title: &str, body: &str| Article {
        id: id.into(),
        title: locale_title.into(),
        body: body.into(),
        ..Article::default()
    };
    Index::build(
        "en",
        &[
            article("refund", "How refunds work", "Money back within 5 days."),
            article("ship", "Shipping times", "Orders ship in 2 days."),
            article("zh", "退货政策", "收到商品后十四天内可以申请退货。"),
        ],
    )
    .to_bytes()
}

#[wasm_bindgen_test]
fn typos_prefixes_and_bigrams_work_in_wasm() {
    let search = Search::new(&index_bytes()).expect("index loads");
    assert_eq!(search.articles(), 3);
    assert_eq!(
        search.query("refnud ", 0.0, 3)[..2],
        ["refund", "How refunds work"]
    );
    assert_eq!(search.query("shipp", 0.0, 3)[0], "ship");
    assert_eq!(search.query("退货政册", 0.0, 3)[0], "zh");
    assert!(search.query("zzzz ", 0.0, 3).is_empty());
}

#[wasm_bindgen_test]
fn wasm_ranks_exactly_like_native() {
    let bytes = index_bytes();
    let native = Index::from_bytes(&bytes).unwrap();
    let search = Search::new(&bytes).unwrap();
    for q in ["refunds", "ship days ", "申请退货", "monye "] {
        let expected: Vec<String> = native
            .search(q, 0, 5)
            .into_iter()
            .flat_map(|h| [h.id, h.title])
            .collect();
        assert_eq!(search.query(q, 0.0, 5), expected, "{q}");
    }
}

#[wasm_bindgen_test]
fn damaged_index_is_an_error_not_a_panic() {
    let mut bytes = index_bytes();
    bytes.truncate(bytes.len() / 2);
    assert!(Search::new(&bytes).is_err());
}
