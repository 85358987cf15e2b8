//! From text to search terms, identically at index and at query time:
//! lower-case, fold diacritics, split into words, stem European word forms
//! lightly, and cut Chinese, Japanese and Korean runs into overlapping
//! character bigrams (those scripts have no spaces to split on).

/// The language whose word forms a stemmer knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// English.
    English,
    /// German.
    German,
    /// French.
    French,
    /// Spanish.
    Spanish,
    /// Any other: no stemming (CJK and Arabic still get their own handling).
    Other,
}

impl Language {
    /// The language of a BCP 47 locale such as `de-AT`.
    pub fn of_locale(locale: &str) -> Language {
        match locale
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "en" => Language::English,
            "de" => Language::German,
            "fr" => Language::French,
            "es" => Language::Spanish,
            _ => Language::Other,
        }
    }
}

/// One search term and whether it came from a CJK run (matched exactly,
/// never by edit distance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// The normalised term.
    pub text: String,
    /// Whether it is a CJK unigram or bigram.
    pub cjk: bool,
    /// The word as written, folded but not stemmed: what typos are
    /// measured on (a misspelt word may stem differently from the word).
    pub word: String,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3400..=0x4DBF   // CJK Extension A
        | 0x4E00..=0x9FFF   // CJK Unified Ideographs
        | 0xF900..=0xFAFF   // CJK Compatibility Ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xFF66..=0xFF9F) // half-width Katakana
}

/// Lower-case `c` and strip its diacritics, appending to `out`. Arabic
/// vowel marks are dropped and letter variants unified.
fn fold_into(c: char, out: &mut String) {
    let folded: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'ā' => {
            "a"
        }
        'ç' | 'Ç' | 'č' | 'ć' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' | 'ē' | 'ę' | 'ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'ī' => "i",
        'ñ' | 'Ñ' | 'ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'ō' => {
            "o"
        }
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'ū' | 'ů' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ł' | 'Ł' => "l",
        'š' | 'Š' => "s",
        'ž' | 'Ž' => "z",
        // Arabic: alef variants, alef maqsura, ta marbuta; drop harakat and tatweel.
        'أ' | 'إ' | 'آ' | 'ٱ' => "ا",
        'ى' => "ي",
        'ة' => "ه",
        '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => "",
        _ => {
            out.push(lower(c));
            return;
        }
    };
    out.push_str(folded);
}

/// Lower case for the scripts storefronts write in (Latin, Greek,
/// Cyrillic) by arithmetic, so the widget's wasm carries no Unicode case
/// tables. Other characters are returned as they are.
fn lower(c: char) -> char {
    let n = c as u32;
    let to = match n {
        0x41..=0x5A | 0xC0..=0xD6 | 0xD8..=0xDE | 0x391..=0x3A1 | 0x3A3..=0x3AB | 0x410..=0x42F => {
            n + 32
        }
        0x400..=0x40F => n + 80,
        0x100..=0x137 | 0x14A..=0x177 if n.is_multiple_of(2) => n + 1,
        0x139..=0x148 | 0x179..=0x17E if !n.is_multiple_of(2) => n + 1,
        _ => n,
    };
    char::from_u32(to).unwrap_or(c)
}

/// Whether `c` is part of a word: letters and digits of any script, not
/// punctuation, symbols, spaces or emoji. Decided by ranges, so the
/// widget's wasm carries no Unicode property tables.
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    !matches!(c as u32,
        0x80..=0xBF | 0xD7 | 0xF7               // Latin-1 punctuation and signs
        | 0x2000..=0x2BFF                       // punctuation, symbols, arrows, shapes
        | 0x3000..=0x303F                       // CJK punctuation
        | 0x060C | 0x061B | 0x061F | 0x066A..=0x066D | 0x06D4 // Arabic punctuation
        | 0x0964 | 0x0965                       // Devanagari danda
        | 0xFE00..=0xFE0F | 0xFE30..=0xFE4F     // variation selectors, CJK compatibility forms
        | 0xFF00..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65 // full-width punctuation
        | 0xFFF0..=0xFFFF | 0x1F000..=0x1FAFF) // specials, emoji
}

/// Fold a whole string (lower case, no diacritics).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_into(c, &mut out);
    }
    out
}

/// The search terms of `text` in `language`.
pub fn terms(text: &str, language: Language) -> Vec<Term> {
    terms_with(text, language, &[])
}

/// Katakana as hiragana (ヘンピン is へんぴん), by arithmetic.
fn hiragana(c: char) -> char {
    match c as u32 {
        n @ 0x30A1..=0x30F6 => char::from_u32(n - 0x60).unwrap_or(c),
        _ => c,
    }
}

/// The search terms of `text` in `language`, each character in `variants`
/// (pairs sorted by their first) searched as the one it maps to
/// (Traditional as Simplified Chinese).
pub fn terms_with(text: &str, language: Language, variants: &[(char, char)]) -> Vec<Term> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut cjk_run: Vec<char> = Vec::new();
    let flush_word = |word: &mut String, out: &mut Vec<Term>| {
        if !word.is_empty() {
            let stemmed = stem(word, language);
            out.push(Term {
                text: stemmed,
                cjk: false,
                word: word.clone(),
            });
            word.clear();
        }
    };
    let flush_cjk = |run: &mut Vec<char>, out: &mut Vec<Term>| {
        match run.len() {
            0 => {}
            1 => out.push(Term {
                text: String::from(run[0]),
                cjk: true,
                word: String::new(),
            }),
            _ => out.extend(run.windows(2).map(|w| Term {
                text: w.iter().collect(),
                cjk: true,
                word: String::new(),
            })),
        }
        run.clear();
    };
    for c in text.chars() {
        let c = variants
            .binary_search_by_key(&c, |v| v.0)
            .map_or(c, |i| variants[i].1);
        if is_cjk(c) {
            flush_word(&mut word, &mut out);
            cjk_run.push(hiragana(c));
        } else if is_word_char(c) {
            flush_cjk(&mut cjk_run, &mut out);
            fold_into(c, &mut word);
        } else {
            flush_word(&mut word, &mut out);
            flush_cjk(&mut cjk_run, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_cjk(&mut cjk_run, &mut out);
    out
}

/// Light stemming: enough to match the common inflections of a word
/// (plural, case endings, verb endings), never so much that unrelated words
/// collide. `word` is already folded.
pub fn stem(word: &str, language: Language) -> String {
    match language {
        Language::English => {
            let w = word.strip_suffix("'s").unwrap_or(word);
            let mut s = strip(
                w,
                &[
                    ("ies", "y"),
                    ("sses", "ss"),
                    ("ches", "ch"),
                    ("shes", "sh"),
                    ("xes", "x"),
                    ("ing", ""),
                    ("ed", ""),
                    ("ss", "ss"),
                    ("s", ""),
                ],
                3,
            );
            // shipping → shipp → ship, stopped → stop (but fall, pass, buzz).
            let b = s.as_bytes();
            if (w.ends_with("ing") || w.ends_with("ed"))
                && b.len() > 3
                && b[b.len() - 1] == b[b.len() - 2]
                && !b"aeioulsz".contains(&b[b.len() - 1])
            {
                s.pop();
            }
            s
        }
        Language::German => strip(
            word,
            &[
                ("ungen", "ung"),
                ("ern", ""),
                ("em", ""),
                ("en", ""),
                ("er", ""),
                ("es", ""),
                ("e", ""),
                ("s", ""),
                ("n", ""),
            ],
            4,
        ),
        Language::French => strip(
            word,
            &[
                ("aux", "al"),
                ("euses", "eur"),
                ("euse", "eur"),
                ("ees", "e"),
                ("es", "e"),
                ("s", ""),
                ("x", ""),
            ],
            3,
        ),
        // Plurals, gender, the commonest verb endings and one attached
        // pronoun (envío, envíos, enviar, envían, enviamos and envíanos
        // meet at "envi"): two passes.
        Language::Spanish => {
            let once = stem_spanish(word);
            stem_spanish(&once)
        }
        Language::Other => word.to_string(),
    }
}

/// `word` without the first of `rules`' suffixes it ends with (replaced by
/// the rule's text), if at least `keep` characters remain.
fn strip(word: &str, rules: &[(&str, &str)], keep: usize) -> String {
    for (suffix, with) in rules {
        if let Some(base) = word.strip_suffix(suffix)
            && base.chars().count() >= keep
        {
            let mut out = String::with_capacity(base.len() + with.len());
            out.push_str(base);
            out.push_str(with);
            return out;
        }
    }
    word.to_string()
}

/// One pass of the Spanish endings.
fn stem_spanish(word: &str) -> String {
    strip(
        word,
        &[
            ("ces", "z"),
            ("iones", "ion"),
            ("amos", ""),
            ("emos", ""),
            ("imos", ""),
            ("os", ""),
            ("as", ""),
            ("es", ""),
            ("an", ""),
            ("en", ""),
            ("ar", ""),
            ("er", ""),
            ("ir", ""),
            ("o", ""),
            ("a", ""),
            ("e", ""),
            ("s", ""),
        ],
        3,
    )
}

/// Optimal-string-alignment distance (insert, delete, substitute, swap of
/// neighbours each count one), or `None` once it must exceed `max`.
pub fn edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    edit_distance_from(&a, b, max)
}

/// Longest word typos are looked for in (characters).
const LONGEST: usize = 40;

/// [`edit_distance`] from a word already split into characters. Allocates
/// nothing: it runs once per candidate word of every typed word.
pub fn edit_distance_from(a: &[char], b: &str, max: usize) -> Option<usize> {
    let mut bc = ['\0'; LONGEST];
    let mut n = 0;
    for c in b.chars() {
        if n == LONGEST {
            return None;
        }
        bc[n] = c;
        n += 1;
    }
    let b = &bc[..n];
    if a.len() > LONGEST || a.len().abs_diff(b.len()) > max {
        return None;
    }
    // Three rows of the optimal-string-alignment table: i-2, i-1, i.
    let mut before = [0usize; LONGEST + 1];
    let mut prev: [usize; LONGEST + 1] = std::array::from_fn(|j| j);
    let mut row = [0usize; LONGEST + 1];
    for i in 1..=a.len() {
        row[0] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            row[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
        before = prev;
        prev = row;
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// Edits a query word of this many characters may carry: none below 4,
/// one from 4, two from 8.
pub fn typo_budget(chars: usize) -> usize {
    match chars {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, language: Language) -> Vec<String> {
        terms(text, language).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn folds_case_and_diacritics() {
        assert_eq!(
            fold("Crème Brûlée ÜBER Straße"),
            "creme brulee uber strasse"
        );
        assert_eq!(texts("Café, naïve!", Language::Other), ["cafe", "naive"]);
    }

    #[test]
    fn word_forms_meet_their_stem() {
        for (a, b, lang) in [
            ("returns", "return", Language::English),
            ("refunds", "refunded", Language::English),
            ("deliveries", "delivery", Language::English),
            ("shipping", "ships", Language::English),
            ("stopped", "stop", Language::English),
            ("falling", "falls", Language::English),
            ("Rücksendungen", "Rücksendung", Language::German),
            ("Paketen", "Paket", Language::German),
            ("livraisons", "livraison", Language::French),
            ("devoluciones", "devolución", Language::Spanish),
            ("envían", "envío", Language::Spanish),
            ("enviamos", "enviar", Language::Spanish),
            ("envíanos", "envío", Language::Spanish),
            ("tallas", "talla", Language::Spanish),
        ] {
            assert_eq!(texts(a, lang), texts(b, lang), "{a} / {b}");
        }
        // Short words and double-s endings keep their letters.
        assert_eq!(texts("bus glass", Language::English), ["bus", "glass"]);
    }

    #[test]
    fn cjk_runs_become_bigrams_between_latin_words() {
        assert_eq!(texts("退货政策", Language::Other), ["退货", "货政", "政策"]);
        assert_eq!(texts("iPhone返品", Language::Other), ["iphone", "返品"]);
        assert_eq!(texts("返", Language::Other), ["返"]);
        assert!(terms("配送", Language::Other).iter().all(|t| t.cjk));
        // Katakana is searched as hiragana.
        assert_eq!(
            texts("ヘンピン", Language::Other),
            texts("へんぴん", Language::Other)
        );
    }

    #[test]
    fn arabic_marks_and_variants_fold() {
        assert_eq!(fold("إِرْجَاع"), fold("ارجاع"));
        assert_eq!(
            texts("الشحنة", Language::Other),
            texts("الشحنه", Language::Other)
        );
    }

    #[test]
    fn edit_distance_counts_a_swap_as_one() {
        assert_eq!(edit_distance("refund", "refnud", 1), Some(1));
        assert_eq!(edit_distance("refund", "refun", 1), Some(1));
        assert_eq!(edit_distance("refund", "rfeunds", 2), Some(2));
        assert_eq!(edit_distance("refund", "shipping", 2), None);
        assert_eq!(edit_distance("", "", 0), Some(0));
        assert_eq!((typo_budget(3), typo_budget(4), typo_budget(8)), (0, 1, 2));
    }
}
