//! The four things a shop knows about its customers — customers, consents,
//! orders, events — as rows: read from one record's fields (a CSV row or
//! an NDJSON object), checked and normalised, with the field and reason
//! when something is wrong.

use serde_json::{Map, Value, json};

use super::money::parse_minor;

/// One record's fields by name.
pub type Fields = Map<String, Value>;

/// A stored value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cell {
    /// Text, or NULL.
    Text(Option<String>),
    /// A whole number, or NULL.
    Int(Option<i64>),
}

/// Why a record was refused: the field and the reason.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RowError {
    /// The field at fault.
    pub field: String,
    /// What is wrong, in words.
    pub reason: String,
}

fn err(field: &str, reason: impl Into<String>) -> RowError {
    RowError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// What can be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// Customers.
    Customers,
    /// Orders with their line items and deliveries.
    Orders,
    /// Engagement and commerce events.
    Events,
    /// Consent changes per channel.
    Consents,
}

/// Channels a customer can be reached on (the WIT `channel` names).
pub const CHANNELS: [&str; 7] = [
    "email",
    "sms",
    "app-push",
    "web-push",
    "whatsapp",
    "messenger",
    "phone-call",
];
/// Engagement event kinds (need a channel); `bounced` is a hard bounce
/// (the address or number does not exist) and suppresses the channel.
pub const ENGAGEMENT: [&str; 8] = [
    "sent",
    "delivered",
    "opened",
    "clicked",
    "replied",
    "unsubscribed",
    "complained",
    "bounced",
];
/// Commerce event kinds.
pub const COMMERCE: [&str; 3] = ["viewed-product", "added-to-cart", "started-checkout"];
/// Order states.
pub const ORDER_STATUS: [&str; 7] = [
    "placed",
    "paid",
    "fulfilled",
    "delivered",
    "cancelled",
    "refunded",
    "returned",
];

impl Entity {
    /// Its name in a path (`customers`, `orders`, …).
    pub fn name(self) -> &'static str {
        match self {
            Entity::Customers => "customers",
            Entity::Orders => "orders",
            Entity::Events => "events",
            Entity::Consents => "consents",
        }
    }

    /// From the URL or command-line name.
    pub fn parse(name: &str) -> Option<Entity> {
        Some(match name {
            "customers" => Entity::Customers,
            "orders" => Entity::Orders,
            "events" => Entity::Events,
            "consents" => Entity::Consents,
            _ => return None,
        })
    }

    /// The table.
    pub fn table(self) -> &'static str {
        match self {
            Entity::Customers => "customers",
            Entity::Orders => "orders",
            Entity::Events => "customer_events",
            Entity::Consents => "consents",
        }
    }

    /// Stored columns after `merchant_id`, the key (`id`) first.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Entity::Customers => &[
                "id",
                "email",
                "phone",
                "country",
                "time_zone",
                "locale",
                "birthday",
                "tier",
                "tags",
                "created_at",
                "attributes",
            ],
            Entity::Orders => &[
                "id",
                "customer_id",
                "placed_at",
                "currency",
                "total_minor",
                "platform",
                "status",
                "items",
                "deliveries",
            ],
            Entity::Events => &[
                "id",
                "customer_id",
                "kind",
                "channel",
                "campaign_id",
                "at",
                "sku",
            ],
            Entity::Consents => &["id", "customer_id", "channel", "status", "source", "at"],
        }
    }

    /// Check and normalise one record into its cells (in [`Entity::columns`] order).
    pub fn row(self, f: &Fields) -> Result<Vec<Cell>, RowError> {
        match self {
            Entity::Customers => customer(f),
            Entity::Orders => order(f),
            Entity::Events => event(f),
            Entity::Consents => consent(f),
        }
    }
}

/// A field as text: strings trimmed, numbers and booleans as written,
/// empty as absent.
pub fn text(f: &Fields, name: &str) -> Option<String> {
    match f.get(name)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn required(f: &Fields, name: &str) -> Result<String, RowError> {
    text(f, name).ok_or_else(|| err(name, "is missing"))
}

fn key(f: &Fields, name: &str) -> Result<String, RowError> {
    let v = required(f, name)?;
    if v.chars().count() > 128 || v.chars().any(char::is_control) {
        return Err(err(name, "must be 1–128 characters, no control characters"));
    }
    Ok(v)
}

/// A time as ms since the epoch: a number of ms, RFC 3339
/// (`2026-11-30T10:00:00Z`), Shopify's `2026-11-30 10:00:00 +0100`, or a
/// date (`2026-11-30`, midnight UTC).
pub fn time_ms(s: &str) -> Option<i64> {
    if let Ok(ms) = s.parse::<i64>() {
        return Some(ms);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    if let Ok(t) = chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S %z") {
        return Some(t.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp_millis())
}

fn time(f: &Fields, name: &str) -> Result<Option<i64>, RowError> {
    match text(f, name) {
        None => Ok(None),
        Some(s) => time_ms(&s).map(Some).ok_or_else(|| {
            err(
                name,
                format!("`{s}` is not a time (RFC 3339, e.g. 2026-11-30T10:00:00Z)"),
            )
        }),
    }
}

fn one_of(f: &Fields, name: &str, allowed: &[&str]) -> Result<Option<String>, RowError> {
    match text(f, name) {
        None => Ok(None),
        Some(v) => {
            let v = v.to_lowercase().replace('_', "-");
            if allowed.contains(&v.as_str()) {
                Ok(Some(v))
            } else {
                Err(err(
                    name,
                    format!("`{v}` is not one of {}", allowed.join(", ")),
                ))
            }
        }
    }
}

/// An e-mail address, trimmed and lower-cased.
pub fn normalise_email(s: &str) -> Option<String> {
    let e = s.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    (!local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !e.contains(char::is_whitespace)
        && e.len() <= 254)
        .then_some(e)
}

/// A phone number in E.164 (`+4915112345678`): spaces, dashes, dots and
/// brackets dropped, a leading `00` read as `+`. Without a country code it
/// cannot be normalised.
pub fn normalise_phone(s: &str) -> Option<String> {
    let kept: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\''))
        .collect();
    let digits = kept.strip_prefix('+').or_else(|| kept.strip_prefix("00"))?;
    (digits.bytes().all(|b| b.is_ascii_digit())
        && (7..=15).contains(&digits.len())
        && !digits.starts_with('0'))
    .then(|| format!("+{digits}"))
}

fn list(f: &Fields, name: &str) -> Vec<String> {
    match f.get(name) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => text(f, name)
            .map(|s| {
                s.split([',', ';'])
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn customer(f: &Fields) -> Result<Vec<Cell>, RowError> {
    let id = key(f, "id")?;
    let email = match text(f, "email") {
        None => None,
        Some(e) => Some(
            normalise_email(&e)
                .ok_or_else(|| err("email", format!("`{e}` is not an e-mail address")))?,
        ),
    };
    let phone = match text(f, "phone") {
        None => None,
        Some(p) => Some(normalise_phone(&p).ok_or_else(|| {
            err(
                "phone",
                format!("`{p}` is not a phone number with its country code (+49 151 …)"),
            )
        })?),
    };
    let country = match text(f, "country") {
        None => None,
        Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(c.to_uppercase())
        }
        Some(c) => {
            return Err(err(
                "country",
                format!("`{c}` is not a two-letter country code (ISO 3166)"),
            ));
        }
    };
    let time_zone = match text(f, "time_zone") {
        None => None,
        Some(z) => match z.parse::<chrono_tz::Tz>() {
            Ok(tz) => Some(tz.name().to_string()),
            Err(_) => {
                return Err(err(
                    "time_zone",
                    format!("`{z}` is not an IANA time zone (Europe/Berlin)"),
                ));
            }
        },
    };
    let locale = match text(f, "locale") {
        None => None,
        Some(l) if crate::platform::http::valid_locale(&l) => Some(l),
        Some(l) => {
            return Err(err(
                "locale",
                format!("`{l}` is not a language tag (en, zh-CN)"),
            ));
        }
    };
    let birthday = match text(f, "birthday") {
        None => None,
        Some(b) => match chrono::NaiveDate::parse_from_str(&b, "%Y-%m-%d") {
            Ok(d) => Some(d.format("%Y-%m-%d").to_string()),
            Err(_) => return Err(err("birthday", format!("`{b}` is not a date (YYYY-MM-DD)"))),
        },
    };
    let attributes = match f.get("attributes") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::Object(o)) => Value::Object(o.clone()),
        Some(Value::String(s)) if s.trim().is_empty() => Value::Object(Map::new()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => v,
            _ => return Err(err("attributes", "must be a JSON object")),
        },
        Some(_) => return Err(err("attributes", "must be a JSON object")),
    };
    Ok(vec![
        Cell::Text(Some(id)),
        Cell::Text(email),
        Cell::Text(phone),
        Cell::Text(country),
        Cell::Text(time_zone),
        Cell::Text(locale),
        Cell::Text(birthday),
        Cell::Text(text(f, "tier")),
        Cell::Text(Some(json!(list(f, "tags")).to_string())),
        Cell::Int(time(f, "created_at")?),
        Cell::Text(Some(attributes.to_string())),
    ])
}

fn order(f: &Fields) -> Result<Vec<Cell>, RowError> {
    let id = key(f, "id")?;
    let customer = key(f, "customer_id")?;
    let placed = time(f, "placed_at")?.ok_or_else(|| err("placed_at", "is missing"))?;
    let currency = required(f, "currency")?.to_uppercase();
    if super::money::exponent(&currency).is_none() {
        return Err(err(
            "currency",
            format!("`{currency}` is not an ISO 4217 currency code"),
        ));
    }
    let total = parse_minor(&required(f, "total")?, &currency).map_err(|r| err("total", r))?;
    let mut items = Vec::new();
    let given: &[Value] = match f.get("items") {
        Some(Value::Array(a)) => a,
        Some(Value::Null) | None => &[],
        Some(_) => {
            return Err(err(
                "items",
                "must be a list of {sku, category, quantity, unit_price}",
            ));
        }
    };
    for (i, item) in given.iter().enumerate() {
        let Some(o) = item.as_object() else {
            return Err(err(&format!("items[{i}]"), "must be an object"));
        };
        let at = |k: &str| format!("items[{i}].{k}");
        let sku = text(o, "sku").ok_or_else(|| err(&at("sku"), "is missing"))?;
        let quantity: i64 = text(o, "quantity")
            .and_then(|q| q.parse().ok())
            .filter(|q| *q > 0)
            .ok_or_else(|| err(&at("quantity"), "must be a whole number above 0"))?;
        let price = parse_minor(
            &text(o, "unit_price").ok_or_else(|| err(&at("unit_price"), "is missing"))?,
            &currency,
        )
        .map_err(|r| err(&at("unit_price"), r))?;
        items.push(StoredItem {
            category: text(o, "category"),
            quantity,
            sku,
            unit_price_minor: price,
        });
    }
    let mut deliveries = Vec::new();
    let listed: Vec<String> = match f.get("deliveries") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect(),
        _ => list(f, "deliveries"),
    };
    for d in listed {
        deliveries
            .push(time_ms(&d).ok_or_else(|| err("deliveries", format!("`{d}` is not a time")))?);
    }
    deliveries.sort_unstable();
    let platform = text(f, "platform").map_or_else(|| "own-site".to_string(), |p| p.to_lowercase());
    let status = one_of(f, "status", &ORDER_STATUS)?.unwrap_or_else(|| "placed".into());
    Ok(vec![
        Cell::Text(Some(id)),
        Cell::Text(Some(customer)),
        Cell::Int(Some(placed)),
        Cell::Text(Some(currency)),
        Cell::Int(Some(total)),
        Cell::Text(Some(platform)),
        Cell::Text(Some(status)),
        Cell::Text(Some(to_json(&items))),
        Cell::Text(Some(to_json(&deliveries))),
    ])
}

/// An order line as stored (keys in alphabetical order, as the order's
/// JSON has always had them).
#[derive(serde::Serialize)]
struct StoredItem {
    category: Option<String>,
    quantity: i64,
    sku: String,
    unit_price_minor: i64,
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

fn event(f: &Fields) -> Result<Vec<Cell>, RowError> {
    let id = key(f, "id")?;
    let customer = key(f, "customer_id")?;
    let mut kinds: Vec<&str> = ENGAGEMENT.to_vec();
    kinds.extend(COMMERCE);
    let kind = one_of(f, "kind", &kinds)?.ok_or_else(|| err("kind", "is missing"))?;
    let channel = one_of(f, "channel", &CHANNELS)?;
    if ENGAGEMENT.contains(&kind.as_str()) && channel.is_none() {
        return Err(err(
            "channel",
            format!("a `{kind}` event needs its channel"),
        ));
    }
    let at = time(f, "at")?.ok_or_else(|| err("at", "is missing"))?;
    Ok(vec![
        Cell::Text(Some(id)),
        Cell::Text(Some(customer)),
        Cell::Text(Some(kind)),
        Cell::Text(channel),
        Cell::Text(text(f, "campaign_id")),
        Cell::Int(Some(at)),
        Cell::Text(text(f, "sku")),
    ])
}

fn consent(f: &Fields) -> Result<Vec<Cell>, RowError> {
    let customer = key(f, "customer_id")?;
    let channel = one_of(f, "channel", &CHANNELS)?.ok_or_else(|| err("channel", "is missing"))?;
    let status = one_of(f, "status", &["granted", "withdrawn"])?
        .ok_or_else(|| err("status", "is missing"))?;
    let at = time(f, "at")?.ok_or_else(|| err("at", "is missing"))?;
    // One change of one channel at one time: that is its identity.
    let key = format!("{customer}\u{1f}{channel}\u{1f}{at}");
    Ok(vec![
        Cell::Text(Some(key)),
        Cell::Text(Some(customer)),
        Cell::Text(Some(channel)),
        Cell::Text(Some(status)),
        Cell::Text(text(f, "source")),
        Cell::Int(Some(at)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: Value) -> Fields {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn contacts_are_normalised() {
        assert_eq!(
            normalise_email(" Ana@Shop.Example ").as_deref(),
            Some("ana@shop.example")
        );
        assert_eq!(normalise_email("ana@localhost"), None);
        assert_eq!(
            normalise_phone("+49 (151) 123-45678").as_deref(),
            Some("+4915112345678")
        );
        assert_eq!(
            normalise_phone("0049 151 12345678").as_deref(),
            Some("+4915112345678")
        );
        assert_eq!(normalise_phone("0151 12345678"), None, "no country code");
        assert_eq!(
            time_ms("2026-11-30 10:00:00 +0100"),
            time_ms("2026-11-30T09:00:00Z")
        );
        assert_eq!(time_ms("1970-01-02"), Some(86_400_000));
    }

    #[test]
    fn bad_fields_are_named() {
        let e = Entity::Orders
            .row(&fields(json!({"id": "o1", "customer_id": "c1", "placed_at": "2026-01-01", "currency": "EUR", "total": "12.345"})))
            .unwrap_err();
        assert_eq!(e.field, "total");
        let e = Entity::Customers
            .row(&fields(json!({"id": "c1", "time_zone": "Mars/Olympus"})))
            .unwrap_err();
        assert_eq!(e.field, "time_zone");
        let e = Entity::Events
            .row(&fields(
                json!({"id": "e1", "customer_id": "c1", "kind": "opened", "at": 1}),
            ))
            .unwrap_err();
        assert_eq!(e.field, "channel");
        let ok = Entity::Orders
            .row(&fields(json!({"id": "o1", "customer_id": "c1", "placed_at": "2026-01-01", "currency": "JPY", "total": "1500",
                "items": [{"sku": "A", "quantity": 2, "unit_price": "750"}], "deliveries": ["2026-01-05", "2026-01-03"]})))
            .unwrap();
        assert_eq!(ok[4], Cell::Int(Some(1500)));
        assert!(
            matches!(&ok[8], Cell::Text(Some(d)) if d == &json!([time_ms("2026-01-03"), time_ms("2026-01-05")]).to_string())
        );
    }
}
