//! The host's check of a customer's answers against the form the plugin
//! declared: the browser is never trusted, and the plugin only ever sees
//! answers of the kind it asked for.

use serde_json::{Map, Value};

use super::refused;
use crate::platform::http::ApiError;
use crate::platform::http::Code;

/// The answers to `form`'s fields as (field, value as text), in the
/// form's order; the first bad one is a 422 naming the field and why.
pub fn check(form: &Value, given: &Map<String, Value>) -> Result<Vec<(String, String)>, ApiError> {
    verify(form, given).map_err(|(code, field, message)| refused(code, &field, message))
}

/// A refused answer: (code, field, message).
type Refusal = (Code, String, String);

fn no(code: Code, field: &str, message: String) -> Refusal {
    (code, field.to_string(), message)
}

fn verify(form: &Value, given: &Map<String, Value>) -> Result<Vec<(String, String)>, Refusal> {
    let fields = form["fields"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if let Some(name) = given
        .keys()
        .find(|k| !fields.iter().any(|f| f["name"] == k.as_str()))
    {
        return Err(no(
            Code::UnknownField,
            name,
            format!("`{name}` is not a question of this form"),
        ));
    }
    let mut out = Vec::new();
    for f in fields {
        let name = f["name"].as_str().unwrap_or_default();
        let text = match given.get(name) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => {
                return Err(no(
                    Code::InvalidAnswer,
                    name,
                    format!("`{name}`: expected text or a number, got {other}"),
                ));
            }
        };
        if text.is_empty() {
            if f["required"] == true {
                return Err(no(
                    Code::MissingAnswer,
                    name,
                    format!("`{name}` needs an answer"),
                ));
            }
            continue;
        }
        kind_check(&f["kind"], &text)
            .map_err(|why| no(Code::InvalidAnswer, name, format!("`{name}`: {why}")))?;
        out.push((name.to_string(), text));
    }
    Ok(out)
}

/// Whether `text` is an answer of kind `kind` (as the WIT variant reads
/// in JSON: `{"choice": [...]}`, `{"number": {min, max}}`,
/// `{"date": {earliest, latest}}`, `{"text": max}`, `"photo"`).
fn kind_check(kind: &Value, text: &str) -> Result<(), String> {
    if let Some(choices) = kind.get("choice").and_then(Value::as_array) {
        return if choices.iter().any(|c| c["value"] == text) {
            Ok(())
        } else {
            Err(format!("`{text}` is not one of the choices offered"))
        };
    }
    if let Some(b) = kind.get("number") {
        let n: i64 = text
            .parse()
            .map_err(|_| format!("`{text}` is not a whole number"))?;
        let (min, max) = (
            b["min"].as_i64().unwrap_or(i64::MIN),
            b["max"].as_i64().unwrap_or(i64::MAX),
        );
        return if (min..=max).contains(&n) {
            Ok(())
        } else {
            Err(format!("must be from {min} to {max}"))
        };
    }
    if let Some(b) = kind.get("date") {
        let d = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("`{text}` is not a date like 2026-06-01"))?;
        let bound = |k: &str| {
            b[k].as_str()
                .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        };
        if let Some(e) = bound("earliest")
            && d < e
        {
            return Err(format!("must be on or after {e}"));
        }
        if let Some(l) = bound("latest")
            && d > l
        {
            return Err(format!("must be on or before {l}"));
        }
        return Ok(());
    }
    if let Some(max) = kind.get("text").and_then(Value::as_u64) {
        if text.chars().count() as u64 > max {
            return Err(format!("is longer than {max} characters"));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err("has control characters".into());
        }
        return Ok(());
    }
    if kind == "photo" {
        return if crate::platform::http::valid_id(text) {
            Ok(())
        } else {
            Err("is not a photo reference".into())
        };
    }
    Err("the form declares a kind of question the host does not know".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> Value {
        json!({"step": "s", "title": [], "fields": [
            {"name": "sku", "label": [], "kind": {"choice": [{"value": "A", "label": []}]}, "required": true},
            {"name": "quantity", "label": [], "kind": {"number": {"min": 1, "max": 2}}, "required": true},
            {"name": "delivered", "label": [], "kind": {"date": {"earliest": "2026-05-01", "latest": "2026-06-01"}}, "required": false},
            {"name": "comment", "label": [], "kind": {"text": 5}, "required": false},
            {"name": "photo", "label": [], "kind": "photo", "required": false},
        ]})
    }

    fn answers(v: Value) -> Result<Vec<(String, String)>, Refusal> {
        verify(&form(), v.as_object().unwrap())
    }

    #[test]
    fn good_answers_come_back_as_text_in_form_order() {
        let ok = answers(json!({"quantity": 2, "sku": " A ", "delivered": "2026-05-20"})).unwrap();
        assert_eq!(
            ok,
            [
                ("sku".to_string(), "A".to_string()),
                ("quantity".into(), "2".into()),
                ("delivered".into(), "2026-05-20".into())
            ]
        );
    }

    #[test]
    fn each_bad_answer_names_its_field() {
        for (body, field) in [
            (json!({"sku": "B", "quantity": 1}), "sku"),
            (json!({"sku": "A", "quantity": 3}), "quantity"),
            (json!({"sku": "A", "quantity": "1.5"}), "quantity"),
            (json!({"sku": "A"}), "quantity"),
            (
                json!({"sku": "A", "quantity": 1, "delivered": "2026-06-02"}),
                "delivered",
            ),
            (
                json!({"sku": "A", "quantity": 1, "delivered": "yesterday"}),
                "delivered",
            ),
            (
                json!({"sku": "A", "quantity": 1, "comment": "too long"}),
                "comment",
            ),
            (
                json!({"sku": "A", "quantity": 1, "photo": "../etc"}),
                "photo",
            ),
            (
                json!({"sku": "A", "quantity": 1, "tier": "platinum"}),
                "tier",
            ),
            (json!({"sku": ["A"], "quantity": 1}), "sku"),
        ] {
            let (_, named, why) = answers(body.clone()).unwrap_err();
            assert_eq!(named, field, "{body}: {why}");
            assert!(why.contains(field), "{why}");
        }
    }
}
