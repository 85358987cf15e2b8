//! What search knows beyond a merchant's articles: stop words and default
//! synonyms per language (`lexicon.json`, editable per merchant and locale
//! as synonyms), and the Traditional ↔ Simplified Chinese variants of the
//! characters the articles use (OpenCC's tables, through `hanconv`).

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use cove_search::Lexicon;
use cove_search::text::fold;

/// The language data as shipped; part of every index version.
pub const DATA: &str = include_str!("lexicon.json");

#[derive(serde::Deserialize)]
struct Language {
    stop: Vec<String>,
    synonyms: Vec<Vec<String>>,
}

static LANGUAGES: LazyLock<HashMap<String, Language>> =
    LazyLock::new(|| serde_json::from_str(DATA).expect("lexicon.json is valid"));

/// The language part of a locale (`zh` of `zh-TW`), lower case.
fn language(locale: &str) -> String {
    locale
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The default synonym groups for `locale`'s language (none if unknown).
pub fn default_synonyms(locale: &str) -> Vec<Vec<String>> {
    LANGUAGES
        .get(&language(locale))
        .map(|l| l.synonyms.clone())
        .unwrap_or_default()
}

/// The lexicon of an index in `locale` over `texts` (the articles' words),
/// with `synonyms` (the merchant's, or the language's defaults).
pub fn lexicon<'a>(
    locale: &str,
    synonyms: Vec<Vec<String>>,
    texts: impl Iterator<Item = &'a str>,
) -> Lexicon {
    let language = language(locale);
    let stop_words = LANGUAGES
        .get(&language)
        .map(|l| l.stop.iter().map(|w| fold(w)).collect())
        .unwrap_or_default();
    let variants = if language == "zh" {
        chinese_variants(texts)
    } else {
        BTreeMap::new()
    };
    Lexicon {
        variants,
        stop_words,
        synonyms,
    }
}

/// Every Traditional form (Taiwan, Hong Kong, OpenCC standard) of the
/// Simplified characters in `texts`, mapped to that Simplified character,
/// and Traditional characters in `texts` to their Simplified form: only the
/// characters this index can match, so the map stays small enough to travel
/// with it to the widget.
fn chinese_variants<'a>(texts: impl Iterator<Item = &'a str>) -> BTreeMap<char, char> {
    let single = |s: String| {
        let mut cs = s.chars();
        match (cs.next(), cs.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    for text in texts {
        seen.extend(
            text.chars()
                .filter(|c| ('\u{3400}'..='\u{9FFF}').contains(c)),
        );
    }
    let mut map = BTreeMap::new();
    for c in seen {
        let simplified = single(hanconv::t2s(c.to_string())).unwrap_or(c);
        if simplified != c {
            map.insert(c, simplified);
        }
        let s = simplified.to_string();
        for t in [hanconv::s2t(&s), hanconv::s2tw(&s), hanconv::s2hk(&s)] {
            if let Some(t) = single(t).filter(|&t| t != simplified) {
                map.insert(t, simplified);
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_forms_of_the_articles_characters_fold_to_them() {
        let l = lexicon("zh-CN", vec![], ["退货运费", "东西坏了"].into_iter());
        for (t, s) in [
            ('貨', '货'),
            ('運', '运'),
            ('費', '费'),
            ('東', '东'),
            ('壞', '坏'),
        ] {
            assert_eq!(l.variants.get(&t), Some(&s), "{t}");
        }
        assert!(
            !l.variants.contains_key(&'國'),
            "國 is not in these articles"
        );
        assert!(
            lexicon("ja", vec![], ["返品"].into_iter())
                .variants
                .is_empty()
        );
    }

    #[test]
    fn every_language_has_stop_words_and_synonyms() {
        for locale in ["en", "de-AT", "es", "fr", "zh-CN", "ja"] {
            let l = lexicon(locale, default_synonyms(locale), std::iter::empty());
            assert!(l.stop_words.len() >= 10, "{locale}");
            assert!(l.synonyms.len() >= 8, "{locale}");
        }
        assert!(default_synonyms("xx").is_empty());
    }
}
