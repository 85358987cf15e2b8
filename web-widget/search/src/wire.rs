//! The index transfer format: what the host sends the widget so the browser
//! searches without rebuilding anything from article text, in shards, so a
//! search downloads only what it needs (Pagefind's idea): one `meta` shard,
//! then the postings shards its terms fall in and the titles shards of the
//! articles it shows.
//!
//! Every shard starts with [`FORMAT`]; integers are LEB128 varints, strings
//! length-prefixed UTF-8, word lists sorted and front-coded (bytes shared
//! with the previous word, then the rest).
//!
//! ```text
//! meta   locale; variants: count, (from, to) character pairs;
//!        stop words: count, words; docs: count, then per doc len, flags
//!        (1 = valid_from, 2 = valid_until), [valid_from zigzag],
//!        [valid_until zigzag], helpful, unhelpful; terms: count, words;
//!        postings shards: count, then each one's first term as a delta
//!        from the previous; surfaces: count, then per word as written the
//!        number of the term it stems to
//! p<k>   k; per term of shard k: posting count, then per posting the doc
//!        number as a delta from the previous one, shifted left by two,
//!        with the weighted count in the low bits when it is 1-3 (0 there
//!        means the count follows)
//! t<k>   k; id and title of articles k·32 … k·32+31
//! ```
//!
//! The vocabulary is in `meta` because typos may land anywhere in it;
//! postings are cut into shards of about [`SHARD_BYTES`]. Every shard is
//! checked as it is read: damaged bytes are refused, never trusted.

use std::fmt;

use crate::{Doc, Index, Posting};

/// The format's name and version, the first bytes of every shard.
pub const FORMAT: &[u8] = b"COVEIX3";
/// Articles per titles shard.
pub const DOCS_PER_TITLES: u32 = 32;
/// Postings bytes after which a shard is closed (a term is never cut).
pub const SHARD_BYTES: usize = 6 * 1024;

/// `kind` followed by `k` in decimal (no formatting machinery: this runs
/// in the widget's wasm, which stays small without it).
fn name(kind: char, k: u32) -> String {
    let mut digits = Vec::new();
    let mut k = k;
    loop {
        digits.push(char::from(b'0' + (k % 10) as u8));
        k /= 10;
        if k == 0 {
            break;
        }
    }
    std::iter::once(kind)
        .chain(digits.into_iter().rev())
        .collect()
}

/// The name of postings shard `k`.
pub fn postings_name(k: u32) -> String {
    name('p', k)
}

/// The name of the titles shard holding article number `doc`.
pub fn titles_name(doc: u32) -> String {
    name('t', doc / DOCS_PER_TITLES)
}

/// Why bytes could not be read as an index shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(&'static str);

impl DecodeError {
    /// What is wrong, in plain words.
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a Cove search index shard: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

fn put_uint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// `words` (sorted) as a count and front-coded words.
fn put_words<'a>(out: &mut Vec<u8>, words: impl ExactSizeIterator<Item = &'a String>) {
    put_uint(out, words.len() as u64);
    let mut prev: &str = "";
    for word in words {
        let shared = word
            .bytes()
            .zip(prev.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        // Cut on a character boundary so each rest is valid UTF-8.
        let shared = (0..=shared)
            .rev()
            .find(|&i| word.is_char_boundary(i))
            .unwrap_or(0);
        put_uint(out, shared as u64);
        put_str(out, &word[shared..]);
        prev = word;
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn start(bytes: &'a [u8]) -> Result<Reader<'a>, DecodeError> {
        let mut r = Reader { bytes };
        if r.take(FORMAT.len()).ok() != Some(FORMAT) {
            return Err(DecodeError("wrong magic or version"));
        }
        Ok(r)
    }

    fn uint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.bytes.split_first().ok_or(DecodeError("truncated"))?;
            self.bytes = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(DecodeError("integer too long"))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        u32::try_from(self.uint()?).map_err(|_| DecodeError("number out of range"))
    }

    /// A count of items of at least one byte each.
    fn len(&mut self) -> Result<usize, DecodeError> {
        let n = usize::try_from(self.uint()?).map_err(|_| DecodeError("length out of range"))?;
        if n > self.bytes.len() {
            return Err(DecodeError("length past the end"));
        }
        Ok(n)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.bytes.len() {
            return Err(DecodeError("truncated"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| DecodeError("text is not UTF-8"))
    }

    fn words(&mut self) -> Result<Vec<String>, DecodeError> {
        let n = self.len()?;
        let mut out: Vec<String> = Vec::with_capacity(n);
        for _ in 0..n {
            let prev = out.last().map_or("", String::as_str);
            let shared = self.len()?;
            if shared > prev.len() || !prev.is_char_boundary(shared) {
                return Err(DecodeError("bad word prefix"));
            }
            let mut word = prev[..shared].to_string();
            word.push_str(self.str()?);
            if out.last().is_some_and(|p| *p >= word) {
                return Err(DecodeError("words out of order"));
            }
            out.push(word);
        }
        Ok(out)
    }

    fn char(&mut self) -> Result<char, DecodeError> {
        char::from_u32(self.u32()?).ok_or(DecodeError("not a character"))
    }

    fn time(&mut self) -> Result<i64, DecodeError> {
        let v = self.uint()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    fn end(self) -> Result<(), DecodeError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(DecodeError("trailing bytes"))
        }
    }
}

/// Postings of one term, appended to `out`.
fn put_postings(out: &mut Vec<u8>, postings: &[Posting]) {
    put_uint(out, postings.len() as u64);
    let mut last = 0;
    for p in postings {
        let delta = u64::from(p.doc - last) << 2;
        if (1..=3).contains(&p.tf) {
            put_uint(out, delta | u64::from(p.tf));
        } else {
            put_uint(out, delta);
            put_uint(out, p.tf.into());
        }
        last = p.doc;
    }
}

impl Index {
    /// The whole index in shards, `meta` first, by name. Only an index
    /// built with every postings list (the host's) has them all.
    pub fn shards(&self) -> Vec<(String, Vec<u8>)> {
        let mut postings = Vec::new();
        let mut starts = Vec::new();
        let mut shard = FORMAT.to_vec();
        for (i, list) in self.postings.iter().enumerate() {
            if starts.is_empty() || shard.len() >= SHARD_BYTES {
                if !starts.is_empty() {
                    postings.push(std::mem::replace(&mut shard, FORMAT.to_vec()));
                }
                put_uint(&mut shard, starts.len() as u64);
                starts.push(i as u32);
            }
            put_postings(&mut shard, list.as_deref().unwrap_or_default());
        }
        if !starts.is_empty() {
            postings.push(shard);
        }
        let mut meta = FORMAT.to_vec();
        put_str(&mut meta, &self.locale);
        put_uint(&mut meta, self.variants.len() as u64);
        for &(from, to) in &self.variants {
            put_uint(&mut meta, from.into());
            put_uint(&mut meta, to.into());
        }
        put_words(&mut meta, self.stop_words.iter());
        put_uint(&mut meta, self.docs.len() as u64);
        for d in &self.docs {
            put_uint(&mut meta, d.len.into());
            let flags =
                u64::from(d.valid_from.is_some()) | (u64::from(d.valid_until.is_some()) << 1);
            put_uint(&mut meta, flags);
            for t in [d.valid_from, d.valid_until].into_iter().flatten() {
                put_uint(&mut meta, zigzag(t));
            }
            put_uint(&mut meta, d.helpful.into());
            put_uint(&mut meta, d.unhelpful.into());
        }
        put_words(&mut meta, self.terms.iter());
        put_uint(&mut meta, starts.len() as u64);
        let mut prev = 0;
        for s in &starts {
            put_uint(&mut meta, (s - prev).into());
            prev = *s;
        }
        let words: Vec<&String> = self.surfaces.iter().map(|(w, _)| w).collect();
        put_words(&mut meta, words.into_iter());
        for (_, term) in &self.surfaces {
            put_uint(&mut meta, (*term).into());
        }
        let mut out = vec![("meta".to_string(), meta)];
        out.extend(
            postings
                .into_iter()
                .enumerate()
                .map(|(k, b)| (postings_name(k as u32), b)),
        );
        for (k, docs) in self.docs.chunks(DOCS_PER_TITLES as usize).enumerate() {
            let mut t = FORMAT.to_vec();
            put_uint(&mut t, k as u64);
            for d in docs {
                let (id, title) = d.label.as_ref().map_or(("", ""), |(i, t)| (i, t));
                put_str(&mut t, id);
                put_str(&mut t, title);
            }
            out.push((name('t', k as u32), t));
        }
        out
    }

    /// An index from its `meta` shard alone: it knows every word and every
    /// article's weight, and searches once the shards
    /// [`Index::missing`] names are [added](Index::add).
    pub fn from_meta(bytes: &[u8]) -> Result<Index, DecodeError> {
        let mut r = Reader::start(bytes)?;
        let locale = r.str()?.to_string();
        let mut variants: Vec<(char, char)> = Vec::new();
        for _ in 0..r.len()? {
            let pair = (r.char()?, r.char()?);
            if variants.last().is_some_and(|last| last.0 >= pair.0) {
                return Err(DecodeError("variants out of order"));
            }
            variants.push(pair);
        }
        let stop_words = r.words()?;
        let n_docs = r.len()?;
        let mut docs = Vec::with_capacity(n_docs);
        for _ in 0..n_docs {
            let len = r.u32()?;
            let flags = r.uint()?;
            let valid_from = if flags & 1 != 0 {
                Some(r.time()?)
            } else {
                None
            };
            let valid_until = if flags & 2 != 0 {
                Some(r.time()?)
            } else {
                None
            };
            docs.push(Doc {
                label: None,
                len,
                valid_from,
                valid_until,
                helpful: r.u32()?,
                unhelpful: r.u32()?,
            });
        }
        let terms = r.words()?;
        let mut starts = Vec::new();
        let mut at = 0u32;
        for k in 0..r.len()? {
            let delta = r.u32()?;
            at = at
                .checked_add(delta)
                .filter(|&s| {
                    (s as usize) < terms.len() && (k == 0) == (delta == 0) && (k > 0 || s == 0)
                })
                .ok_or(DecodeError("bad shard boundaries"))?;
            starts.push(at);
        }
        if starts.is_empty() != terms.is_empty() {
            return Err(DecodeError("bad shard boundaries"));
        }
        let words = r.words()?;
        let mut surfaces = Vec::with_capacity(words.len());
        for word in words {
            let term = r.u32()?;
            if term as usize >= terms.len() {
                return Err(DecodeError("word names no term"));
            }
            surfaces.push((word, term));
        }
        r.end()?;
        let postings = vec![None; terms.len()];
        Ok(Index::assemble(
            &locale, docs, terms, postings, starts, surfaces, variants, stop_words,
        ))
    }

    /// Add shard `name` (as [`Index::missing`] named it) from its bytes.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), DecodeError> {
        let number = |prefix: char| {
            name.strip_prefix(prefix)
                .and_then(|k| k.parse::<u32>().ok())
        };
        let mut r = Reader::start(bytes)?;
        if let Some(k) = number('p') {
            let from = *self
                .shard_starts
                .get(k as usize)
                .ok_or(DecodeError("no such shard"))? as usize;
            let to = self
                .shard_starts
                .get(k as usize + 1)
                .map_or(self.terms.len(), |&s| s as usize);
            if r.u32()? != k {
                return Err(DecodeError("another shard"));
            }
            let mut lists = Vec::with_capacity(to - from);
            for _ in from..to {
                let n = r.len()?;
                let mut list = Vec::with_capacity(n);
                let mut doc = 0u32;
                for i in 0..n {
                    let v = r.uint()?;
                    doc = u32::try_from(v >> 2)
                        .ok()
                        .filter(|&delta| i == 0 || delta > 0)
                        .and_then(|delta| doc.checked_add(delta))
                        .filter(|&d| (d as usize) < self.docs.len())
                        .ok_or(DecodeError("posting names no article"))?;
                    let tf = match v & 3 {
                        0 => r.u32()?,
                        small => small as u32,
                    };
                    list.push(Posting { doc, tf });
                }
                lists.push(Some(list));
            }
            r.end()?;
            for (slot, list) in self.postings[from..to].iter_mut().zip(lists) {
                *slot = list;
            }
            Ok(())
        } else if let Some(k) = number('t') {
            let from = k as usize * DOCS_PER_TITLES as usize;
            if from >= self.docs.len() || r.u32()? != k {
                return Err(DecodeError("no such shard"));
            }
            let to = (from + DOCS_PER_TITLES as usize).min(self.docs.len());
            let mut labels = Vec::with_capacity(to - from);
            for _ in from..to {
                labels.push((r.str()?.to_string(), r.str()?.to_string()));
            }
            r.end()?;
            for (doc, label) in self.docs[from..to].iter_mut().zip(labels) {
                doc.label = Some(label);
            }
            Ok(())
        } else {
            Err(DecodeError("no such shard"))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Article, Index, Lexicon};

    fn articles() -> Vec<Article> {
        (0..1500)
            .map(|i| Article {
                id: format!("a{i:03}"),
                title: format!("Article {i} about topic{} and returns", i % 37),
                body: format!(
                    "Rücksendungen sind {i} Tage lang kostenlos.\n\nword{} word{} w{} 配送",
                    i % 11,
                    i * 7 % 101,
                    i * 13 % 997
                ),
                tags: vec![format!("tag{}", i % 5)],
                valid_from: (i % 50 == 0).then_some(-5),
                valid_until: (i % 70 == 0).then_some(1_900_000_000_000),
                helpful: i % 3,
                unhelpful: i % 2,
            })
            .collect()
    }

    fn lexicon() -> Lexicon {
        Lexicon {
            variants: [('貨', '货')].into_iter().collect(),
            stop_words: ["how".to_string(), "the".to_string()].into_iter().collect(),
            synonyms: vec![vec!["parcel".into(), "returns".into()]],
        }
    }

    /// The widget's way: meta, then what `missing` names, until nothing.
    fn fill(index: &mut Index, shards: &[(String, Vec<u8>)], q: &str) -> usize {
        let mut fetched = 0;
        for _ in 0..3 {
            let names = index.missing(q, 0, 8);
            if names.is_empty() {
                return fetched;
            }
            for name in names {
                let (_, bytes) = shards
                    .iter()
                    .find(|(n, _)| *n == name)
                    .expect("named shard exists");
                index.add(&name, bytes).expect("shard decodes");
                fetched += 1;
            }
        }
        panic!("{q}: still missing shards after three rounds");
    }

    #[test]
    fn a_sharded_index_ranks_like_the_whole_one() {
        let index = Index::build("en", &articles(), &lexicon());
        let shards = index.shards();
        assert!(shards.len() > 5, "{} shards", shards.len());
        let mut partial = Index::from_meta(&shards[0].1).expect("meta decodes");
        assert_eq!(partial.articles(), 1500);
        for q in [
            "topic12 ",
            "retrun ",
            "word7 word30",
            "parcel",
            "how the top",
            "配送",
            "art",
        ] {
            fill(&mut partial, &shards, q);
            assert_eq!(partial.search(q, 0, 8), index.search(q, 0, 8), "{q}");
        }
        // A fresh widget fetches a few shards for one word, not all.
        let mut fresh = Index::from_meta(&shards[0].1).unwrap();
        let fetched = fill(&mut fresh, &shards, "kostenlos ");
        assert!(
            (1..=3).contains(&fetched),
            "fetched {fetched} of {}",
            shards.len()
        );
        for (name, bytes) in &shards[1..] {
            fresh.add(name, bytes).unwrap();
        }
        assert!(fresh.missing("anything at all", 0, 8).is_empty());
    }

    #[test]
    fn damaged_shards_are_refused_not_trusted() {
        let index = Index::build("de-DE", &articles(), &lexicon());
        let shards = index.shards();
        assert!(Index::from_meta(b"nope").is_err());
        for (name, bytes) in &shards {
            for cut in (0..bytes.len()).step_by(bytes.len() / 50 + 1) {
                let mut partial = Index::from_meta(&shards[0].1).unwrap();
                let refused = if name == "meta" {
                    Index::from_meta(&bytes[..cut]).is_err()
                } else {
                    partial.add(name, &bytes[..cut]).is_err()
                };
                assert!(refused, "{name} cut at {cut}");
            }
            let mut extra = bytes.clone();
            extra.push(0);
            let mut partial = Index::from_meta(&shards[0].1).unwrap();
            assert!(
                name == "meta" && Index::from_meta(&extra).is_err()
                    || name != "meta" && partial.add(name, &extra).is_err()
            );
        }
        let mut partial = Index::from_meta(&shards[0].1).unwrap();
        assert!(
            partial.add("p1", &shards[1].1).is_err(),
            "p0's bytes under another name"
        );
        assert!(partial.add("x0", &shards[1].1).is_err());
        assert!(partial.add("p999", &shards[1].1).is_err());
    }
}
