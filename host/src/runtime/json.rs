//! JSON ↔ component values, guided by the WIT types, so one HTTP mapping
//! serves every slot and every later extension of a world.
//!
//! The JSON shape follows the WIT text: record fields and enum cases keep
//! their kebab-case names, `option<T>` is `null` or `T`, a variant is
//! `"case"` (no payload) or `{"case": payload}`, `result<T, E>` is
//! `{"ok": T}` / `{"error": E}`, tuples are arrays, 64-bit integers are
//! JSON numbers.

use serde_json::{Map, Value, json};
use wasmtime::component::{Type, Val};

/// Convert `value` to a component value of type `ty`. The error names the
/// path to the offending field and what was expected, in plain words.
pub fn to_val(ty: &Type, value: &Value, path: &str) -> Result<Val, String> {
    let expected = |what: &str| {
        Err(format!(
            "`{path}`: expected {what}, got {}",
            describe(value)
        ))
    };
    macro_rules! int {
        ($variant:ident, $t:ty) => {{
            let n = value
                .as_i64()
                .map(i128::from)
                .or_else(|| value.as_u64().map(i128::from));
            match n.and_then(|n| <$t>::try_from(n).ok()) {
                Some(n) => Ok(Val::$variant(n)),
                None => expected(concat!("a whole number that fits ", stringify!($t))),
            }
        }};
    }
    match ty {
        Type::Bool => value
            .as_bool()
            .map(Val::Bool)
            .map_or_else(|| expected("true or false"), Ok),
        Type::S8 => int!(S8, i8),
        Type::U8 => int!(U8, u8),
        Type::S16 => int!(S16, i16),
        Type::U16 => int!(U16, u16),
        Type::S32 => int!(S32, i32),
        Type::U32 => int!(U32, u32),
        Type::S64 => int!(S64, i64),
        Type::U64 => int!(U64, u64),
        Type::Float32 => value
            .as_f64()
            .map(|f| Val::Float32(f as f32))
            .map_or_else(|| expected("a number"), Ok),
        Type::Float64 => value
            .as_f64()
            .map(Val::Float64)
            .map_or_else(|| expected("a number"), Ok),
        Type::Char => match value.as_str().map(|s| {
            let mut chars = s.chars();
            (chars.next(), chars.next())
        }) {
            Some((Some(c), None)) => Ok(Val::Char(c)),
            _ => expected("a single character"),
        },
        Type::String => value
            .as_str()
            .map(|s| Val::String(s.to_string()))
            .map_or_else(|| expected("text"), Ok),
        Type::List(list) => {
            let Some(items) = value.as_array() else {
                return expected("a list");
            };
            let elem = list.ty();
            items
                .iter()
                .enumerate()
                .map(|(i, v)| to_val(&elem, v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()
                .map(Val::List)
        }
        Type::Record(record) => {
            let Some(object) = value.as_object() else {
                return expected("an object");
            };
            let mut fields = Vec::new();
            for field in record.fields() {
                let sub = format!("{path}.{}", field.name);
                let v = object.get(field.name).unwrap_or(&Value::Null);
                if v.is_null() && !matches!(field.ty, Type::Option(_)) {
                    return Err(format!("`{sub}` is missing"));
                }
                fields.push((field.name.to_string(), to_val(&field.ty, v, &sub)?));
            }
            if let Some(unknown) = object
                .keys()
                .find(|k| !record.fields().any(|f| f.name == k.as_str()))
            {
                return Err(format!("`{path}.{unknown}` is not a known field"));
            }
            Ok(Val::Record(fields))
        }
        Type::Tuple(tuple) => {
            let types: Vec<Type> = tuple.types().collect();
            match value.as_array() {
                Some(items) if items.len() == types.len() => types
                    .iter()
                    .zip(items)
                    .enumerate()
                    .map(|(i, (t, v))| to_val(t, v, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()
                    .map(Val::Tuple),
                _ => expected(&format!("a list of {} items", types.len())),
            }
        }
        Type::Enum(en) => {
            let names: Vec<&str> = en.names().collect();
            match value.as_str() {
                Some(s) if names.contains(&s) => Ok(Val::Enum(s.to_string())),
                _ => expected(&format!("one of {}", names.join(", "))),
            }
        }
        Type::Variant(variant) => {
            let (case_name, payload) = match value {
                Value::String(s) => (s.as_str(), None),
                Value::Object(o) if o.len() == 1 => {
                    let (k, v) = o.iter().next().expect("one entry");
                    (k.as_str(), Some(v))
                }
                _ => return expected("a variant: \"case\" or {\"case\": value}"),
            };
            let Some(case) = variant.cases().find(|c| c.name == case_name) else {
                let names: Vec<&str> = variant.cases().map(|c| c.name).collect();
                return Err(format!(
                    "`{path}`: unknown case `{case_name}`, expected one of {}",
                    names.join(", ")
                ));
            };
            let payload = match (case.ty, payload) {
                (None, None) => None,
                (None, Some(Value::Null)) => None,
                (Some(t), Some(v)) => {
                    Some(Box::new(to_val(&t, v, &format!("{path}.{case_name}"))?))
                }
                (None, Some(_)) => return Err(format!("`{path}.{case_name}` takes no value")),
                (Some(_), None) => return Err(format!("`{path}.{case_name}` needs a value")),
            };
            Ok(Val::Variant(case_name.to_string(), payload))
        }
        Type::Option(option) => match value {
            Value::Null => Ok(Val::Option(None)),
            v => Ok(Val::Option(Some(Box::new(to_val(&option.ty(), v, path)?)))),
        },
        Type::Result(result) => {
            let arm = |key: &str, t: Option<Type>| -> Result<Option<Box<Val>>, String> {
                match (t, value.get(key)) {
                    (Some(t), Some(v)) => {
                        Ok(Some(Box::new(to_val(&t, v, &format!("{path}.{key}"))?)))
                    }
                    (None, _) => Ok(None),
                    (Some(_), None) => Err(format!("`{path}.{key}` is missing")),
                }
            };
            if value.get("ok").is_some() || value.as_str() == Some("ok") {
                Ok(Val::Result(Ok(arm("ok", result.ok())?)))
            } else if value.get("error").is_some() || value.as_str() == Some("error") {
                Ok(Val::Result(Err(arm("error", result.err())?)))
            } else {
                expected("{\"ok\": …} or {\"error\": …}")
            }
        }
        Type::Flags(flags) => {
            let names: Vec<&str> = flags.names().collect();
            let Some(items) = value.as_array() else {
                return expected("a list of flags");
            };
            items
                .iter()
                .map(|v| match v.as_str() {
                    Some(s) if names.contains(&s) => Ok(s.to_string()),
                    _ => Err(format!(
                        "`{path}`: unknown flag {v}, expected any of {}",
                        names.join(", ")
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Val::Flags)
        }
        _ => Err(format!("`{path}`: this type cannot be given as JSON")),
    }
}

/// Convert a component value to JSON (see the module docs for the shape).
pub fn from_val(val: &Val) -> Value {
    match val {
        Val::Bool(b) => json!(b),
        Val::S8(n) => json!(n),
        Val::U8(n) => json!(n),
        Val::S16(n) => json!(n),
        Val::U16(n) => json!(n),
        Val::S32(n) => json!(n),
        Val::U32(n) => json!(n),
        Val::S64(n) => json!(n),
        Val::U64(n) => json!(n),
        Val::Float32(f) => json!(f),
        Val::Float64(f) => json!(f),
        Val::Char(c) => json!(c.to_string()),
        Val::String(s) => json!(s),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Value::Array(items.iter().map(from_val).collect())
        }
        Val::Record(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), from_val(v)))
                .collect::<Map<_, _>>(),
        ),
        Val::Enum(name) => json!(name),
        Val::Variant(name, None) => json!(name),
        Val::Variant(name, Some(payload)) => json!({ name: from_val(payload) }),
        Val::Option(None) => Value::Null,
        Val::Option(Some(v)) => from_val(v),
        Val::Result(Ok(v)) => json!({ "ok": v.as_deref().map_or(Value::Null, from_val) }),
        Val::Result(Err(v)) => json!({ "error": v.as_deref().map_or(Value::Null, from_val) }),
        Val::Flags(names) => json!(names),
        Val::Map(pairs) => Value::Array(
            pairs
                .iter()
                .map(|(k, v)| json!([from_val(k), from_val(v)]))
                .collect(),
        ),
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => Value::Null,
    }
}

/// Approximate size of a value in bytes (text and list lengths plus eight
/// per scalar): what the output ceiling is checked against, without
/// serializing.
pub fn val_size(val: &Val) -> usize {
    match val {
        Val::String(s) => s.len() + 2,
        Val::Enum(s) => s.len() + 2,
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            2 + items.iter().map(val_size).sum::<usize>()
        }
        Val::Record(fields) => {
            2 + fields
                .iter()
                .map(|(k, v)| k.len() + 3 + val_size(v))
                .sum::<usize>()
        }
        Val::Variant(name, payload) => name.len() + 4 + payload.as_deref().map_or(0, val_size),
        Val::Option(v) => v.as_deref().map_or(4, val_size),
        Val::Result(Ok(v) | Err(v)) => 8 + v.as_deref().map_or(0, val_size),
        Val::Flags(names) => names.iter().map(|n| n.len() + 3).sum(),
        Val::Map(pairs) => pairs.iter().map(|(k, v)| val_size(k) + val_size(v)).sum(),
        _ => 8,
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.len() > 40 => {
            format!("text \"{}…\"", &s[..s.floor_char_boundary(40)])
        }
        Value::String(s) => format!("text \"{s}\""),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}
