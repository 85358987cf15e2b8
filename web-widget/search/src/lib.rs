//! # cove-search: the knowledge-search core
//!
//! A merchant's FAQ articles in one locale become an [`Index`]; a query
//! returns the articles ranked by BM25 relevance (title and tags weigh more
//! than body), tolerant of typos (one edit from 4 characters, two from 8, a
//! swap of neighbours counts as one), matching the last word as a prefix
//! while the visitor types, and lifted or lowered by how helpful visitors
//! found each article. Expired or not-yet-valid articles are never returned.
//!
//! The same code runs natively in the host and compiled to wasm in the
//! storefront widget, so both rank alike. It has no dependencies.

#![forbid(unsafe_code)]

pub mod text;
mod wire;

pub use wire::{DecodeError, FORMAT};

use std::collections::{BTreeMap, HashMap};

use text::{Language, edit_distance_from, terms, typo_budget};

/// An article as the merchant wrote it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Article {
    /// Stable id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Body text (Markdown already rendered to plain text).
    pub body: String,
    /// Tags.
    pub tags: Vec<String>,
    /// First moment the article may be shown (ms since epoch).
    pub valid_from: Option<i64>,
    /// Moment from which the article is no longer shown.
    pub valid_until: Option<i64>,
    /// "Was this helpful?" yes votes.
    pub helpful: u32,
    /// "Was this helpful?" no votes.
    pub unhelpful: u32,
}

/// A search result.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// Article id.
    pub id: String,
    /// Article title.
    pub title: String,
    /// Score; only the order is meaningful.
    pub score: f64,
}

#[derive(Clone, Debug)]
struct Doc {
    id: String,
    title: String,
    len: u32,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    helpful: u32,
    unhelpful: u32,
}

#[derive(Clone, Copy, Debug)]
struct Posting {
    doc: u32,
    /// Weighted count of the term in the article (title 3, tag 2, body 1).
    tf: u32,
}

/// The searchable form of one merchant's articles in one locale.
#[derive(Clone, Debug)]
pub struct Index {
    locale: String,
    language: Language,
    docs: Vec<Doc>,
    postings: BTreeMap<String, Vec<Posting>>,
    /// Words as written (folded) that stem to a different term, with that
    /// term: typos are matched on these too.
    surfaces: BTreeMap<String, String>,
    /// Typo candidates (terms and surface words) by length in characters,
    /// with their character mask and the term each stands for: a typo
    /// search only reads the lengths its edit budget can reach.
    by_len: Vec<Vec<(u64, String, String)>>,
    avg_len: f64,
}

/// Weight of a word in a title, a tag and the body.
const TITLE: u32 = 3;
const TAG: u32 = 2;
const BODY: u32 = 1;
/// BM25 parameters.
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// How much a match counts by kind.
const PREFIX_MATCH: f64 = 0.9;
const ONE_EDIT: f64 = 0.75;
const TWO_EDITS: f64 = 0.55;
/// Most index terms one query prefix expands to.
const MAX_PREFIX_EXPANSION: usize = 64;

/// The set of a word's characters, hashed into 64 bits.
fn char_mask(word: &str) -> u64 {
    word.chars().fold(0, |m, c| m | 1 << (c as u32 % 64))
}

/// How much visitors' votes move an article: the votes' mean under a
/// Beta(2, 2) prior (so a few votes move little), mapped to 0.75..1.25.
fn helpfulness(yes: u32, no: u32) -> f64 {
    let mean = (f64::from(yes) + 2.0) / (f64::from(yes) + f64::from(no) + 4.0);
    0.75 + 0.5 * mean
}

impl Index {
    /// Index `articles` written in `locale` (a BCP 47 tag like `de-AT`).
    pub fn build(locale: &str, articles: &[Article]) -> Index {
        let language = Language::of_locale(locale);
        let mut postings: BTreeMap<String, Vec<Posting>> = BTreeMap::new();
        let mut surfaces = BTreeMap::new();
        let mut docs = Vec::with_capacity(articles.len());
        for (n, article) in articles.iter().enumerate() {
            let mut tf: HashMap<String, u32> = HashMap::new();
            let mut len = 0;
            let fields = [
                (article.title.as_str(), TITLE),
                (article.body.as_str(), BODY),
            ]
            .into_iter()
            .chain(article.tags.iter().map(|t| (t.as_str(), TAG)));
            for (field, weight) in fields {
                for term in terms(field, language) {
                    if !term.cjk && term.word != term.text {
                        surfaces
                            .entry(term.word)
                            .or_insert_with(|| term.text.clone());
                    }
                    *tf.entry(term.text).or_default() += weight;
                    len += weight;
                }
            }
            for (term, tf) in tf {
                postings
                    .entry(term)
                    .or_default()
                    .push(Posting { doc: n as u32, tf });
            }
            docs.push(Doc {
                id: article.id.clone(),
                title: article.title.clone(),
                len,
                valid_from: article.valid_from,
                valid_until: article.valid_until,
                helpful: article.helpful,
                unhelpful: article.unhelpful,
            });
        }
        Index::assemble(locale, docs, postings, surfaces)
    }

    /// The index over already-counted documents, postings and surfaces.
    fn assemble(
        locale: &str,
        docs: Vec<Doc>,
        postings: BTreeMap<String, Vec<Posting>>,
        surfaces: BTreeMap<String, String>,
    ) -> Index {
        let mut by_len: Vec<Vec<(u64, String, String)>> = Vec::new();
        let words = postings.keys().map(|t| (t, t)).chain(surfaces.iter());
        for (word, term) in words {
            let n = word.chars().count();
            if by_len.len() <= n {
                by_len.resize(n + 1, Vec::new());
            }
            by_len[n].push((char_mask(word), word.clone(), term.clone()));
        }
        let avg_len = if docs.is_empty() {
            1.0
        } else {
            docs.iter().map(|d| f64::from(d.len)).sum::<f64>() / docs.len() as f64
        };
        Index {
            locale: locale.to_string(),
            language: Language::of_locale(locale),
            docs,
            postings,
            surfaces,
            by_len,
            avg_len: avg_len.max(1.0),
        }
    }

    /// Index terms that stand for `query_term`, with how much each counts.
    fn expand(&self, query_term: &text::Term, is_last: bool) -> Vec<(&str, f64)> {
        let q = query_term.text.as_str();
        let mut out = Vec::new();
        if let Some((term, _)) = self.postings.get_key_value(q) {
            out.push((term.as_str(), 1.0));
        }
        if query_term.cjk {
            return out;
        }
        if is_last && q.chars().count() >= 2 {
            out.extend(
                self.postings
                    .range::<str, _>((std::ops::Bound::Excluded(q), std::ops::Bound::Unbounded))
                    .take_while(|(t, _)| t.starts_with(q))
                    .take(MAX_PREFIX_EXPANSION)
                    .map(|(t, _)| (t.as_str(), PREFIX_MATCH)),
            );
        }
        // Typos are measured on the word as written against the index's
        // words as written and its terms, and on the query's stem.
        let word: Vec<char> = query_term.word.chars().collect();
        let stem: Vec<char> = q.chars().collect();
        let budget = typo_budget(word.len());
        if budget > 0 {
            let shortest = stem.len().min(word.len());
            let longest = stem.len().max(word.len());
            let lengths = shortest.saturating_sub(budget)
                ..=(longest + budget).min(self.by_len.len().saturating_sub(1));
            let word_mask = char_mask(&query_term.word);
            let stem_mask = char_mask(q);
            // Each edit adds or removes at most one letter of the set, so a
            // candidate whose letters differ more is skipped without the
            // (much dearer) edit distance.
            let near = |a: u64, b: u64| {
                (a & !b).count_ones() as usize <= budget && (b & !a).count_ones() as usize <= budget
            };
            for (mask, candidate, term) in lengths.flat_map(|n| &self.by_len[n]) {
                if term == q {
                    continue;
                }
                let by_word = near(word_mask, *mask)
                    .then(|| edit_distance_from(&word, candidate, budget))
                    .flatten();
                let by_stem = (stem != word && near(stem_mask, *mask))
                    .then(|| edit_distance_from(&stem, candidate, budget))
                    .flatten();
                let d = by_word.into_iter().chain(by_stem).min();
                if let Some(d) = d {
                    out.push((term.as_str(), if d == 1 { ONE_EDIT } else { TWO_EDITS }));
                }
            }
        }
        out
    }

    /// The locale the index was built for.
    pub fn locale(&self) -> &str {
        &self.locale
    }

    /// Number of articles (valid or not).
    pub fn articles(&self) -> usize {
        self.docs.len()
    }

    /// The `limit` best articles for `query` that are valid at `now`.
    pub fn search(&self, query: &str, now: i64, limit: usize) -> Vec<Hit> {
        let mut query_terms = terms(query, self.language);
        let mut seen = std::collections::HashSet::new();
        query_terms.retain(|t| seen.insert(t.text.clone()));
        let n = self.docs.len() as f64;
        let mut scores: HashMap<u32, f64> = HashMap::new();
        let last = query_terms.len().saturating_sub(1);
        // Only a query that ends mid-word gets prefix matching.
        let typing = query.chars().last().is_some_and(text::is_word_char);
        for (i, qt) in query_terms.iter().enumerate() {
            // Each query term adds its best match per article, so several
            // expansions of one word never count twice.
            let mut best: HashMap<u32, f64> = HashMap::new();
            for (term, weight) in self.expand(qt, typing && i == last) {
                let postings = &self.postings[term];
                let df = postings.len() as f64;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                for p in postings {
                    let doc = &self.docs[p.doc as usize];
                    let norm = K1 * (1.0 - B + B * f64::from(doc.len) / self.avg_len);
                    let tf = f64::from(p.tf);
                    let s = weight * idf * tf * (K1 + 1.0) / (tf + norm);
                    let entry = best.entry(p.doc).or_default();
                    *entry = entry.max(s);
                }
            }
            for (doc, s) in best {
                *scores.entry(doc).or_default() += s;
            }
        }
        let mut hits: Vec<Hit> = scores
            .into_iter()
            .filter_map(|(d, s)| {
                let doc = &self.docs[d as usize];
                let valid = doc.valid_from.is_none_or(|from| from <= now)
                    && doc.valid_until.is_none_or(|until| now < until);
                valid.then(|| Hit {
                    id: doc.id.clone(),
                    title: doc.title.clone(),
                    score: s * helpfulness(doc.helpful, doc.unhelpful),
                })
            })
            .collect();
        hits.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        hits.truncate(limit);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(id: &str, title: &str, body: &str) -> Article {
        Article {
            id: id.into(),
            title: title.into(),
            body: body.into(),
            ..Article::default()
        }
    }

    fn corpus() -> Vec<Article> {
        vec![
            article(
                "refund",
                "How refunds work",
                "We refund the price to your original payment method within 5 days.",
            ),
            article(
                "shipping",
                "Shipping times",
                "Orders ship within 2 days; international delivery takes 7 to 14 days.",
            ),
            article(
                "returns",
                "Returning an item",
                "Start a return from your account. Pickup is free for members.",
            ),
            article(
                "sizes",
                "Size guide",
                "Compare your measurements with the size chart before you order.",
            ),
        ]
    }

    fn ids(index: &Index, query: &str) -> Vec<String> {
        index
            .search(query, 0, 3)
            .into_iter()
            .map(|h| h.id)
            .collect()
    }

    #[test]
    fn exact_and_word_form_matches_rank_first() {
        let index = Index::build("en", &corpus());
        assert_eq!(ids(&index, "refunds ")[0], "refund");
        assert_eq!(ids(&index, "returned item ")[0], "returns");
        assert_eq!(ids(&index, "size chart ")[0], "sizes");
    }

    #[test]
    fn typos_and_swaps_still_find_the_article() {
        let index = Index::build("en", &corpus());
        for query in ["refnud ", "rfund ", "shiping ", "sihpping ", "delivrey "] {
            let hits = ids(&index, query);
            assert!(!hits.is_empty(), "{query}: nothing");
        }
        assert_eq!(ids(&index, "refnud ")[0], "refund");
        assert_eq!(ids(&index, "shiping ")[0], "shipping");
        // The budget counts the letters typed, not those left after stemming.
        assert_eq!(ids(&index, "tmes ")[0], "shipping");
        assert!(
            ids(&index, "siz ").is_empty(),
            "no typo budget under 4 letters"
        );
    }

    #[test]
    fn the_word_being_typed_matches_as_a_prefix() {
        let index = Index::build("en", &corpus());
        assert_eq!(ids(&index, "intern")[0], "shipping");
        assert!(
            ids(&index, "intern ").is_empty(),
            "a finished word is not a prefix"
        );
    }

    #[test]
    fn chinese_and_german_queries_match_their_articles() {
        let zh = Index::build(
            "zh-CN",
            &[
                article("zh-return", "退货政策", "收到商品后十四天内可以申请退货。"),
                article("zh-ship", "配送时间", "订单两天内发货。"),
            ],
        );
        assert_eq!(ids(&zh, "退货")[0], "zh-return");
        assert_eq!(ids(&zh, "怎么退货")[0], "zh-return");
        let de = Index::build(
            "de-DE",
            &[
                article(
                    "de-return",
                    "Rücksendung",
                    "So funktionieren Rücksendungen.",
                ),
                article("de-ship", "Versand", "Lieferzeiten und Kosten"),
            ],
        );
        assert_eq!(ids(&de, "rucksendungen ")[0], "de-return");
        assert_eq!(ids(&de, "Rücksednung ")[0], "de-return");
        // A misspelt word can stem differently from the word ("versan" →
        // "versa"); typos are also matched on the words as written.
        assert_eq!(ids(&de, "versan ")[0], "de-ship");
    }

    #[test]
    fn expired_and_future_articles_are_never_shown() {
        let mut articles = corpus();
        articles[0].valid_until = Some(100);
        articles[2].valid_from = Some(100);
        let index = Index::build("en", &articles);
        assert!(
            index
                .search("refund ", 100, 5)
                .iter()
                .all(|h| h.id != "refund")
        );
        assert!(
            index
                .search("refund ", 99, 5)
                .iter()
                .any(|h| h.id == "refund")
        );
        assert!(
            index
                .search("return ", 99, 5)
                .iter()
                .all(|h| h.id != "returns")
        );
        assert!(
            index
                .search("return ", 100, 5)
                .iter()
                .any(|h| h.id == "returns")
        );
    }

    #[test]
    fn helpful_votes_lift_and_unhelpful_votes_lower() {
        let twin = |id: &str, yes, no| Article {
            helpful: yes,
            unhelpful: no,
            ..article(id, "Gift cards", "Gift cards never expire.")
        };
        let index = Index::build("en", &[twin("a", 0, 40), twin("b", 40, 0)]);
        assert_eq!(ids(&index, "gift card "), ["b", "a"]);
        assert!(
            helpfulness(1, 0) < helpfulness(20, 0),
            "more evidence moves more"
        );
    }

    #[test]
    fn title_matches_outrank_body_matches() {
        let index = Index::build(
            "en",
            &[
                article("body", "Account", "You can pay with a voucher."),
                article("title", "Vouchers", "Where to enter one."),
            ],
        );
        assert_eq!(ids(&index, "voucher ")[0], "title");
    }
}
