//! A merchant's widget settings: theme, position, allowed origins and the
//! texts per locale, with the built-in texts Cove ships.

use crate::platform::http::Code;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::platform::http::ApiError;

/// Where the launcher sits.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    /// Bottom right.
    #[default]
    Right,
    /// Bottom left.
    Left,
}

/// A merchant's widget settings.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WidgetSettings {
    /// Pages on these origins (`https://shop.example`) may use the widget.
    pub allowed_origins: Vec<String>,
    /// Locale used when the page's language has no articles.
    pub default_locale: String,
    /// Accent colour (`#rrggbb`).
    pub accent: String,
    /// Launcher position.
    pub position: Position,
    /// Replacement texts per locale (keys as in the built-in texts).
    pub texts: BTreeMap<String, BTreeMap<String, String>>,
}

impl Default for WidgetSettings {
    fn default() -> WidgetSettings {
        WidgetSettings {
            allowed_origins: Vec::new(),
            default_locale: "en".into(),
            accent: "#0b6e4f".into(),
            position: Position::Right,
            texts: BTreeMap::new(),
        }
    }
}

/// Keys of the widget's texts, in the order of [`builtin_texts`]' rows.
const TEXT_KEYS: [&str; 19] = [
    "launcher",
    "title",
    "placeholder",
    "empty",
    "helpful",
    "yes",
    "no",
    "thanks",
    "close",
    "send",
    "back",
    "returns",
    "order",
    "email",
    "next",
    "confirm",
    "nomatch",
    "person",
    "registered",
];

/// The widget's texts in the languages Cove ships.
fn builtin_texts(lang: &str) -> [&'static str; 19] {
    match lang {
        "de" => [
            "Hilfe",
            "Hilfe & FAQ",
            "Frage eingeben …",
            "Keine passenden Artikel.",
            "War das hilfreich?",
            "Ja",
            "Nein",
            "Danke!",
            "Schließen",
            "Senden",
            "Zurück",
            "Artikel zurücksenden",
            "Bestellnummer",
            "E-Mail-Adresse",
            "Weiter",
            "Bestätigen",
            "Keine Bestellung passt zu dieser Nummer und E-Mail-Adresse.",
            "Ein Teammitglied kümmert sich darum und meldet sich bei Ihnen.",
            "Ihre Rücksendung ist registriert.",
        ],
        "es" => [
            "Ayuda",
            "Ayuda y preguntas",
            "Escribe tu pregunta…",
            "No hay artículos que coincidan.",
            "¿Te ha sido útil?",
            "Sí",
            "No",
            "¡Gracias!",
            "Cerrar",
            "Enviar",
            "Volver",
            "Devolver un artículo",
            "Número de pedido",
            "Correo electrónico",
            "Continuar",
            "Confirmar",
            "Ningún pedido coincide con ese número y correo.",
            "Una persona de nuestro equipo se encargará y te responderá.",
            "Tu devolución está registrada.",
        ],
        "fr" => [
            "Aide",
            "Aide & FAQ",
            "Posez votre question…",
            "Aucun article ne correspond.",
            "Cet article vous a-t-il aidé ?",
            "Oui",
            "Non",
            "Merci !",
            "Fermer",
            "Envoyer",
            "Retour",
            "Retourner un article",
            "Numéro de commande",
            "Adresse e-mail",
            "Continuer",
            "Confirmer",
            "Aucune commande ne correspond à ce numéro et cette adresse.",
            "Un membre de notre équipe s’en occupe et vous répondra.",
            "Votre retour est enregistré.",
        ],
        "zh" => [
            "帮助",
            "帮助中心",
            "输入您的问题…",
            "没有找到相关文章。",
            "这篇文章有帮助吗？",
            "有",
            "没有",
            "谢谢！",
            "关闭",
            "提交",
            "返回",
            "申请退货",
            "订单号",
            "电子邮箱",
            "继续",
            "确认",
            "没有与该订单号和邮箱匹配的订单。",
            "我们的客服会处理并尽快回复您。",
            "您的退货申请已登记。",
        ],
        "ja" => [
            "ヘルプ",
            "ヘルプとよくある質問",
            "質問を入力…",
            "該当する記事がありません。",
            "この記事は役に立ちましたか？",
            "はい",
            "いいえ",
            "ありがとうございます！",
            "閉じる",
            "送信",
            "戻る",
            "返品する",
            "注文番号",
            "メールアドレス",
            "次へ",
            "確定",
            "該当する注文が見つかりません。",
            "担当者が確認してご連絡します。",
            "返品を受け付けました。",
        ],
        _ => [
            "Help",
            "Help & FAQ",
            "Type your question…",
            "No matching articles.",
            "Was this helpful?",
            "Yes",
            "No",
            "Thanks!",
            "Close",
            "Send",
            "Back",
            "Return an item",
            "Order number",
            "E-mail address",
            "Continue",
            "Confirm",
            "No order matches that number and e-mail.",
            "A member of our team will look at it and get back to you.",
            "Your return is registered.",
        ],
    }
}

fn valid_origin(o: &str) -> bool {
    let Some(rest) = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest.len() <= 253
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

impl WidgetSettings {
    /// Refuse settings that cannot be used, saying which field and why.
    pub fn check(&self) -> Result<(), ApiError> {
        if self.allowed_origins.len() > 50 || !self.allowed_origins.iter().all(|o| valid_origin(o))
        {
            return Err(ApiError::unprocessable(
                Code::InvalidOrigin,
                "allowed_origins are up to 50 origins like `https://shop.example` (scheme, host and optional port, no path)",
            ));
        }
        if !crate::platform::http::valid_locale(&self.default_locale) {
            return Err(ApiError::unprocessable(
                Code::InvalidLocale,
                "default_locale must look like `en` or `de-AT`",
            ));
        }
        let hex = self.accent.strip_prefix('#').unwrap_or("");
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ApiError::unprocessable(
                Code::InvalidAccent,
                "accent is a colour like `#0b6e4f`",
            ));
        }
        for (locale, texts) in &self.texts {
            if !crate::platform::http::valid_locale(locale) {
                return Err(ApiError::unprocessable(
                    Code::InvalidLocale,
                    format!("texts: `{locale}` is not a locale"),
                ));
            }
            if let Some(k) = texts.keys().find(|k| !TEXT_KEYS.contains(&k.as_str())) {
                return Err(ApiError::unprocessable(
                    Code::InvalidTexts,
                    format!(
                        "texts.{locale}: unknown key `{k}`; the keys are {}",
                        TEXT_KEYS.join(", ")
                    ),
                ));
            }
            if texts
                .values()
                .any(|v| v.is_empty() || v.chars().count() > 120)
            {
                return Err(ApiError::unprocessable(
                    Code::InvalidTexts,
                    "each text has 1 to 120 characters",
                ));
            }
        }
        Ok(())
    }

    /// The widget's texts in `locale`: built-in, then the merchant's own.
    pub fn texts(&self, locale: &str) -> Value {
        let lang = locale.split('-').next().unwrap_or(locale);
        let mut out: BTreeMap<&str, &str> =
            TEXT_KEYS.into_iter().zip(builtin_texts(lang)).collect();
        for key in [lang, locale] {
            for (k, v) in self.texts.get(key).into_iter().flatten() {
                if let Some(slot) = out.get_mut(k.as_str()) {
                    *slot = v;
                }
            }
        }
        json!(out)
    }
}

/// The WCAG 2.2 contrast ratio of two `#rrggbb` colours (1 to 21).
pub fn contrast(a: &str, b: &str) -> f64 {
    let luminance = |colour: &str| {
        let hex = colour.strip_prefix('#').unwrap_or("");
        let channel = |i: usize| {
            let v =
                f64::from(u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0))
                    / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
    };
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// The text colour on `accent`: black or white, whichever contrasts more
/// with it. One of them always reaches 4.5:1, so any accent gives
/// readable text (the console's preview uses the same rule).
pub fn ink_on(accent: &str) -> &'static str {
    if contrast(accent, "#000000") > contrast(accent, "#ffffff") {
        "#000000"
    } else {
        "#ffffff"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ink_on_any_accent_reads_at_4_5_to_1() {
        assert!((contrast("#ffd400", "#ffffff") - 1.43).abs() < 0.01);
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
        assert_eq!(ink_on("#ffd400"), "#000000", "white on yellow is 1.43:1");
        assert_eq!(ink_on("#ffffff"), "#000000");
        assert_eq!(ink_on("#0b6e4f"), "#ffffff");
        for r in (0..=255).step_by(15) {
            for g in (0..=255).step_by(15) {
                for b in (0..=255).step_by(15) {
                    let accent = format!("#{r:02x}{g:02x}{b:02x}");
                    let ratio = contrast(&accent, ink_on(&accent));
                    assert!(ratio >= 4.5, "{accent}: {ratio:.2}");
                    let other = if ink_on(&accent) == "#000000" {
                        "#ffffff"
                    } else {
                        "#000000"
                    };
                    assert!(ratio >= contrast(&accent, other), "{accent}");
                }
            }
        }
    }

    #[test]
    fn origins_are_scheme_and_host_only() {
        assert!(valid_origin("https://shop.example"));
        assert!(valid_origin("http://127.0.0.1:8080"));
        assert!(!valid_origin("https://shop.example/path"));
        assert!(!valid_origin("shop.example"));
        assert!(!valid_origin("https://"));
    }

    #[test]
    fn merchant_texts_replace_builtin_ones() {
        let mut s = WidgetSettings::default();
        s.texts.insert(
            "de".into(),
            BTreeMap::from([("launcher".into(), "Fragen?".into())]),
        );
        let t = s.texts("de-AT");
        assert_eq!(t["launcher"], "Fragen?");
        assert_eq!(t["close"], "Schließen");
        assert_eq!(s.texts("xx")["close"], "Close");
    }
}
