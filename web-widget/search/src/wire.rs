//! The index transfer format: what the host sends the widget so the browser
//! searches without rebuilding anything from article text.
//!
//! Layout (all integers LEB128 varints, strings length-prefixed UTF-8):
//!
//! ```text
//! "COVEIX2"  locale
//! docs:  count, then per doc: id, title, len, flags (1 = valid_from,
//!        2 = valid_until), [valid_from zigzag], [valid_until zigzag],
//!        helpful, unhelpful
//! terms: count, then per term in sorted order: bytes shared with the
//!        previous term, the rest, posting count, then per posting the doc
//!        number as a delta from the previous one, shifted left by two, with
//!        the weighted count in the low bits when it is 1-3 (0 there means
//!        the count follows)
//! surfaces: count, then per word as written (sorted, front-coded like
//!        terms) the number of the term it stems to
//! ```
//!
//! Sorted, front-coded terms and delta-coded postings keep it small before
//! and after gzip; the host gzips it once per index version.

use std::collections::BTreeMap;
use std::fmt;

use crate::{Doc, Index, Posting};

/// The format's name and version, the first bytes of every index.
pub const FORMAT: &[u8] = b"COVEIX2";
const MAGIC: &[u8] = FORMAT;

/// Why bytes could not be read as an index.
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
        write!(f, "not a Cove search index: {}", self.0)
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

/// `word` as the bytes it shares with `prev` and the rest.
fn put_front_coded(out: &mut Vec<u8>, prev: &str, word: &str) {
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
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
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

    fn front_coded(&mut self, prev: &str) -> Result<String, DecodeError> {
        let shared = self.len()?;
        if shared > prev.len() || !prev.is_char_boundary(shared) {
            return Err(DecodeError("bad word prefix"));
        }
        let mut word = prev[..shared].to_string();
        word.push_str(self.str()?);
        Ok(word)
    }

    fn time(&mut self) -> Result<i64, DecodeError> {
        let v = self.uint()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }
}

impl Index {
    /// The index in the transfer format.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        put_str(&mut out, &self.locale);
        put_uint(&mut out, self.docs.len() as u64);
        for d in &self.docs {
            put_str(&mut out, &d.id);
            put_str(&mut out, &d.title);
            put_uint(&mut out, d.len.into());
            let flags =
                u64::from(d.valid_from.is_some()) | (u64::from(d.valid_until.is_some()) << 1);
            put_uint(&mut out, flags);
            for t in [d.valid_from, d.valid_until].into_iter().flatten() {
                put_uint(&mut out, zigzag(t));
            }
            put_uint(&mut out, d.helpful.into());
            put_uint(&mut out, d.unhelpful.into());
        }
        put_uint(&mut out, self.postings.len() as u64);
        let mut prev: &str = "";
        for (term, postings) in &self.postings {
            put_front_coded(&mut out, prev, term);
            put_uint(&mut out, postings.len() as u64);
            let mut last = 0;
            for p in postings {
                let delta = u64::from(p.doc - last) << 2;
                if (1..=3).contains(&p.tf) {
                    put_uint(&mut out, delta | u64::from(p.tf));
                } else {
                    put_uint(&mut out, delta);
                    put_uint(&mut out, p.tf.into());
                }
                last = p.doc;
            }
            prev = term;
        }
        let number: std::collections::HashMap<&str, usize> = self
            .postings
            .keys()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i))
            .collect();
        put_uint(&mut out, self.surfaces.len() as u64);
        let mut prev: &str = "";
        for (word, term) in &self.surfaces {
            put_front_coded(&mut out, prev, word);
            put_uint(&mut out, number[term.as_str()] as u64);
            prev = word;
        }
        out
    }

    /// Read an index written by [`Index::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Index, DecodeError> {
        let mut r = Reader { bytes };
        if r.take(MAGIC.len()).ok() != Some(MAGIC) {
            return Err(DecodeError("wrong magic or version"));
        }
        let locale = r.str()?.to_string();
        let n_docs = r.len()?;
        let mut docs = Vec::with_capacity(n_docs);
        for _ in 0..n_docs {
            let id = r.str()?.to_string();
            let title = r.str()?.to_string();
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
                id,
                title,
                len,
                valid_from,
                valid_until,
                helpful: r.u32()?,
                unhelpful: r.u32()?,
            });
        }
        let n_terms = r.len()?;
        let mut postings = BTreeMap::new();
        let mut prev = String::new();
        for _ in 0..n_terms {
            let term = r.front_coded(&prev)?;
            let n = r.len()?;
            let mut list = Vec::with_capacity(n);
            let mut doc = 0u32;
            for _ in 0..n {
                let v = r.uint()?;
                doc = u32::try_from(v >> 2)
                    .ok()
                    .and_then(|delta| doc.checked_add(delta))
                    .filter(|&d| (d as usize) < docs.len())
                    .ok_or(DecodeError("posting names no article"))?;
                let tf = match v & 3 {
                    0 => r.u32()?,
                    small => small as u32,
                };
                list.push(Posting { doc, tf });
            }
            postings.insert(term.clone(), list);
            prev = term;
        }
        let terms: Vec<&String> = postings.keys().collect();
        let n_surfaces = r.len()?;
        let mut surfaces = BTreeMap::new();
        let mut prev = String::new();
        for _ in 0..n_surfaces {
            let word = r.front_coded(&prev)?;
            let term = terms
                .get(usize::try_from(r.uint()?).unwrap_or(usize::MAX))
                .ok_or(DecodeError("word names no term"))?;
            surfaces.insert(word.clone(), (*term).clone());
            prev = word;
        }
        if !r.bytes.is_empty() {
            return Err(DecodeError("trailing bytes"));
        }
        Ok(Index::assemble(&locale, docs, postings, surfaces))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Article, Index};

    #[test]
    fn an_index_survives_the_trip_and_ranks_alike() {
        let articles = vec![
            Article {
                id: "ret".into(),
                title: "Rücksendung".into(),
                body: "Rücksendungen sind 30 Tage lang kostenlos.".into(),
                tags: vec!["Retoure".into()],
                valid_from: Some(-5),
                valid_until: Some(1_900_000_000_000),
                helpful: 7,
                unhelpful: 1,
            },
            Article {
                id: "ship".into(),
                title: "Versand".into(),
                body: "Lieferung in 2 Tagen; 配送 überall.".into(),
                ..Article::default()
            },
        ];
        let index = Index::build("de-DE", &articles);
        let bytes = index.to_bytes();
        let back = Index::from_bytes(&bytes).expect("decodes");
        assert_eq!(back.to_bytes(), bytes);
        assert_eq!(back.locale(), "de-DE");
        for q in ["rucksednung ", "versand", "retoure ", "配送"] {
            assert_eq!(index.search(q, 0, 5), back.search(q, 0, 5), "{q}");
        }
    }

    #[test]
    fn damaged_bytes_are_refused_not_trusted() {
        let index = Index::build(
            "en",
            &[Article {
                id: "a".into(),
                title: "Refunds".into(),
                body: "Money back.".into(),
                ..Article::default()
            }],
        );
        let bytes = index.to_bytes();
        assert!(Index::from_bytes(b"nope").is_err());
        for cut in 0..bytes.len() {
            assert!(Index::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Index::from_bytes(&extra).is_err());
    }
}
