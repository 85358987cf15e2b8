//! `cove-bench widget`: the storefront widget's figures.
//!
//! - `loader_gz_kb`, `runtime_gz_kb`: what the host serves (gzip) for the
//!   script tag, and for the runtime (wasm + JS glue + UI with its CSS).
//! - `first_search_kb_1k`: every byte Chromium transferred from the host,
//!   from loading a page with the tag to the first results over 1,000
//!   articles (loader, config, runtime, the first search answered by the
//!   host), headers included. `index_first_search_kb_1k`/`_10k`: every
//!   index shard the widget then fetched to answer that search itself
//!   (meta, the postings its words need, the titles it shows), headers
//!   included; `index_gz_kb_10k` is the whole index (every shard, gzipped)
//!   for comparison, `index_meta_gz_kb_10k` its meta shard.
//! - `query_p95_ms_1k`, `query_p95_ms_10k`: typo-tolerant queries run by the
//!   wasm search core in Chromium over 1,000 and 10,000 synthetic articles;
//!   `native_query_p95_ms_10k` is the same queries natively, the baseline.
//! - `typo_top3_recall`: over the demo corpus, every title word of five or
//!   more letters (Latin scripts) gets one deletion, insertion,
//!   substitution and transposition of neighbours (seeded); the share of
//!   variants whose article is in the top 3. A variant that is itself a
//!   word of the corpus, or a form of one, is another word, not a typo, and
//!   is skipped.
//! - `search_top1`: per locale and in all, the share of the labelled shopper
//!   questions (tests/data/questions.json, six languages) whose article the
//!   demo merchant's search API ranks first.
//!
//! `--smoke` runs the same steps over 200 and 1,000 articles (the test
//! suite's size); the figures are named by the sizes run.

use std::process::Command;
use std::time::Instant;

use cove_e2e::HostProcess;
use std::collections::HashSet;

use cove_search::{Article, Index, Lexicon, text};
use serde_json::{Value, json};

/// A small seeded generator (xorshift64*), so every run uses the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Zipf-like pick: small indexes far more often.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize
    }
}

/// A pseudo-English vocabulary of `n` distinct words, 3–12 letters.
fn vocabulary(rng: &mut Rng, n: usize) -> Vec<String> {
    const ONSETS: [&str; 20] = [
        "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w", "st", "tr",
        "pl", "sh", "ch",
    ];
    const NUCLEI: [&str; 8] = ["a", "e", "i", "o", "u", "ea", "ou", "ai"];
    const CODAS: [&str; 10] = ["", "n", "r", "s", "t", "l", "nd", "ck", "ng", "m"];
    let mut seen = std::collections::HashSet::new();
    let mut words = Vec::with_capacity(n);
    while words.len() < n {
        let syllables = 1 + rng.below(3) + usize::from(rng.below(4) == 0);
        let mut w = String::new();
        for _ in 0..syllables {
            w.push_str(ONSETS[rng.below(ONSETS.len())]);
            w.push_str(NUCLEI[rng.below(NUCLEI.len())]);
            w.push_str(CODAS[rng.below(CODAS.len())]);
        }
        if (3..=12).contains(&w.len()) && seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

/// `n` synthetic FAQ articles over a vocabulary growing with the corpus
/// (Heaps' law: about 10k words for 1k articles, 40k for 10k).
fn corpus(n: usize) -> Vec<Value> {
    let mut rng = Rng(0x5eed ^ n as u64);
    let vocab = vocabulary(&mut rng, (310.0 * (n as f64).powf(0.5)) as usize);
    let words = |rng: &mut Rng, k: usize| -> String {
        (0..k)
            .map(|_| vocab[rng.zipf(vocab.len())].as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    (0..n)
        .map(|i| {
            let k = 3 + rng.below(5);
            let title = words(&mut rng, k);
            let k = 40 + rng.below(80);
            let body = words(&mut rng, k);
            json!({"id": format!("a{i}"), "locale": "en", "title": title, "body": body, "tags": [words(&mut rng, 1)]})
        })
        .collect()
}

/// One-edit variants of `word` (deletion, insertion, substitution, swap).
fn variants(rng: &mut Rng, word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let n = chars.len();
    let letter = (b'a' + rng.below(26) as u8) as char;
    let at = |rng: &mut Rng, k: usize| rng.below(k);
    let mut out = Vec::new();
    let mut del = chars.clone();
    del.remove(at(rng, n));
    out.push(del);
    let mut ins = chars.clone();
    ins.insert(at(rng, n + 1), letter);
    out.push(ins);
    let mut sub = chars.clone();
    let i = at(rng, n);
    sub[i] = if sub[i] == letter { 'q' } else { letter };
    out.push(sub);
    let mut swap = chars.clone();
    let i = at(rng, n - 1);
    swap.swap(i, i + 1);
    if swap != chars {
        out.push(swap);
    }
    out.into_iter().map(|c| c.into_iter().collect()).collect()
}

/// Typo-tolerant queries over a synthetic corpus: a misspelt title word,
/// sometimes followed by the start of another word being typed.
fn queries(articles: &[Value], n: usize) -> Vec<String> {
    let mut rng = Rng(42);
    (0..n)
        .map(|_| {
            let a = &articles[rng.below(articles.len())];
            let title: Vec<&str> = a["title"].as_str().unwrap().split(' ').collect();
            let word = title[rng.below(title.len())];
            let v = variants(&mut rng, word);
            let mut q = v[rng.below(v.len())].clone();
            if rng.below(2) == 0 {
                let next = title[rng.below(title.len())];
                q.push(' ');
                q.push_str(&next[..next.len().min(3)]);
            } else {
                q.push(' ');
            }
            q
        })
        .collect()
}

fn to_articles(v: &[Value]) -> Vec<Article> {
    v.iter()
        .map(|a| Article {
            id: a["id"].as_str().unwrap().into(),
            title: a["title"].as_str().unwrap().into(),
            body: a["body"].as_str().unwrap().into(),
            tags: a["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().into())
                .collect(),
            ..Article::default()
        })
        .collect()
}

/// Share of one-edit variants of demo title words that keep their article
/// in the top 3.
fn typo_recall() -> (f64, usize) {
    let demo: Vec<Value> =
        serde_json::from_str(include_str!("../../../../host/demo/articles.json")).unwrap();
    let mut rng = Rng(7);
    let (mut found, mut total, mut skipped) = (0, 0, 0);
    let mut locales: Vec<&str> = demo.iter().map(|a| a["locale"].as_str().unwrap()).collect();
    locales.dedup();
    for locale in locales {
        let group: Vec<Value> = demo
            .iter()
            .filter(|a| a["locale"] == locale)
            .cloned()
            .collect();
        let index = Index::build(locale, &to_articles(&group), &Lexicon::default());
        // A variant that is itself a word of these articles, or a form of
        // one ("eines" → "deines", a form of "dein"), is a different word,
        // not a typo: it is not counted.
        let language = text::Language::of_locale(locale);
        let known: HashSet<String> = group
            .iter()
            .flat_map(|a| [a["title"].as_str().unwrap(), a["body"].as_str().unwrap()])
            .flat_map(|field| text::terms(field, language))
            .flat_map(|t| [t.word, t.text])
            .collect();
        for a in &group {
            let title = a["title"].as_str().unwrap();
            for word in title.split(|c: char| !c.is_alphanumeric()) {
                if word.chars().count() < 5
                    || !word
                        .chars()
                        .all(|c| c.is_alphabetic() && (c as u32) < 0x2E80)
                {
                    continue;
                }
                for v in variants(&mut rng, &word.to_lowercase()) {
                    let is_word = text::terms(&v, language)
                        .iter()
                        .any(|t| known.contains(&t.word) || known.contains(&t.text));
                    if is_word {
                        skipped += 1;
                        continue;
                    }
                    total += 1;
                    let hits = index.search(&format!("{v} "), 0, 3);
                    if hits.iter().any(|h| h.id == a["id"].as_str().unwrap()) {
                        found += 1;
                    } else {
                        println!("  typo miss: {v:?} for {:?} ({locale})", a["id"]);
                    }
                }
            }
        }
    }
    println!("typo recall: {skipped} variants skipped as words (or forms of words) of the corpus");
    (found as f64 / total as f64, total)
}

fn p95(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * 0.95).round() as usize]
}

/// `n` articles as a figure's suffix: `1k`, `10k`, or the number.
fn label(n: usize) -> String {
    if n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// Top-1 per locale of the labelled questions (tests/data), asked through
/// the demo merchant's search API as a merchant's own site would.
fn search_top1(url: &str, key: &str) -> anyhow::Result<serde_json::Map<String, Value>> {
    let client = reqwest::blocking::Client::new();
    let mut answers = Vec::new();
    for q in cove_e2e::questions() {
        let body: Value = client
            .get(format!("{url}/v1/merchants/demo/search"))
            .query(&[("q", q.q.as_str()), ("locale", &q.locale), ("limit", "1")])
            .header("authorization", format!("Bearer {key}"))
            .send()?
            .error_for_status()?
            .json()?;
        let first = body["hits"][0]["id"].as_str().map(String::from);
        answers.push((q, first));
    }
    let mut out = serde_json::Map::new();
    let (mut right_all, mut asked_all) = (0, 0);
    for (locale, (right, asked, missed)) in cove_e2e::top1_by_locale(&answers) {
        for m in &missed {
            println!("  search miss ({locale}): {m}");
        }
        right_all += right;
        asked_all += asked;
        out.insert(
            locale,
            json!((right as f64 / asked as f64 * 1000.0).round() / 1000.0),
        );
    }
    println!("search top-1: {right_all}/{asked_all} labelled questions");
    out.insert(
        "all".into(),
        json!((right_all as f64 / asked_all as f64 * 1000.0).round() / 1000.0),
    );
    Ok(out)
}

pub fn run() -> anyhow::Result<()> {
    // Smoke size (the test suite's): small corpora, same steps.
    let smoke = std::env::args().any(|a| a == "--smoke");
    let sizes: [usize; 2] = if smoke { [200, 1_000] } else { [1_000, 10_000] };
    let (recall, variants_tried) = typo_recall();
    println!(
        "typo recall (top 3) over {variants_tried} one-edit variants of demo title words: {recall:.3}"
    );

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let data = tempfile::tempdir()?;
    let (host, demo_key) = HostProcess::demo(data.path(), &["--public-burst", "100000"]);
    let top1 = search_top1(&host.url, &demo_key)?;
    let client = reqwest::blocking::Client::new();
    let op = format!("Bearer {}", cove_e2e::OPERATOR_TOKEN);
    let mut corpora = serde_json::Map::new();
    let mut native = serde_json::Map::new();
    let mut index_sizes = serde_json::Map::new();
    for n in sizes {
        let merchant = format!("bench{n}");
        let created: Value = client
            .post(format!("{}/v1/merchants", host.url))
            .header("authorization", &op)
            .json(&json!({"id": merchant}))
            .send()?
            .json()?;
        let key = format!("Bearer {}", created["api_key"].as_str().unwrap_or_default());
        let articles = corpus(n);
        let started = Instant::now();
        for a in &articles {
            let mut body = a.clone();
            body.as_object_mut().unwrap().remove("id");
            let status = client
                .put(format!(
                    "{}/v1/merchants/{merchant}/articles/{}",
                    host.url,
                    a["id"].as_str().unwrap()
                ))
                .header("authorization", &key)
                .json(&body)
                .send()?
                .status();
            anyhow::ensure!(status.is_success(), "storing an article: {status}");
        }
        println!(
            "{n} articles stored in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let qs = queries(&articles, 300);
        // The same queries natively, as the baseline.
        let index = Index::build("en", &to_articles(&articles), &Lexicon::default());
        let shards = index.shards();
        let gz: Vec<usize> = shards
            .iter()
            .map(|(_, b)| cove_host::platform::http::gzip(b).len())
            .collect();
        index_sizes.insert(
            n.to_string(),
            json!({"total": gz.iter().sum::<usize>(), "meta": gz[0], "shards": gz.len()}),
        );
        for q in &qs[..20] {
            std::hint::black_box(index.search(q, 0, 8)); // warm up, as in the browser
        }
        let times: Vec<f64> = qs
            .iter()
            .map(|q| {
                let t = Instant::now();
                std::hint::black_box(index.search(q, 0, 8));
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        native.insert(n.to_string(), json!(p95(times)));
        corpora.insert(
            n.to_string(),
            json!({"merchant": merchant, "key": key, "queries": qs}),
        );
    }
    let spec = data.path().join("bench.json");
    std::fs::write(
        &spec,
        serde_json::to_vec(&json!({"cove": host.url, "corpora": corpora}))?,
    )?;
    let out = Command::new("node")
        .arg(root.join("tests/browser/bench.mjs"))
        .arg(&spec)
        .env("WIDGET_NODE_MODULES", root.join("web-widget/node_modules"))
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    anyhow::ensure!(out.status.success(), "the browser benchmark failed");
    let browser: Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}"))?;
    let kb = |b: &Value| json!((b.as_f64().unwrap_or(f64::NAN) / 1024.0 * 10.0).round() / 10.0);
    let ms = |v: &Value| json!((v.as_f64().unwrap_or(f64::NAN) * 100.0).round() / 100.0);
    let (small, big) = (sizes[0].to_string(), sizes[1].to_string());
    let (ls, lb) = (label(sizes[0]), label(sizes[1]));
    let mut figures = serde_json::Map::new();
    let mut put = |k: String, v: Value| figures.insert(k, v);
    put("loader_gz_kb".into(), kb(&browser["loader_bytes"]));
    put("runtime_gz_kb".into(), kb(&browser["runtime_bytes"]));
    put(
        format!("first_search_kb_{ls}"),
        kb(&browser[format!("first_search_bytes_{small}")]),
    );
    for (n, l) in [(&small, &ls), (&big, &lb)] {
        put(
            format!("index_first_search_kb_{l}"),
            kb(&browser[format!("index_first_search_bytes_{n}")]),
        );
    }
    put(format!("index_gz_kb_{lb}"), kb(&index_sizes[&big]["total"]));
    put(
        format!("index_meta_gz_kb_{lb}"),
        kb(&index_sizes[&big]["meta"]),
    );
    put(
        format!("index_shards_{lb}"),
        index_sizes[&big]["shards"].clone(),
    );
    for (n, l) in [(&small, &ls), (&big, &lb)] {
        put(
            format!("query_p95_ms_{l}"),
            ms(&browser[format!("query_p95_ms_{n}")]),
        );
    }
    put(format!("native_query_p95_ms_{lb}"), ms(&native[&big]));
    put(
        format!("index_load_ms_{lb}"),
        ms(&browser[format!("index_load_ms_{big}")]),
    );
    put(
        "typo_top3_recall".into(),
        json!((recall * 1000.0).round() / 1000.0),
    );
    put("search_top1".into(), Value::Object(top1));
    println!("{}", Value::Object(figures));
    Ok(())
}
