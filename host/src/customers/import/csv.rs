//! Records out of a stream of bytes: lines of NDJSON, or CSV records
//! (RFC 4180: quoted fields may hold commas, doubled quotes and line
//! breaks), split as the chunks arrive, with their line numbers.

/// The longest record (a line of NDJSON, a CSV record with its quoted
/// line breaks, an order's rows together) an import reads.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// What the splitter found next.
#[derive(Debug, PartialEq)]
pub(super) enum Piece<'a> {
    /// A record, with the line it starts on.
    Record(u64, &'a [u8]),
    /// A record, starting on this line, longer than [`MAX_RECORD_BYTES`]
    /// (a CSV quote left open runs to the end of the file): none of it is
    /// kept, and the splitter goes on after its end.
    TooLong(u64),
}

/// Splits arriving bytes into records: lines, or CSV records (which may
/// hold line breaks inside quotes). Remembers the line each starts on.
#[derive(Default)]
pub(super) struct Splitter {
    /// Inside a record over [`MAX_RECORD_BYTES`]: its bytes are dropped.
    skipping: bool,
    buf: Vec<u8>,
    /// Where the next record starts in `buf`.
    start: usize,
    /// How far `buf` has been scanned for the end of that record.
    scanned: usize,
    quoted: bool,
    breaks: u64,
    line: u64,
    csv: bool,
}

impl Splitter {
    /// A splitter for CSV records (`csv`) or lines of NDJSON.
    pub(super) fn new(csv: bool) -> Splitter {
        Splitter {
            csv,
            ..Splitter::default()
        }
    }

    /// Append arriving bytes (dropping the records already taken).
    pub(super) fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete record, with the line it starts on, or word of
    /// one that is too long.
    pub(super) fn next(&mut self) -> Option<Piece<'_>> {
        let mut i = self.scanned.max(self.start);
        while i < self.buf.len() {
            // Straight to the next quote or line break (SIMD).
            let next = if self.csv {
                memchr::memchr2(b'"', b'\n', &self.buf[i..])
            } else {
                memchr::memchr(b'\n', &self.buf[i..])
            };
            let Some(at) = next else {
                i = self.buf.len();
                break;
            };
            i += at;
            match self.buf[i] {
                b'"' if self.csv => self.quoted = !self.quoted,
                b'\n' => {
                    self.breaks += 1;
                    if !self.quoted {
                        let first = self.line + 1;
                        self.line += self.breaks;
                        self.breaks = 0;
                        let from = self.start;
                        self.start = i + 1;
                        self.scanned = i + 1;
                        if std::mem::take(&mut self.skipping) {
                            i += 1;
                            continue;
                        }
                        if i - from > MAX_RECORD_BYTES {
                            return Some(Piece::TooLong(first));
                        }
                        let mut record = &self.buf[from..i];
                        if record.last() == Some(&b'\r') {
                            record = &record[..record.len() - 1];
                        }
                        return Some(Piece::Record(first, record));
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.scanned = i;
        let long = self.buf.len() - self.start > MAX_RECORD_BYTES;
        if self.skipping || long {
            // Nothing of an oversized record is kept.
            self.buf.truncate(self.start);
            self.scanned = self.start;
        }
        if long && !self.skipping {
            self.skipping = true;
            return Some(Piece::TooLong(self.line + 1));
        }
        None
    }

    /// What is left at the end of the file (a last record without a break).
    pub(super) fn finish(&mut self) -> Option<(u64, Vec<u8>)> {
        let record = self.buf.split_off(self.start);
        self.start = 0;
        self.scanned = 0;
        let skipped = std::mem::take(&mut self.skipping);
        (!skipped && !record.iter().all(u8::is_ascii_whitespace)).then_some((self.line + 1, record))
    }
}

/// The fields of one CSV record (RFC 4180: quotes, doubled quotes).
pub(super) fn csv_fields(record: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(record).map_err(|_| "the row is not UTF-8".to_string())?;
    if !record.contains(&b'"') {
        return Ok(text.split(',').map(str::to_string).collect());
    }
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                out.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    out.push(field);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_split_across_chunks_and_quoted_breaks() {
        let mut s = Splitter {
            csv: true,
            ..Splitter::default()
        };
        let mut out = Vec::new();
        for chunk in ["id,note\r\n1,\"two", "\nlines\"\n2,\"say \"\"hi\"\"\"\n3,x"] {
            s.push(chunk.as_bytes());
            while let Some(Piece::Record(line, r)) = s.next() {
                out.push((line, csv_fields(r).unwrap()));
            }
        }
        out.extend(s.finish().map(|(l, r)| (l, csv_fields(&r).unwrap())));
        assert_eq!(
            out,
            vec![
                (1, vec!["id".to_string(), "note".into()]),
                (2, vec!["1".into(), "two\nlines".into()]),
                (4, vec!["2".into(), "say \"hi\"".into()]),
                (5, vec!["3".into(), "x".into()]),
            ]
        );
        assert!(csv_fields(b"1,\"open").is_err());
    }

    #[test]
    fn csv_fields_table() {
        let ok: &[(&str, &[&str])] = &[
            ("a,b,c", &["a", "b", "c"]),
            ("", &[""]),
            ("a,,c", &["a", "", "c"]),
            (",", &["", ""]),
            ("\"x,y\",z", &["x,y", "z"]),
            ("\"say \"\"hi\"\"\"", &["say \"hi\""]),
            ("\"two\nlines\",x", &["two\nlines", "x"]),
            ("\"\"", &[""]),
            ("é,名前", &["é", "名前"]),
        ];
        for (record, fields) in ok {
            assert_eq!(
                csv_fields(record.as_bytes()).unwrap(),
                *fields,
                "{record:?}"
            );
        }
        for bad in ["\"open", "a,\"b"] {
            assert!(
                csv_fields(bad.as_bytes()).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn records_are_the_same_however_the_bytes_arrive() {
        let text = "id,note\r\n1,\"a\r\nb\"\n\n2,c\n";
        let whole = {
            let mut s = Splitter::new(true);
            s.push(text.as_bytes());
            let mut out = Vec::new();
            while let Some(Piece::Record(line, r)) = s.next() {
                out.push((line, r.to_vec()));
            }
            out.extend(s.finish());
            out
        };
        for size in 1..text.len() {
            let mut s = Splitter::new(true);
            let mut out = Vec::new();
            for chunk in text.as_bytes().chunks(size) {
                s.push(chunk);
                while let Some(Piece::Record(line, r)) = s.next() {
                    out.push((line, r.to_vec()));
                }
            }
            out.extend(s.finish());
            assert_eq!(out, whole, "chunks of {size}");
        }
    }

    /// Every piece of `text` fed in chunks of `size`, and the most bytes
    /// the splitter held at once.
    fn pieces(csv: bool, text: &[u8], size: usize) -> (Vec<String>, usize) {
        let mut s = Splitter::new(csv);
        let mut out = Vec::new();
        let mut held = 0;
        for chunk in text.chunks(size) {
            s.push(chunk);
            held = held.max(s.buf.len());
            while let Some(p) = s.next() {
                out.push(match p {
                    Piece::Record(line, r) => format!("{line}: {}", String::from_utf8_lossy(r)),
                    Piece::TooLong(line) => format!("{line}: too long"),
                });
            }
        }
        out.extend(
            s.finish()
                .map(|(l, r)| format!("{l}: {}", String::from_utf8_lossy(&r))),
        );
        (out, held)
    }

    #[test]
    fn a_record_over_the_limit_is_dropped_as_it_arrives() {
        // A quote left open: the rest of the file is one record.
        let mut csv = b"id,note\n1,ok\n2,\"open".to_vec();
        csv.extend(std::iter::repeat_n(b'x', 3 * MAX_RECORD_BYTES));
        csv.extend(b"\n3,never seen\n");
        let (out, held) = pieces(true, &csv, 64 << 10);
        assert_eq!(out, ["1: id,note", "2: 1,ok", "3: too long"]);
        assert!(held <= MAX_RECORD_BYTES + (128 << 10), "held {held}");
        // A long NDJSON line: the lines after it are read.
        let mut nd = b"{\"id\":\"a\"}\n{\"id\":\"".to_vec();
        nd.extend(std::iter::repeat_n(b'y', 2 * MAX_RECORD_BYTES));
        nd.extend(b"\"}\n{\"id\":\"b\"}\n");
        let (out, held) = pieces(false, &nd, 64 << 10);
        assert_eq!(
            out,
            ["1: {\"id\":\"a\"}", "2: too long", "3: {\"id\":\"b\"}"]
        );
        assert!(held <= MAX_RECORD_BYTES + (128 << 10), "held {held}");
        // The same, arriving at once.
        assert_eq!(pieces(false, &nd, nd.len()).0, out);
    }
}
