//! The search core compiled to wasm, run by `wasm-bindgen-test` (in Node):
//! the same answers as natively, through the exported API, shard by shard.
#![cfg(target_arch = "wasm32")]

use cove_search::{Article, Index, Lexicon};
use cove_widget::Search;
use wasm_bindgen_test::wasm_bindgen_test;

fn index() -> Index {
    let article = |id: &str, locale_title: &str, body: &str| Article {
        id: id.into(),
        title: locale_title.into(),
        body: body.into(),
        ..Article::default()
    };
    let lexicon = Lexicon {
        variants: [('貨', '货')].into(),
        ..Lexicon::default()
    };
    Index::build(
        "en",
        &[
            article("refund", "How refunds work", "Money back within 5 days."),
            article("ship", "Shipping times", "Orders ship in 2 days."),
            article("zh", "退货政策", "收到商品后十四天内可以申请退货。"),
        ],
        &lexicon,
    )
}

/// What the widget's script does: fetch what `missing` names, then query.
fn answer(search: &mut Search, shards: &[(String, Vec<u8>)], q: &str) -> Vec<String> {
    for _ in 0..3 {
        for name in search.missing(q, 0.0, 5) {
            let (_, bytes) = shards.iter().find(|(n, _)| *n == name).unwrap();
            search.add(&name, bytes).expect("shard loads");
        }
    }
    assert!(search.missing(q, 0.0, 5).is_empty());
    search.query(q, 0.0, 5)
}

#[wasm_bindgen_test]
fn typos_prefixes_variants_and_bigrams_work_in_wasm() {
    let shards = index().shards();
    let mut search = Search::new(&shards[0].1).expect("meta loads");
    assert_eq!(search.articles(), 3);
    assert_eq!(
        answer(&mut search, &shards, "refnud ")[..2],
        ["refund", "How refunds work"]
    );
    assert_eq!(answer(&mut search, &shards, "shipp")[0], "ship");
    assert_eq!(answer(&mut search, &shards, "退货政册")[0], "zh");
    assert_eq!(answer(&mut search, &shards, "退貨")[0], "zh");
    assert!(answer(&mut search, &shards, "zzzz ").is_empty());
}

#[wasm_bindgen_test]
fn wasm_ranks_exactly_like_native() {
    let native = index();
    let shards = native.shards();
    let mut search = Search::new(&shards[0].1).unwrap();
    for q in ["refunds", "ship days ", "申请退货", "monye "] {
        let expected: Vec<String> = native
            .search(q, 0, 5)
            .into_iter()
            .flat_map(|h| [h.id, h.title])
            .collect();
        assert_eq!(answer(&mut search, &shards, q), expected, "{q}");
    }
}

#[wasm_bindgen_test]
fn damaged_shards_are_an_error_not_a_panic() {
    let shards = index().shards();
    let mut meta = shards[0].1.clone();
    meta.truncate(meta.len() / 2);
    assert!(Search::new(&meta).is_err());
    let mut search = Search::new(&shards[0].1).unwrap();
    let (name, bytes) = &shards[1];
    assert!(search.add(name, &bytes[..bytes.len() - 1]).is_err());
}
