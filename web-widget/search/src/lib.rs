//! # cove-search: the knowledge-search core
//!
//! A merchant's FAQ articles in one locale become an [`Index`]; a query
//! returns the articles ranked by BM25 relevance (title, tags and the first
//! paragraph weigh more than the rest), tolerant of typos (one edit from 4
//! characters, two from 8, a swap of neighbours counts as one), matching the
//! last word as a prefix while the visitor types, splitting and joining
//! compound words (`Gutscheincode`, `giftcard`), dropping a language's stop
//! words from questions, and lifted or lowered by how helpful visitors found
//! each article. A [`Lexicon`] brings what a language or merchant knows:
//! character variants (Traditional ↔ Simplified Chinese), stop words and
//! synonyms (readings of Japanese words among them). Expired or
//! not-yet-valid articles are never returned.
//!
//! The same code runs natively in the host and compiled to wasm in the
//! storefront widget, so both rank alike. In the widget the index arrives
//! in shards (see [`wire`]): a search fetches only the postings its terms
//! need and the titles of the articles it shows. It has no dependencies.

#![forbid(unsafe_code)]

pub mod text;
pub mod wire;

pub use wire::{DecodeError, FORMAT};

use std::collections::{BTreeMap, BTreeSet, HashMap};

use text::{Language, Term, edit_distance_from, terms_with, typo_budget};

/// An article as the merchant wrote it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Article {
    /// Stable id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Body text (Markdown already rendered to plain text; paragraphs
    /// separated by a blank line, the first one weighing more).
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

/// What a language and a merchant know beyond the articles' words.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lexicon {
    /// Characters searched as another one, at index and at query time (a
    /// Traditional Chinese character as its Simplified form). Travels with
    /// the index, so the widget folds a query as the host does.
    pub variants: BTreeMap<char, char>,
    /// Words a question can do without ("how", "do", "I"), folded: dropped
    /// from a query that has other words. Travels with the index.
    pub stop_words: BTreeSet<String>,
    /// Words and phrases that mean the same to shoppers: an article with one
    /// of a group is also found by the others (applied when indexing).
    pub synonyms: Vec<Vec<String>>,
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
    /// Id and title; `None` in the widget until their shard has arrived.
    label: Option<(String, String)>,
    len: u32,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    helpful: u32,
    unhelpful: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Posting {
    doc: u32,
    /// Weighted count of the term in the article (title 3, tag and first
    /// paragraph 2, rest of the body 1, plus what synonyms lend).
    tf: u32,
}

/// The searchable form of one merchant's articles in one locale: whole in
/// the host, filled shard by shard in the widget.
#[derive(Clone, Debug)]
pub struct Index {
    locale: String,
    language: Language,
    docs: Vec<Doc>,
    /// Every term, sorted: the vocabulary typos and prefixes are matched on.
    terms: Vec<String>,
    /// Postings per term (same order); `None` until the term's shard is in.
    postings: Vec<Option<Vec<Posting>>>,
    /// First term of each postings shard.
    shard_starts: Vec<u32>,
    /// Words as written (folded) that stem to a different term, with that
    /// term: typos are matched on these too.
    surfaces: Vec<(String, u32)>,
    /// Typo candidates (terms and surface words) by length in characters,
    /// with their character mask and the term each stands for: a typo
    /// search only reads the lengths its edit budget can reach.
    by_len: Vec<Vec<(u64, String, u32)>>,
    avg_len: f64,
    /// Sorted; vectors, not maps, keep the widget's wasm small.
    variants: Vec<(char, char)>,
    /// Sorted.
    stop_words: Vec<String>,
}

/// Weight of a word in a title, a tag, the first paragraph and the rest of
/// the body.
const TITLE: u32 = 3;
const TAG: u32 = 2;
const LEAD: u32 = 2;
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
/// Shortest part of a compound word that is searched on its own.
const MIN_PART: usize = 3;
/// Linking letters between the parts of a compound (`Sendung·s·nummer`).
const LINKS: [&str; 5] = ["", "s", "es", "n", "en"];

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
    /// Index `articles` written in `locale` (a BCP 47 tag like `de-AT`),
    /// with what `lexicon` knows.
    pub fn build(locale: &str, articles: &[Article], lexicon: &Lexicon) -> Index {
        let language = Language::of_locale(locale);
        let variants: Vec<(char, char)> = lexicon.variants.iter().map(|(&a, &b)| (a, b)).collect();
        let v = &variants;
        let synonyms: Vec<Vec<Vec<String>>> = lexicon
            .synonyms
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|p| {
                        terms_with(p, language, v)
                            .into_iter()
                            .map(|t| t.text)
                            .collect()
                    })
                    .filter(|p: &Vec<String>| !p.is_empty())
                    .collect()
            })
            .collect();
        let mut postings: BTreeMap<String, Vec<Posting>> = BTreeMap::new();
        let mut surfaces: BTreeMap<String, String> = BTreeMap::new();
        let mut docs = Vec::with_capacity(articles.len());
        for (n, article) in articles.iter().enumerate() {
            let mut tf: HashMap<String, u32> = HashMap::new();
            let mut len = 0;
            let (lead, rest) = article
                .body
                .split_once("\n\n")
                .unwrap_or((&article.body, ""));
            let fields = [(article.title.as_str(), TITLE), (lead, LEAD), (rest, BODY)]
                .into_iter()
                .chain(article.tags.iter().map(|t| (t.as_str(), TAG)));
            for (field, weight) in fields {
                for term in terms_with(field, language, v) {
                    if !term.cjk && term.word != term.text {
                        surfaces
                            .entry(term.word)
                            .or_insert_with(|| term.text.clone());
                    }
                    *tf.entry(term.text).or_default() += weight;
                    len += weight;
                }
            }
            // A group one of whose phrases the article has lends it all its
            // words, as strongly as the phrase is there (a synonym of a title word counts as a title word, of a
            // passing mention as a passing mention); a word the article has
            // more strongly keeps its own weight.
            let mut lent: HashMap<&String, u32> = HashMap::new();
            for group in &synonyms {
                let weight = group
                    .iter()
                    .filter_map(|p| p.iter().map(|t| tf.get(t).copied()).min().flatten())
                    .max();
                if let Some(weight) = weight {
                    for t in group.iter().flatten() {
                        let have = lent.entry(t).or_default();
                        *have = (*have).max(weight);
                    }
                }
            }
            // Not counted in the length: an article does not get longer
            // (and its own words weaker) for its synonyms.
            for (t, weight) in lent {
                let have = tf.entry(t.clone()).or_default();
                *have = (*have).max(weight);
            }
            for (term, tf) in tf {
                postings
                    .entry(term)
                    .or_default()
                    .push(Posting { doc: n as u32, tf });
            }
            docs.push(Doc {
                label: Some((article.id.clone(), article.title.clone())),
                len,
                valid_from: article.valid_from,
                valid_until: article.valid_until,
                helpful: article.helpful,
                unhelpful: article.unhelpful,
            });
        }
        let terms: Vec<String> = postings.keys().cloned().collect();
        let number: HashMap<&str, u32> = terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u32))
            .collect();
        let surfaces = surfaces
            .iter()
            .map(|(w, t)| (w.clone(), number[t.as_str()]))
            .collect();
        let postings = postings.into_values().map(Some).collect();
        Index::assemble(
            locale,
            docs,
            terms,
            postings,
            vec![0],
            surfaces,
            variants,
            lexicon.stop_words.iter().cloned().collect(),
        )
    }

    /// The index over already-counted parts.
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        locale: &str,
        docs: Vec<Doc>,
        terms: Vec<String>,
        postings: Vec<Option<Vec<Posting>>>,
        shard_starts: Vec<u32>,
        surfaces: Vec<(String, u32)>,
        variants: Vec<(char, char)>,
        stop_words: Vec<String>,
    ) -> Index {
        let mut by_len: Vec<Vec<(u64, String, u32)>> = Vec::new();
        let words = terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t, i as u32))
            .chain(surfaces.iter().map(|(w, t)| (w, *t)));
        for (word, term) in words {
            let n = word.chars().count();
            if by_len.len() <= n {
                by_len.resize(n + 1, Vec::new());
            }
            by_len[n].push((char_mask(word), word.clone(), term));
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
            terms,
            postings,
            shard_starts,
            surfaces,
            by_len,
            avg_len: avg_len.max(1.0),
            variants,
            stop_words,
        }
    }

    /// The number of `term`, if it is one of the index's.
    fn term(&self, term: &str) -> Option<u32> {
        self.terms
            .binary_search_by(|t| t.as_str().cmp(term))
            .ok()
            .map(|i| i as u32)
    }

    /// Index terms that stand for `query_term`, with how much each counts.
    fn expand(&self, query_term: &Term, is_last: bool) -> Vec<(u32, f64)> {
        let q = query_term.text.as_str();
        let mut out = Vec::new();
        let exact = self.term(q);
        out.extend(exact.map(|t| (t, 1.0)));
        if query_term.cjk {
            return out;
        }
        if is_last && q.chars().count() >= 2 {
            let from = self.terms.partition_point(|t| t.as_str() <= q);
            out.extend(
                self.terms[from..]
                    .iter()
                    .take_while(|t| t.starts_with(q))
                    .take(MAX_PREFIX_EXPANSION)
                    .enumerate()
                    .map(|(i, _)| ((from + i) as u32, PREFIX_MATCH)),
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
                if Some(*term) == exact {
                    continue;
                }
                let by_word = near(word_mask, *mask)
                    .then(|| edit_distance_from(&word, candidate, budget))
                    .flatten();
                let by_stem = (stem != word && near(stem_mask, *mask))
                    .then(|| edit_distance_from(&stem, candidate, budget))
                    .flatten();
                let d = by_word.into_iter().chain(by_stem).min();
                // Distance 0 is the word as written in an article that
                // stems differently from the query's: a word form, no typo.
                if let Some(d) = d {
                    out.push((*term, [1.0, ONE_EDIT, TWO_EDITS][d.min(2)]));
                }
            }
        }
        out
    }

    /// `word` (folded, not in the index) as the two parts of a compound
    /// the index knows (`gutscheincode` → `gutschein` + `code`): both parts
    /// index terms, or the longer one a term (not a stop word) of more than
    /// half the word and the other at least [`MIN_PART`] letters long
    /// (`canada` is not `can` + `ada`).
    fn split(&self, word: &str) -> Option<[Term; 2]> {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        // A part is known as written or by its stem.
        let part = |w: &str| {
            let stem = text::stem(w, self.language);
            let (text, known) = match (self.term(w), self.term(&stem)) {
                (Some(_), _) => (w.to_string(), true),
                (None, found) => (stem, found.is_some()),
            };
            (
                Term {
                    text,
                    cjk: false,
                    word: w.to_string(),
                },
                known,
            )
        };
        let mut best: Option<(usize, [Term; 2])> = None;
        let cuts = chars.len().saturating_sub(MIN_PART - 1);
        for &(at, _) in chars.iter().take(cuts).skip(MIN_PART) {
            let (head, tail) = word.split_at(at);
            for link in LINKS {
                let Some(tail) = tail.strip_prefix(link) else {
                    continue;
                };
                if tail.chars().count() < MIN_PART {
                    continue;
                }
                let ((a, ka), (b, kb)) = (part(head), part(tail));
                let (longer, longer_known) = if head.len() >= tail.len() {
                    (&a, ka)
                } else {
                    (&b, kb)
                };
                let longer_known = longer_known
                    && 2 * longer.word.len() > word.len()
                    && self.stop_words.binary_search(&longer.word).is_err();
                // Both known beats one known; then the longer known part.
                let rank = match (ka && kb, longer_known) {
                    (true, _) => 2 * word.len() + head.len().max(tail.len()),
                    (false, true) => head.len().max(tail.len()),
                    _ => continue,
                };
                if best.as_ref().is_none_or(|(r, _)| rank > *r) {
                    best = Some((rank, [a, b]));
                }
            }
        }
        best.map(|(_, parts)| parts)
    }

    /// A query's terms: stop words dropped (unless nothing else is left),
    /// unknown compounds split, neighbours the index has as one word joined.
    fn query_terms(&self, query: &str) -> Vec<Term> {
        let mut ts = terms_with(query, self.language, &self.variants);
        let stop = |t: &Term| {
            self.stop_words
                .binary_search(if t.cjk { &t.text } else { &t.word })
                .is_ok()
        };
        if ts.iter().any(|t| !stop(t)) {
            ts.retain(|t| !stop(t));
        }
        let mut out = Vec::with_capacity(ts.len());
        for (i, t) in ts.iter().enumerate() {
            if let Some(next) = ts.get(i + 1).filter(|n| !t.cjk && !n.cjk) {
                let mut word = t.word.clone();
                word.push_str(&next.word);
                let joined = text::stem(&word, self.language);
                if self.term(&joined).is_some() {
                    out.push(Term {
                        text: joined,
                        cjk: false,
                        word,
                    });
                }
            }
            let compound =
                !t.cjk && t.word.chars().count() >= 2 * MIN_PART && self.term(&t.text).is_none();
            match compound.then(|| self.split(&t.word)).flatten() {
                Some(parts) => out.extend(parts),
                None => out.push(t.clone()),
            }
        }
        // A query has a handful of words: a vector beats a set (and keeps
        // the widget's wasm smaller).
        let mut unique: Vec<Term> = Vec::with_capacity(out.len());
        for t in out {
            if !unique.iter().any(|u| u.text == t.text) {
                unique.push(t);
            }
        }
        unique
    }

    /// The `limit` best documents for `query` valid at `now`, or the
    /// postings shards missing to know them.
    fn rank(&self, query: &str, now: i64, limit: usize) -> Result<Vec<(u32, f64)>, Vec<u32>> {
        let query_terms = self.query_terms(query);
        let n = self.docs.len() as f64;
        let last = query_terms.len().saturating_sub(1);
        // Only a query that ends mid-word gets prefix matching.
        let typing = query.chars().last().is_some_and(text::is_word_char);
        let expanded: Vec<Vec<(u32, f64)>> = query_terms
            .iter()
            .enumerate()
            .map(|(i, qt)| self.expand(qt, typing && i == last))
            .collect();
        // Vectors, not sets: a set (or a sort) would bring more code into
        // the widget's wasm than these few shards need.
        let mut missing = Vec::new();
        for (t, _) in expanded.iter().flatten() {
            let shard = self.shard_of(*t);
            if self.postings[*t as usize].is_none() && !missing.contains(&shard) {
                missing.push(shard);
            }
        }
        if !missing.is_empty() {
            return Err(missing);
        }
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for expansions in expanded {
            // Each query term adds its best match per article, so several
            // expansions of one word never count twice.
            let mut best: HashMap<u32, f64> = HashMap::new();
            for (term, weight) in expansions {
                let postings = self.postings[term as usize].as_deref().unwrap_or_default();
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
        let mut ranked: Vec<(u32, f64)> = scores
            .into_iter()
            .filter_map(|(d, s)| {
                let doc = &self.docs[d as usize];
                let valid = doc.valid_from.is_none_or(|from| from <= now)
                    && doc.valid_until.is_none_or(|until| now < until);
                valid.then(|| (d, s * helpfulness(doc.helpful, doc.unhelpful)))
            })
            .collect();
        // Equal scores keep the articles' order (the host sorts them by id).
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(limit);
        Ok(ranked)
    }

    /// The postings shard holding term number `term`.
    fn shard_of(&self, term: u32) -> u32 {
        (self.shard_starts.partition_point(|&s| s <= term) - 1) as u32
    }

    /// The locale the index was built for.
    pub fn locale(&self) -> &str {
        &self.locale
    }

    /// Number of articles (valid or not).
    pub fn articles(&self) -> usize {
        self.docs.len()
    }

    /// The `limit` best articles for `query` that are valid at `now`. In a
    /// partly loaded index, only what its shards already tell: ask
    /// [`Index::missing`] first.
    pub fn search(&self, query: &str, now: i64, limit: usize) -> Vec<Hit> {
        self.rank(query, now, limit)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(d, score)| {
                let (id, title) = self.docs[d as usize].label.clone()?;
                Some(Hit { id, title, score })
            })
            .collect()
    }

    /// The shards (by name, see [`wire`]) this index still needs to answer
    /// `query` as [`Index::search`] would with all of them; empty once it can.
    /// Postings come first: which titles are needed depends on them.
    pub fn missing(&self, query: &str, now: i64, limit: usize) -> Vec<String> {
        match self.rank(query, now, limit) {
            Err(shards) => shards.into_iter().map(wire::postings_name).collect(),
            Ok(ranked) => {
                let mut names = Vec::new();
                for (d, _) in ranked {
                    let name = wire::titles_name(d);
                    if self.docs[d as usize].label.is_none() && !names.contains(&name) {
                        names.push(name);
                    }
                }
                names
            }
        }
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
        let index = Index::build("en", &corpus(), &Lexicon::default());
        assert_eq!(ids(&index, "refunds ")[0], "refund");
        assert_eq!(ids(&index, "returned item ")[0], "returns");
        assert_eq!(ids(&index, "size chart ")[0], "sizes");
    }

    #[test]
    fn typos_and_swaps_still_find_the_article() {
        let index = Index::build("en", &corpus(), &Lexicon::default());
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
        let index = Index::build("en", &corpus(), &Lexicon::default());
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
            &Lexicon::default(),
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
            &Lexicon::default(),
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
        let index = Index::build("en", &articles, &Lexicon::default());
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
        let index = Index::build(
            "en",
            &[twin("a", 0, 40), twin("b", 40, 0)],
            &Lexicon::default(),
        );
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
            &Lexicon::default(),
        );
        assert_eq!(ids(&index, "voucher ")[0], "title");
    }

    #[test]
    fn compounds_split_and_neighbours_join() {
        let de = Index::build(
            "de-DE",
            &[
                article("gift", "Gutscheine", "Einlösen an der Kasse."),
                article("ship", "Versand", "Lieferung in zwei Tagen."),
            ],
            &Lexicon::default(),
        );
        assert_eq!(ids(&de, "Gutscheincode ")[0], "gift");
        assert_eq!(ids(&de, "Versandkosten ")[0], "ship");
        let en = Index::build(
            "en",
            &[
                article("gift", "Gift cards", "Never expire."),
                article("login", "Signin problems", "Reset your password."),
            ],
            &Lexicon::default(),
        );
        assert_eq!(ids(&en, "giftcard ")[0], "gift");
        assert_eq!(ids(&en, "sign in ")[0], "login");
    }

    #[test]
    fn stop_words_leave_the_question_s_subject() {
        let lexicon = Lexicon {
            stop_words: ["how", "do", "i", "something"].map(String::from).into(),
            ..Lexicon::default()
        };
        let index = Index::build(
            "en",
            &[
                article(
                    "how",
                    "How we work",
                    "How do I do anything? Something about us.",
                ),
                article("send", "Send an item back", "Returns are free."),
            ],
            &lexicon,
        );
        assert_eq!(ids(&index, "how do I send something back ")[0], "send");
        // A query of stop words alone still searches them.
        assert_eq!(ids(&index, "how ")[0], "how");
    }

    #[test]
    fn variants_readings_and_synonyms_reach_the_article() {
        let lexicon = Lexicon {
            variants: [('貨', '货'), ('運', '运'), ('費', '费')].into(),
            synonyms: vec![
                vec!["返品".into(), "へんぴん".into()],
                vec!["broken".into(), "repair".into(), "fix".into()],
            ],
            ..Lexicon::default()
        };
        let zh = Index::build(
            "zh-CN",
            &[article("ret", "退货政策", "运费由我们承担。")],
            &lexicon,
        );
        assert_eq!(ids(&zh, "退貨")[0], "ret");
        assert_eq!(ids(&zh, "運費")[0], "ret");
        let ja = Index::build(
            "ja",
            &[article("ret", "返品について", "30日以内")],
            &lexicon,
        );
        assert_eq!(ids(&ja, "へんぴん")[0], "ret");
        assert_eq!(ids(&ja, "ヘンピン")[0], "ret");
        let en = Index::build(
            "en",
            &[
                article("w", "Warranty", "We repair it."),
                article("x", "Sizes", "Fit."),
            ],
            &lexicon,
        );
        assert_eq!(ids(&en, "it is broken ")[0], "w");
    }

    #[test]
    fn the_first_paragraph_outweighs_the_rest() {
        let index = Index::build(
            "en",
            &[
                article("late", "Orders", "Shipping info.\n\nLater you may cancel."),
                article("lead", "Orders", "You may cancel.\n\nShipping info later."),
            ],
            &Lexicon::default(),
        );
        assert_eq!(ids(&index, "cancel ")[0], "lead");
    }
}
