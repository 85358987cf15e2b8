//! A CSV file's header: Cove's own column names, or Shopify's export
//! (`Email`, `Accepts Email Marketing`, `Lineitem sku`…) mapped onto them,
//! and an order's Shopify fields folded into Cove's shape.

use serde_json::{Map, Value, json};

use crate::customers::model::{Entity, Fields};

/// Shopify's column names → Cove's, per entity; other Shopify columns of a
/// customer go into its attributes.
pub(super) fn shopify_name(entity: Entity, column: &str) -> Option<&'static str> {
    Some(match (entity, column) {
        (Entity::Customers, "Customer ID") => "id",
        (Entity::Customers, "Email") => "email",
        (Entity::Customers, "Phone") => "phone",
        (Entity::Customers, "Default Address Country Code") => "country",
        (Entity::Customers, "Tags") => "tags",
        (Entity::Orders, "Id") => "id",
        (Entity::Orders, "Name") => "name",
        (Entity::Orders, "Email") => "customer_email",
        (Entity::Orders, "Created at") => "placed_at",
        (Entity::Orders, "Currency") => "currency",
        (Entity::Orders, "Total") => "total",
        (Entity::Orders, "Financial Status") => "financial_status",
        (Entity::Orders, "Fulfillment Status") => "fulfillment_status",
        (Entity::Orders, "Fulfilled at") => "deliveries",
        (Entity::Orders, "Source") => "platform",
        (Entity::Orders, "Lineitem sku") => "item_sku",
        (Entity::Orders, "Lineitem name") => "item_name",
        (Entity::Orders, "Lineitem quantity") => "item_quantity",
        (Entity::Orders, "Lineitem price") => "item_unit_price",
        _ => return None,
    })
}

/// How a CSV file's columns are read.
pub(super) struct Header {
    names: Vec<String>,
    /// Where the `id` and `name` columns are.
    pub(super) id_at: Option<usize>,
    pub(super) name_at: Option<usize>,
    /// Shopify's columns not mapped: into `attributes` (customers only).
    extra: Vec<bool>,
    /// Whether the columns are Shopify's.
    pub(super) shopify: bool,
}

impl Header {
    pub(super) fn new(entity: Entity, columns: Vec<String>) -> Header {
        // A file saved by a spreadsheet may start with a byte-order mark.
        let columns: Vec<String> = columns
            .into_iter()
            .map(|c| c.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        let shopify = columns.iter().any(|c| {
            matches!(
                (entity, c.as_str()),
                (Entity::Customers, "Customer ID") | (Entity::Orders, "Lineitem quantity")
            )
        });
        let mut names = Vec::new();
        let mut extra = Vec::new();
        for c in columns {
            match shopify.then(|| shopify_name(entity, &c)).flatten() {
                Some(n) => {
                    names.push(n.to_string());
                    extra.push(false);
                }
                None => {
                    extra.push(shopify && entity == Entity::Customers);
                    names.push(c);
                }
            }
        }
        Header {
            id_at: names.iter().position(|n| n == "id"),
            name_at: names.iter().position(|n| n == "name"),
            names,
            extra,
            shopify,
        }
    }

    pub(super) fn fields(&self, entity: Entity, values: Vec<String>) -> Fields {
        let mut f = Map::new();
        let mut attributes = Map::new();
        let mut item = Map::new();
        for ((name, extra), v) in self.names.iter().zip(&self.extra).zip(values) {
            let v = if v.trim().len() == v.len() {
                v
            } else {
                v.trim().to_string()
            };
            if v.is_empty() {
                continue;
            }
            if *extra {
                attributes.insert(name.clone(), Value::String(v));
            } else if let Some(k) = name.strip_prefix("item_") {
                item.insert(k.to_string(), Value::String(v));
            } else {
                f.insert(name.clone(), Value::String(v));
            }
        }
        if !attributes.is_empty() {
            f.insert("attributes".into(), Value::Object(attributes));
        }
        if entity == Entity::Orders {
            if self.shopify {
                shopify_order(&mut f);
            }
            let items = if item.is_empty() {
                vec![]
            } else {
                vec![Value::Object(item)]
            };
            f.insert("items".into(), Value::Array(items));
        }
        f
    }
}

/// Shopify's order fields in Cove's terms.
pub(super) fn shopify_order(f: &mut Fields) {
    if !f.contains_key("id")
        && let Some(n) = f.get("name").cloned()
    {
        f.insert("id".into(), n);
    }
    let financial = f
        .get("financial_status")
        .and_then(Value::as_str)
        .unwrap_or("");
    let fulfilment = f
        .get("fulfillment_status")
        .and_then(Value::as_str)
        .unwrap_or("");
    let status = match (financial, fulfilment) {
        ("refunded", _) => Some("refunded"),
        ("voided", _) => Some("cancelled"),
        (_, "fulfilled") => Some("fulfilled"),
        ("paid" | "partially_refunded", _) => Some("paid"),
        ("", "") => None,
        _ => Some("placed"),
    };
    if let Some(s) = status {
        f.insert("status".into(), json!(s));
    }
    if f.get("platform")
        .and_then(Value::as_str)
        .is_some_and(|p| p == "web" || p == "shopify_draft_order")
    {
        f.insert("platform".into(), json!("own-site"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopify_columns_map_onto_coves() {
        for (entity, column, cove) in [
            (Entity::Customers, "Customer ID", Some("id")),
            (Entity::Customers, "Email", Some("email")),
            (
                Entity::Customers,
                "Default Address Country Code",
                Some("country"),
            ),
            (Entity::Customers, "Accepts Email Marketing", None),
            (Entity::Orders, "Name", Some("name")),
            (Entity::Orders, "Email", Some("customer_email")),
            (Entity::Orders, "Lineitem quantity", Some("item_quantity")),
            (Entity::Orders, "Customer ID", None),
            (Entity::Events, "Email", None),
        ] {
            assert_eq!(shopify_name(entity, column), cove, "{entity:?} {column}");
        }
    }

    #[test]
    fn a_shopify_row_reads_as_coves_fields() {
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let vals = cols;
        // Customers: mapped columns by Cove's names, the rest as attributes.
        let h = Header::new(
            Entity::Customers,
            cols(&[
                "\u{feff}Customer ID",
                "Email",
                "Accepts Email Marketing",
                "Note",
            ]),
        );
        assert!(h.shopify);
        assert_eq!(h.id_at, Some(0));
        let f = h.fields(Entity::Customers, vals(&["7", " a@b.example ", "yes", ""]));
        assert_eq!(
            Value::Object(f),
            json!({"id": "7", "email": "a@b.example", "attributes": {"Accepts Email Marketing": "yes"}})
        );
        // Cove's own columns are read as they are.
        let h = Header::new(Entity::Customers, cols(&["id", "email", "Note"]));
        assert!(!h.shopify);
        let f = h.fields(Entity::Customers, vals(&["7", "a@b.example", "n"]));
        assert_eq!(
            Value::Object(f),
            json!({"id": "7", "email": "a@b.example", "Note": "n"})
        );
        // Orders: the name stands in for the id, statuses fold into one,
        // a line item becomes an item.
        let h = Header::new(
            Entity::Orders,
            cols(&[
                "Name",
                "Financial Status",
                "Fulfillment Status",
                "Lineitem sku",
                "Lineitem quantity",
            ]),
        );
        assert_eq!(h.name_at, Some(0));
        for (financial, fulfilment, status) in [
            ("paid", "fulfilled", Some("fulfilled")),
            ("paid", "", Some("paid")),
            ("refunded", "fulfilled", Some("refunded")),
            ("voided", "", Some("cancelled")),
            ("pending", "", Some("placed")),
            ("", "", None),
        ] {
            let f = h.fields(
                Entity::Orders,
                vals(&["#1001", financial, fulfilment, "S1", "2"]),
            );
            assert_eq!(f["id"], "#1001");
            assert_eq!(
                f.get("status").and_then(Value::as_str),
                status,
                "{financial} {fulfilment}"
            );
            assert_eq!(f["items"], json!([{"sku": "S1", "quantity": "2"}]));
        }
    }
}
