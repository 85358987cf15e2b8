//! What the flow says, in the languages the storefront widget ships:
//! English, Simplified Chinese, German, French, Spanish and Japanese.
//! Form labels carry all six (the host shows the customer's); outcomes
//! are written in the session's language. `{name}` is filled in.

use cove_sdk::returns::Localized;

/// The languages, in the order of each row of [`TEXTS`].
pub const LANGS: [&str; 6] = ["en", "zh-CN", "de", "fr", "es", "ja"];

/// Every text by key, one column per language of [`LANGS`].
#[rustfmt::skip]
pub const TEXTS: &[(&str, [&str; 6])] = &[
    ("country.title", ["Where are you sending it from?", "您从哪个国家/地区寄回？", "Von wo senden Sie es zurück?", "D’où le renvoyez-vous ?", "¿Desde dónde lo envías?", "どこから返送しますか？"]),
    ("country", ["Country", "国家/地区", "Land", "Pays", "País", "国"]),
    ("item.title", ["Which item are you returning?", "您要退哪件商品？", "Welchen Artikel senden Sie zurück?", "Quel article retournez-vous ?", "¿Qué artículo devuelves?", "どの商品を返品しますか？"]),
    ("item", ["Item", "商品", "Artikel", "Article", "Artículo", "商品"]),
    ("item.choice", ["{sku} ({category}), {n} can be returned", "{sku}（{category}），可退 {n} 件", "{sku} ({category}), {n} rücksendbar", "{sku} ({category}), {n} retournable(s)", "{sku} ({category}), se pueden devolver {n}", "{sku}（{category}）、返品可能 {n} 点"]),
    ("quantity.title", ["Quantity and delivery", "数量与收货日期", "Menge und Lieferung", "Quantité et livraison", "Cantidad y entrega", "数量と配達日"]),
    ("quantity", ["How many?", "退几件？", "Wie viele?", "Combien ?", "¿Cuántos?", "いくつですか？"]),
    ("delivered", ["When was it delivered?", "哪天收到的？", "Wann wurde es geliefert?", "Quand l’avez-vous reçu ?", "¿Cuándo se entregó?", "いつ届きましたか？"]),
    ("parcel.title", ["Your parcel", "包裹", "Ihr Paket", "Votre colis", "Tu paquete", "お荷物"]),
    ("weight", ["Parcel weight in grams", "包裹重量（克）", "Paketgewicht in Gramm", "Poids du colis en grammes", "Peso del paquete en gramos", "荷物の重さ（グラム）"]),
    ("reason.title", ["Why are you returning it?", "退货原因", "Warum senden Sie es zurück?", "Pourquoi le retournez-vous ?", "¿Por qué lo devuelves?", "返品の理由"]),
    ("comment", ["Anything you want us to know", "补充说明", "Möchten Sie uns noch etwas mitteilen?", "Autre chose à nous dire ?", "¿Algo más que debamos saber?", "その他ご連絡事項"]),
    ("photo", ["A photo, if it arrived damaged", "如有损坏，请上传照片", "Ein Foto, falls es beschädigt ankam", "Une photo, s’il est arrivé endommagé", "Una foto, si llegó dañado", "破損していた場合は写真"]),
    ("sealed", ["Is it still in its sealed packaging?", "包装是否仍未拆封？", "Ist es noch original versiegelt?", "Est-il encore dans son emballage scellé ?", "¿Sigue en su embalaje precintado?", "未開封のままですか？"]),
    ("sealed.yes", ["Yes, still sealed", "是，未拆封", "Ja, noch versiegelt", "Oui, toujours scellé", "Sí, sigue precintado", "はい、未開封です"]),
    ("sealed.no", ["No, it has been opened", "否，已拆封", "Nein, es wurde geöffnet", "Non, il a été ouvert", "No, se ha abierto", "いいえ、開封しました"]),
    ("reason.damaged", ["It arrived damaged or faulty", "到货损坏或有故障", "Beschädigt oder defekt angekommen", "Arrivé endommagé ou défectueux", "Llegó dañado o defectuoso", "破損・不良品が届いた"]),
    ("reason.wrong-item", ["I received the wrong item", "发错了商品", "Falscher Artikel geliefert", "J’ai reçu le mauvais article", "Recibí un artículo equivocado", "違う商品が届いた"]),
    ("reason.not-as-described", ["It is not as described", "与描述不符", "Entspricht nicht der Beschreibung", "Non conforme à la description", "No es como se describía", "説明と異なる"]),
    ("reason.too-small", ["Too small", "太小", "Zu klein", "Trop petit", "Demasiado pequeño", "小さすぎる"]),
    ("reason.too-large", ["Too large", "太大", "Zu groß", "Trop grand", "Demasiado grande", "大きすぎる"]),
    ("reason.changed-mind", ["I changed my mind", "不想要了", "Ich habe es mir anders überlegt", "J’ai changé d’avis", "He cambiado de opinión", "気が変わった"]),
    ("reason.other", ["Something else", "其他原因", "Etwas anderes", "Autre chose", "Otro motivo", "その他"]),
    ("marketplace", ["This order was sold on {m}: start the return from your {m} account (Your orders → Return or replace items); {m}'s return rules and refund apply.", "此订单在 {m} 售出：请在 {m} 账户的订单页面发起退货，适用 {m} 的退货规则与退款。", "Diese Bestellung wurde über {m} verkauft: Starten Sie die Rücksendung in Ihrem {m}-Konto; es gelten die Rückgabe- und Erstattungsregeln von {m}.", "Cette commande a été vendue sur {m} : lancez le retour depuis votre compte {m} ; les règles de retour et de remboursement de {m} s’appliquent.", "Este pedido se vendió en {m}: inicia la devolución desde tu cuenta de {m}; se aplican las normas de devolución y reembolso de {m}.", "このご注文は {m} で販売されました。{m} のアカウントから返品手続きを行ってください。{m} の返品・返金規定が適用されます。"]),
    ("all-returned", ["Everything in this order has already been returned.", "此订单的商品均已退货。", "Alle Artikel dieser Bestellung wurden bereits zurückgesendet.", "Tous les articles de cette commande ont déjà été retournés.", "Todo lo de este pedido ya se ha devuelto.", "このご注文の商品はすべて返品済みです。"]),
    ("sku-returned", ["{sku} has already been returned.", "{sku} 已经退过货。", "{sku} wurde bereits zurückgesendet.", "{sku} a déjà été retourné.", "{sku} ya se ha devuelto.", "{sku} は返品済みです。"]),
    ("no.personalised", ["Personalised items cannot be returned unless they are faulty.", "定制商品除质量问题外不支持退货。", "Personalisierte Artikel sind vom Umtausch ausgeschlossen, außer bei Mängeln.", "Les articles personnalisés ne sont pas repris, sauf s’ils sont défectueux.", "Los artículos personalizados no se pueden devolver salvo que sean defectuosos.", "名入れ・カスタム商品は、不良品を除き返品できません。"]),
    ("no.made-to-order", ["Items made to order cannot be returned unless they are faulty.", "按订单生产的商品除质量问题外不支持退货。", "Auf Bestellung gefertigte Artikel sind vom Umtausch ausgeschlossen, außer bei Mängeln.", "Les articles fabriqués sur commande ne sont pas repris, sauf s’ils sont défectueux.", "Los artículos hechos por encargo no se pueden devolver salvo que sean defectuosos.", "受注生産品は、不良品を除き返品できません。"]),
    ("no.perishable", ["Perishable goods cannot be returned unless they are faulty.", "易腐商品除质量问题外不支持退货。", "Verderbliche Waren sind vom Umtausch ausgeschlossen, außer bei Mängeln.", "Les denrées périssables ne sont pas reprises, sauf si elles sont défectueuses.", "Los productos perecederos no se pueden devolver salvo que sean defectuosos.", "生鮮品は、不良品を除き返品できません。"]),
    ("no.hygiene", ["For hygiene reasons, sealed items cannot be returned once opened.", "出于卫生原因，密封商品拆封后不支持退货。", "Aus Hygienegründen sind versiegelte Artikel nach dem Öffnen vom Umtausch ausgeschlossen.", "Pour des raisons d’hygiène, les articles scellés ne sont plus repris une fois ouverts.", "Por motivos de higiene, los artículos precintados no se pueden devolver una vez abiertos.", "衛生上の理由により、開封済みの商品は返品できません。"]),
    ("no.media", ["Sealed audio, video or software cannot be returned once opened.", "密封的音像制品或软件拆封后不支持退货。", "Versiegelte Audio-, Video- oder Software-Produkte sind nach dem Öffnen vom Umtausch ausgeschlossen.", "Les CD, vidéos ou logiciels scellés ne sont plus repris une fois ouverts.", "El audio, vídeo o software precintado no se puede devolver una vez abierto.", "開封済みの音楽・映像・ソフトウェアは返品できません。"]),
    ("no.window.until", ["It was delivered on {delivered}; it could be returned until {until}.", "商品于{delivered}签收；退货截止日期为{until}。", "Die Lieferung erfolgte am {delivered}; zurückgeben konnten Sie sie bis {until}.", "La livraison a eu lieu le {delivered} ; le retour était possible jusqu’au {until}.", "Se entregó el {delivered}; se podía devolver hasta el {until}.", "{delivered}にお届けしました。返品は{until}まで承っていました。"]),
    ("no.window", ["It was delivered {days} days ago; returns are accepted within {window} days of delivery.", "商品已签收 {days} 天；退货期限为签收后 {window} 天内。", "Die Lieferung ist {days} Tage her; Rücksendungen sind innerhalb von {window} Tagen nach Lieferung möglich.", "La livraison date de {days} jours ; les retours sont acceptés dans les {window} jours suivant la livraison.", "Se entregó hace {days} días; las devoluciones se aceptan en los {window} días siguientes a la entrega.", "お届けから {days} 日経過しています。返品はお届けから {window} 日以内に承ります。"]),
    ("ok.pickup", ["Return accepted: {amount} will be refunded once the parcel is back. A carrier will pick it up.", "退货已受理：包裹寄回后将退款 {amount}。快递员将上门取件。", "Rücksendung angenommen: {amount} werden erstattet, sobald das Paket zurück ist. Ein Kurier holt es ab.", "Retour accepté : {amount} vous seront remboursés au retour du colis. Un transporteur viendra le chercher.", "Devolución aceptada: te reembolsaremos {amount} cuando recibamos el paquete. Un transportista lo recogerá.", "返品を承りました。荷物の到着後に {amount} を返金します。集荷に伺います。"]),
    ("ok.drop-off", ["Return accepted: {amount} will be refunded once the parcel is back. Drop it off at any carrier point.", "退货已受理：包裹寄回后将退款 {amount}。请送至任一快递网点。", "Rücksendung angenommen: {amount} werden erstattet, sobald das Paket zurück ist. Geben Sie es an einer beliebigen Annahmestelle ab.", "Retour accepté : {amount} vous seront remboursés au retour du colis. Déposez-le dans n’importe quel point relais.", "Devolución aceptada: te reembolsaremos {amount} cuando recibamos el paquete. Entrégalo en cualquier punto de envío.", "返品を承りました。荷物の到着後に {amount} を返金します。お近くの取扱店からお送りください。"]),
    ("line.shipping", ["Return shipping ({weight} g)", "退货运费（{weight} 克）", "Rückversand ({weight} g)", "Frais de retour ({weight} g)", "Envío de devolución ({weight} g)", "返送料（{weight} g）"]),
    ("line.restocking", ["Restocking fee ({percent}%)", "重新上架费（{percent}%）", "Wiedereinlagerungsgebühr ({percent} %)", "Frais de remise en stock ({percent} %)", "Cargo por reposición ({percent} %)", "再入荷手数料（{percent}%）"]),
];

/// The default countries' names, in the order of [`LANGS`].
#[rustfmt::skip]
const COUNTRIES: &[(&str, [&str; 6])] = &[
    ("DE", ["Germany", "德国", "Deutschland", "Allemagne", "Alemania", "ドイツ"]),
    ("FR", ["France", "法国", "Frankreich", "France", "Francia", "フランス"]),
    ("IT", ["Italy", "意大利", "Italien", "Italie", "Italia", "イタリア"]),
    ("ES", ["Spain", "西班牙", "Spanien", "Espagne", "España", "スペイン"]),
    ("NL", ["Netherlands", "荷兰", "Niederlande", "Pays-Bas", "Países Bajos", "オランダ"]),
    ("BE", ["Belgium", "比利时", "Belgien", "Belgique", "Bélgica", "ベルギー"]),
    ("AT", ["Austria", "奥地利", "Österreich", "Autriche", "Austria", "オーストリア"]),
    ("IE", ["Ireland", "爱尔兰", "Irland", "Irlande", "Irlanda", "アイルランド"]),
    ("PL", ["Poland", "波兰", "Polen", "Pologne", "Polonia", "ポーランド"]),
    ("SE", ["Sweden", "瑞典", "Schweden", "Suède", "Suecia", "スウェーデン"]),
    ("DK", ["Denmark", "丹麦", "Dänemark", "Danemark", "Dinamarca", "デンマーク"]),
    ("FI", ["Finland", "芬兰", "Finnland", "Finlande", "Finlandia", "フィンランド"]),
    ("PT", ["Portugal", "葡萄牙", "Portugal", "Portugal", "Portugal", "ポルトガル"]),
    ("GB", ["United Kingdom", "英国", "Vereinigtes Königreich", "Royaume-Uni", "Reino Unido", "イギリス"]),
    ("US", ["United States", "美国", "Vereinigte Staaten", "États-Unis", "Estados Unidos", "アメリカ"]),
    ("CA", ["Canada", "加拿大", "Kanada", "Canada", "Canadá", "カナダ"]),
    ("AU", ["Australia", "澳大利亚", "Australien", "Australie", "Australia", "オーストラリア"]),
    ("AE", ["United Arab Emirates", "阿联酋", "Vereinigte Arabische Emirate", "Émirats arabes unis", "Emiratos Árabes Unidos", "アラブ首長国連邦"]),
    ("SA", ["Saudi Arabia", "沙特阿拉伯", "Saudi-Arabien", "Arabie saoudite", "Arabia Saudí", "サウジアラビア"]),
    ("SG", ["Singapore", "新加坡", "Singapur", "Singapour", "Singapur", "シンガポール"]),
];

/// A country's name in every language, or its code where the name is
/// not known here.
pub fn country(code: &str) -> Localized {
    match COUNTRIES.iter().find(|(c, _)| *c == code) {
        Some((_, names)) => LANGS
            .iter()
            .zip(names)
            .map(|(l, n)| (l.to_string(), n.to_string()))
            .collect(),
        None => vec![("en".into(), code.into())],
    }
}

fn row(key: &str) -> &'static [&'static str; 6] {
    &TEXTS
        .iter()
        .find(|(k, _)| *k == key)
        .unwrap_or_else(|| panic!("no text `{key}`"))
        .1
}

fn fill(text: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(text.to_string(), |t, (k, v)| {
        t.replace(&format!("{{{k}}}"), v)
    })
}

/// `key` in every language, `vars` filled in: a form's label.
pub fn all(key: &str, vars: &[(&str, &str)]) -> Localized {
    LANGS
        .iter()
        .zip(row(key))
        .map(|(l, t)| (l.to_string(), fill(t, vars)))
        .collect()
}

const WEEKDAYS: [[&str; 7]; 6] = [
    [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
    [
        "星期一",
        "星期二",
        "星期三",
        "星期四",
        "星期五",
        "星期六",
        "星期日",
    ],
    [
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
        "Sonntag",
    ],
    [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ],
    [
        "lunes",
        "martes",
        "miércoles",
        "jueves",
        "viernes",
        "sábado",
        "domingo",
    ],
    ["月", "火", "水", "木", "金", "土", "日"],
];

const MONTHS: [[&str; 12]; 4] = [
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
];

fn lang_index(locale: &str) -> usize {
    let lang = locale.split(['-', '_']).next().unwrap_or("");
    LANGS
        .iter()
        .position(|l| l.split('-').next() == Some(lang))
        .unwrap_or(0)
}

/// A day (days since the epoch) as people write it in `locale`'s
/// language: "Monday 7 December", "12月7日（星期一）".
pub fn long_date(locale: &str, day: i64) -> String {
    let (_, m, d) = cove_sdk::civil::from_days(day);
    let i = lang_index(locale);
    let wd = WEEKDAYS[i][(day + 3).rem_euclid(7) as usize];
    let month = |k: usize| MONTHS[k][(m - 1) as usize];
    match i {
        1 => format!("{m}月{d}日（{wd}）"),
        2 => format!("{wd}, {d}. {}", month(1)),
        3 => format!("{wd} {d} {}", month(2)),
        4 => format!("{wd} {d} de {}", month(3)),
        5 => format!("{m}月{d}日（{wd}）"),
        _ => format!("{wd} {d} {}", month(0)),
    }
}

/// `key` in the language of `locale` (its language, else English).
pub fn say(locale: &str, key: &str, vars: &[(&str, &str)]) -> String {
    fill(row(key)[lang_index(locale)], vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_has_every_language_and_the_same_blanks() {
        for (key, texts) in TEXTS {
            let blanks = |t: &str| {
                let mut b: Vec<String> = t
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                    .collect();
                b.sort();
                b.dedup();
                b
            };
            for t in texts {
                assert!(!t.trim().is_empty(), "{key}");
                assert_eq!(blanks(t), blanks(texts[0]), "{key}: {t}");
            }
        }
    }

    #[test]
    fn the_locale_picks_the_language() {
        assert_eq!(say("de-AT", "item", &[]), "Artikel");
        assert_eq!(say("zh-TW", "item", &[]), "商品");
        assert_eq!(say("pt-BR", "item", &[]), "Item");
        assert_eq!(
            say("fr", "sku-returned", &[("sku", "A-1")]),
            "A-1 a déjà été retourné."
        );
        assert_eq!(all("country", &[]).len(), 6);
        assert_eq!(
            country("DE")[2],
            ("de".to_string(), "Deutschland".to_string())
        );
        assert_eq!(country("ZZ"), vec![("en".to_string(), "ZZ".to_string())]);
        // Every default country has its names.
        for c in crate::DEFAULT_COUNTRIES.split(',') {
            assert_eq!(country(c).len(), 6, "{c}");
        }
    }
}
