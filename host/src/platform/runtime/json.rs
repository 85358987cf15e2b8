//! JSON ↔ component values, guided by the WIT types, so one HTTP mapping
//! serves every slot and every later extension of a world. A record field
//! of `option` or `list` type may be left out (none, empty).
//!
//! The JSON shape follows the WIT text: record fields and enum cases keep
//! their kebab-case names, `option<T>` is `null` or `T`, a variant is
//! `"case"` (no payload) or `{"case": payload}`, `result<T, E>` is
//! `{"ok": T}` / `{"error": E}`, tuples are arrays, 64-bit integers are
//! JSON numbers.

use serde_json::{Map, Value, json};
use wasmtime::component::{Type, Val};

/// A WIT type with everything the JSON mapping needs, built once per
/// plugin version: walking it allocates nothing and touches no shared
/// reference counts, so concurrent calls do not contend on it.
#[derive(Clone, Debug)]
pub enum Shape {
    /// `bool`
    Bool,
    /// `s8`
    S8,
    /// `u8`
    U8,
    /// `s16`
    S16,
    /// `u16`
    U16,
    /// `s32`
    S32,
    /// `u32`
    U32,
    /// `s64`
    S64,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `char`
    Char,
    /// `string`
    String,
    /// `list<T>`
    List(Box<Shape>),
    /// `record`: field names and shapes, in order.
    Record(Vec<(String, Shape)>),
    /// `tuple<…>`
    Tuple(Vec<Shape>),
    /// `enum`: case names.
    Enum(Vec<String>),
    /// `variant`: case names and payload shapes.
    Variant(Vec<(String, Option<Shape>)>),
    /// `option<T>`
    Option(Box<Shape>),
    /// `result<T, E>`
    Result(Option<Box<Shape>>, Option<Box<Shape>>),
    /// `flags`: flag names.
    Flags(Vec<String>),
    /// Resources, streams and the like: not expressible in JSON.
    Unsupported,
}

impl Shape {
    /// Drop the fields of `value`'s records (at any depth) that this
    /// shape does not have: a host-built input, written for the newest
    /// contract, made fit for a plugin of an earlier one.
    pub fn prune(&self, value: &mut Value) {
        match (self, value) {
            (Shape::Record(fields), Value::Object(object)) => {
                object.retain(|k, _| fields.iter().any(|(n, _)| n == k));
                for (name, shape) in fields {
                    if let Some(v) = object.get_mut(name) {
                        shape.prune(v);
                    }
                }
            }
            (Shape::List(item), Value::Array(items)) => {
                items.iter_mut().for_each(|v| item.prune(v));
            }
            (Shape::Option(inner), v) => inner.prune(v),
            _ => {}
        }
    }

    /// The value of a list, string or flag a caller leaves out.
    fn empty(&self) -> Option<Val> {
        match self {
            Shape::List(_) => Some(Val::List(Vec::new())),
            Shape::String => Some(Val::String(String::new())),
            Shape::Bool => Some(Val::Bool(false)),
            _ => None,
        }
    }

    /// The shape of a component type.
    pub fn of(ty: &Type) -> Shape {
        let boxed = |t: &Type| Box::new(Shape::of(t));
        match ty {
            Type::Bool => Shape::Bool,
            Type::S8 => Shape::S8,
            Type::U8 => Shape::U8,
            Type::S16 => Shape::S16,
            Type::U16 => Shape::U16,
            Type::S32 => Shape::S32,
            Type::U32 => Shape::U32,
            Type::S64 => Shape::S64,
            Type::U64 => Shape::U64,
            Type::Float32 => Shape::F32,
            Type::Float64 => Shape::F64,
            Type::Char => Shape::Char,
            Type::String => Shape::String,
            Type::List(l) => Shape::List(boxed(&l.ty())),
            Type::Record(r) => Shape::Record(
                r.fields()
                    .map(|f| (f.name.to_string(), Shape::of(&f.ty)))
                    .collect(),
            ),
            Type::Tuple(t) => Shape::Tuple(t.types().map(|t| Shape::of(&t)).collect()),
            Type::Enum(e) => Shape::Enum(e.names().map(str::to_string).collect()),
            Type::Variant(v) => Shape::Variant(
                v.cases()
                    .map(|c| (c.name.to_string(), c.ty.as_ref().map(Shape::of)))
                    .collect(),
            ),
            Type::Option(o) => Shape::Option(boxed(&o.ty())),
            Type::Result(r) => {
                Shape::Result(r.ok().as_ref().map(boxed), r.err().as_ref().map(boxed))
            }
            Type::Flags(f) => Shape::Flags(f.names().map(str::to_string).collect()),
            _ => Shape::Unsupported,
        }
    }
}

/// Why a JSON value does not fit a shape, and where.
#[derive(Debug)]
pub struct InputError {
    /// Path segments, innermost first (built only on the error path).
    path: Vec<String>,
    /// What is wrong.
    problem: String,
    /// Whether `problem` reads on from the path ("… is missing").
    inline: bool,
}

impl InputError {
    fn new(problem: String) -> Self {
        InputError {
            path: Vec::new(),
            problem,
            inline: false,
        }
    }

    fn missing() -> Self {
        InputError {
            path: Vec::new(),
            problem: "is missing".into(),
            inline: true,
        }
    }

    /// Prefix the path with `segment` (callers one level up name the parameter).
    pub fn at(mut self, segment: impl Into<String>) -> Self {
        self.path.push(segment.into());
        self
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut path = String::new();
        for segment in self.path.iter().rev() {
            if !path.is_empty() && !segment.starts_with('[') {
                path.push('.');
            }
            path.push_str(segment);
        }
        if self.inline {
            write!(f, "`{path}` {}", self.problem)
        } else {
            write!(f, "`{path}`: {}", self.problem)
        }
    }
}

/// Convert `value` to a component value of shape `shape`. The error names
/// the path to the offending field and what was expected, in plain words.
pub fn to_val(shape: &Shape, value: &Value) -> Result<Val, InputError> {
    let expected = |what: &str| {
        Err(InputError::new(format!(
            "expected {what}, got {}",
            describe(value)
        )))
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
    match shape {
        Shape::Bool => value
            .as_bool()
            .map(Val::Bool)
            .map_or_else(|| expected("true or false"), Ok),
        Shape::S8 => int!(S8, i8),
        Shape::U8 => int!(U8, u8),
        Shape::S16 => int!(S16, i16),
        Shape::U16 => int!(U16, u16),
        Shape::S32 => int!(S32, i32),
        Shape::U32 => int!(U32, u32),
        Shape::S64 => int!(S64, i64),
        Shape::U64 => int!(U64, u64),
        Shape::F32 => value
            .as_f64()
            .map(|f| Val::Float32(f as f32))
            .map_or_else(|| expected("a number"), Ok),
        Shape::F64 => value
            .as_f64()
            .map(Val::Float64)
            .map_or_else(|| expected("a number"), Ok),
        Shape::Char => match value.as_str().map(|s| {
            let mut chars = s.chars();
            (chars.next(), chars.next())
        }) {
            Some((Some(c), None)) => Ok(Val::Char(c)),
            _ => expected("a single character"),
        },
        Shape::String => value
            .as_str()
            .map(|s| Val::String(s.to_string()))
            .map_or_else(|| expected("text"), Ok),
        Shape::List(elem) => {
            let Some(items) = value.as_array() else {
                return expected("a list");
            };
            items
                .iter()
                .enumerate()
                .map(|(i, v)| to_val(elem, v).map_err(|e| e.at(format!("[{i}]"))))
                .collect::<Result<_, _>>()
                .map(Val::List)
        }
        Shape::Record(fields) => {
            let Some(object) = value.as_object() else {
                return expected("an object");
            };
            let mut out = Vec::with_capacity(fields.len());
            let mut present = 0;
            for (name, field) in fields {
                let v = match object.get(name) {
                    Some(v) => {
                        present += 1;
                        v
                    }
                    // A list, string or flag a caller leaves out is empty
                    // (or false): such fields added to a record by a later
                    // contract version do not break callers written for
                    // the earlier one.
                    None => match field.empty() {
                        Some(v) => {
                            out.push((name.clone(), v));
                            continue;
                        }
                        None => &Value::Null,
                    },
                };
                if v.is_null() && !matches!(field, Shape::Option(_)) {
                    return Err(InputError::missing().at(name.clone()));
                }
                out.push((
                    name.clone(),
                    to_val(field, v).map_err(|e| e.at(name.clone()))?,
                ));
            }
            if object.len() > present {
                let unknown = object.keys().find(|k| !fields.iter().any(|(n, _)| n == *k));
                let known: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                return Err(InputError {
                    path: vec![unknown.cloned().unwrap_or_default()],
                    problem: format!("is not a known field (known: {})", known.join(", ")),
                    inline: true,
                });
            }
            Ok(Val::Record(out))
        }
        Shape::Tuple(shapes) => match value.as_array() {
            Some(items) if items.len() == shapes.len() => shapes
                .iter()
                .zip(items)
                .enumerate()
                .map(|(i, (t, v))| to_val(t, v).map_err(|e| e.at(format!("[{i}]"))))
                .collect::<Result<_, _>>()
                .map(Val::Tuple),
            _ => expected(&format!("a list of {} items", shapes.len())),
        },
        Shape::Enum(names) => match value.as_str() {
            Some(s) if names.iter().any(|n| n == s) => Ok(Val::Enum(s.to_string())),
            _ => expected(&format!("one of {}", names.join(", "))),
        },
        Shape::Variant(cases) => {
            let (case_name, payload) = match value {
                Value::String(s) => (s.as_str(), None),
                Value::Object(o) if o.len() == 1 => {
                    let (k, v) = o.iter().next().expect("one entry");
                    (k.as_str(), Some(v))
                }
                _ => return expected("a variant: \"case\" or {\"case\": value}"),
            };
            let Some((_, case)) = cases.iter().find(|(n, _)| n == case_name) else {
                let names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
                return Err(InputError::new(format!(
                    "unknown case `{case_name}`, expected one of {}",
                    names.join(", ")
                )));
            };
            let payload = match (case, payload) {
                (None, None | Some(Value::Null)) => None,
                (Some(t), Some(v)) => Some(Box::new(to_val(t, v).map_err(|e| e.at(case_name))?)),
                (None, Some(_)) => {
                    return Err(InputError::new("takes no value".into()).at(case_name));
                }
                (Some(_), None) => {
                    return Err(InputError::new("needs a value".into()).at(case_name));
                }
            };
            Ok(Val::Variant(case_name.to_string(), payload))
        }
        Shape::Option(inner) => match value {
            Value::Null => Ok(Val::Option(None)),
            v => Ok(Val::Option(Some(Box::new(to_val(inner, v)?)))),
        },
        Shape::Result(ok, err) => {
            let arm = |key: &str, t: &Option<Box<Shape>>| -> Result<Option<Box<Val>>, InputError> {
                match (t, value.get(key)) {
                    (Some(t), Some(v)) => Ok(Some(Box::new(to_val(t, v).map_err(|e| e.at(key))?))),
                    (None, _) => Ok(None),
                    (Some(_), None) => Err(InputError::missing().at(key)),
                }
            };
            if value.get("ok").is_some() || value.as_str() == Some("ok") {
                Ok(Val::Result(Ok(arm("ok", ok)?)))
            } else if value.get("error").is_some() || value.as_str() == Some("error") {
                Ok(Val::Result(Err(arm("error", err)?)))
            } else {
                expected("{\"ok\": …} or {\"error\": …}")
            }
        }
        Shape::Flags(names) => {
            let Some(items) = value.as_array() else {
                return expected("a list of flags");
            };
            items
                .iter()
                .map(|v| match v.as_str() {
                    Some(s) if names.iter().any(|n| n == s) => Ok(s.to_string()),
                    _ => Err(InputError::new(format!(
                        "unknown flag {v}, expected any of {}",
                        names.join(", ")
                    ))),
                })
                .collect::<Result<_, _>>()
                .map(Val::Flags)
        }
        Shape::Unsupported => Err(InputError::new("this type cannot be given as JSON".into())),
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

/// The parameters of a call straight from the JSON body (an object keyed
/// by parameter name), without building a JSON tree first. `None` when the
/// body does not fit in any way: the caller then takes the tree path
/// ([`to_val`]), whose errors name the field. Gives what the tree path
/// gives, and leaves `result` values, repeated keys and keys with escapes
/// to it.
pub fn params_from_slice(params: &[(String, Shape)], body: &[u8]) -> Option<Vec<Val>> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let vals = serde::de::DeserializeSeed::deserialize(Params(params), &mut de).ok()?;
    de.end().ok()?;
    Some(vals)
}

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Seed for the top-level object of parameters.
struct Params<'a>(&'a [(String, Shape)]);

impl<'de> DeserializeSeed<'de> for Params<'_> {
    type Value = Vec<Val>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Val>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Params<'_> {
    type Value = Vec<Val>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object of parameters")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Val>, A::Error> {
        let mut out: Vec<Option<Val>> = vec![None; self.0.len()];
        while let Some(key) = map.next_key::<&'de str>()? {
            let i = self
                .0
                .iter()
                .position(|(n, _)| *n == key)
                .ok_or_else(|| de::Error::custom("unknown parameter"))?;
            if out[i].is_some() {
                return Err(de::Error::custom("repeated parameter"));
            }
            out[i] = Some(map.next_value_seed(Seed(&self.0[i].1))?);
        }
        out.into_iter()
            .map(|v| v.ok_or_else(|| de::Error::custom("missing parameter")))
            .collect()
    }
}

/// Seed for one value of a known shape.
struct Seed<'a>(&'a Shape);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Val;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        match self.0 {
            Shape::Option(_) => d.deserialize_option(self),
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Val;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a value of shape {:?}", self.0)
    }
    fn visit_none<E: de::Error>(self) -> Result<Val, E> {
        match self.0 {
            Shape::Option(_) => Ok(Val::Option(None)),
            _ => Err(E::custom("null")),
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Val, E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        match self.0 {
            Shape::Option(inner) => Ok(Val::Option(Some(Box::new(Seed(inner).deserialize(d)?)))),
            _ => Err(de::Error::custom("unexpected value")),
        }
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Val, E> {
        match self.0 {
            Shape::Bool => Ok(Val::Bool(v)),
            _ => Err(E::custom("bool")),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val, E> {
        int(self.0, i128::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val, E> {
        int(self.0, i128::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Val, E> {
        match self.0 {
            Shape::F32 => Ok(Val::Float32(v as f32)),
            Shape::F64 => Ok(Val::Float64(v)),
            _ => Err(E::custom("number")),
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Val, E> {
        match self.0 {
            Shape::String => Ok(Val::String(v.to_string())),
            Shape::Char => {
                let mut chars = v.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Ok(Val::Char(c)),
                    _ => Err(E::custom("char")),
                }
            }
            Shape::Enum(names) if names.iter().any(|n| n == v) => Ok(Val::Enum(v.to_string())),
            Shape::Variant(cases) if cases.iter().any(|(n, t)| n == v && t.is_none()) => {
                Ok(Val::Variant(v.to_string(), None))
            }
            _ => Err(E::custom("string")),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val, A::Error> {
        match self.0 {
            Shape::List(elem) => {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(v) = seq.next_element_seed(Seed(elem))? {
                    out.push(v);
                }
                Ok(Val::List(out))
            }
            Shape::Tuple(shapes) => {
                let mut out = Vec::with_capacity(shapes.len());
                for t in shapes {
                    out.push(
                        seq.next_element_seed(Seed(t))?
                            .ok_or_else(|| de::Error::custom("short tuple"))?,
                    );
                }
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom("long tuple"));
                }
                Ok(Val::Tuple(out))
            }
            Shape::Flags(names) => {
                let mut out = Vec::new();
                while let Some(flag) = seq.next_element::<&'de str>()? {
                    if !names.iter().any(|n| *n == flag) {
                        return Err(de::Error::custom("flag"));
                    }
                    out.push(flag.to_string());
                }
                Ok(Val::Flags(out))
            }
            _ => Err(de::Error::custom("list")),
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val, A::Error> {
        match self.0 {
            Shape::Record(fields) => {
                let mut out: Vec<Option<Val>> = vec![None; fields.len()];
                while let Some(key) = map.next_key::<&'de str>()? {
                    let i = fields
                        .iter()
                        .position(|(n, _)| *n == key)
                        .ok_or_else(|| de::Error::custom("unknown field"))?;
                    if out[i].is_some() {
                        return Err(de::Error::custom("repeated field"));
                    }
                    out[i] = Some(map.next_value_seed(Seed(&fields[i].1))?);
                }
                fields
                    .iter()
                    .zip(out)
                    .map(|((name, shape), v)| {
                        let v = match (v, shape) {
                            (Some(v), _) => v,
                            (None, Shape::Option(_)) => Val::Option(None),
                            (None, shape) => shape
                                .empty()
                                .ok_or_else(|| de::Error::custom("missing field"))?,
                        };
                        Ok((name.clone(), v))
                    })
                    .collect::<Result<_, _>>()
                    .map(Val::Record)
            }
            Shape::Variant(cases) => {
                let key = map
                    .next_key::<std::borrow::Cow<'de, str>>()?
                    .ok_or_else(|| de::Error::custom("empty variant"))?;
                let (name, payload) = cases
                    .iter()
                    .find(|(n, _)| *n == key)
                    .ok_or_else(|| de::Error::custom("unknown case"))?;
                let payload = match payload {
                    Some(t) => Some(Box::new(map.next_value_seed(Seed(t))?)),
                    None => {
                        // `{"case": null}` is the case without a value.
                        map.next_value::<()>()?;
                        None
                    }
                };
                if map.next_key::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom("several cases"));
                }
                Ok(Val::Variant(name.clone(), payload))
            }
            _ => Err(de::Error::custom("object")),
        }
    }
}

/// A whole JSON number as the integer (or float) shape wants it.
fn int<E: de::Error>(shape: &Shape, n: i128) -> Result<Val, E> {
    let fit = |ok: Option<Val>| ok.ok_or_else(|| E::custom("out of range"));
    match shape {
        Shape::S8 => fit(i8::try_from(n).ok().map(Val::S8)),
        Shape::U8 => fit(u8::try_from(n).ok().map(Val::U8)),
        Shape::S16 => fit(i16::try_from(n).ok().map(Val::S16)),
        Shape::U16 => fit(u16::try_from(n).ok().map(Val::U16)),
        Shape::S32 => fit(i32::try_from(n).ok().map(Val::S32)),
        Shape::U32 => fit(u32::try_from(n).ok().map(Val::U32)),
        Shape::S64 => fit(i64::try_from(n).ok().map(Val::S64)),
        Shape::U64 => fit(u64::try_from(n).ok().map(Val::U64)),
        Shape::F32 => Ok(Val::Float32(n as f32)),
        Shape::F64 => Ok(Val::Float64(n as f64)),
        _ => Err(E::custom("integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes() -> Vec<(String, Shape)> {
        let record = Shape::Record(vec![
            ("id".into(), Shape::String),
            ("n".into(), Shape::S32),
            ("big".into(), Shape::U64),
            ("x".into(), Shape::F64),
            ("c".into(), Shape::Char),
            ("maybe".into(), Shape::Option(Box::new(Shape::S64))),
            ("tags".into(), Shape::List(Box::new(Shape::String))),
            ("kind".into(), Shape::Enum(vec!["a".into(), "b".into()])),
            (
                "v".into(),
                Shape::Variant(vec![
                    ("none".into(), None),
                    ("some".into(), Some(Shape::U8)),
                ]),
            ),
            ("pair".into(), Shape::Tuple(vec![Shape::Bool, Shape::S8])),
            ("flags".into(), Shape::Flags(vec!["p".into(), "q".into()])),
        ]);
        vec![("request".into(), record), ("at".into(), Shape::S64)]
    }

    fn tree(params: &[(String, Shape)], body: &str) -> Option<Vec<Val>> {
        let v: Value = serde_json::from_str(body).ok()?;
        params
            .iter()
            .map(|(n, t)| to_val(t, v.get(n)?).ok())
            .collect()
    }

    #[test]
    fn the_fast_path_gives_what_the_tree_path_gives() {
        let params = shapes();
        let full = r#"{"at": -5, "request": {"id": "c\u00e9", "n": -3, "big": 18446744073709551615,
            "x": 1, "c": "é", "maybe": 7, "tags": ["a", "b"], "kind": "b", "v": {"some": 4},
            "pair": [true, -1], "flags": ["q"]}}"#;
        let sparse = r#"{"request": {"id": "", "n": 0, "big": 0, "x": 0.5, "c": "x", "kind": "a",
            "v": "none", "pair": [false, 0], "flags": []}, "at": 0}"#;
        let null_case = r#"{"request": {"id": "", "n": 0, "big": 0, "x": 0.5, "c": "x", "kind": "a",
            "v": {"none": null}, "maybe": null, "pair": [false, 0], "flags": []}, "at": 0}"#;
        // A string (and a list, option) left out: empty, on both paths.
        let omitted = r#"{"request": {"n": 0, "big": 0, "x": 0.5, "c": "x", "kind": "a",
            "v": "none", "pair": [false, 0], "flags": []}, "at": 0}"#;
        for body in [full, sparse, null_case, omitted] {
            let fast = params_from_slice(&params, body.as_bytes());
            assert!(fast.is_some(), "{body}");
            assert_eq!(fast, tree(&params, body), "{body}");
        }
        let Some(Val::Record(fields)) = tree(&params, omitted).and_then(|p| p.into_iter().next())
        else {
            panic!("a record");
        };
        assert_eq!(fields[0], ("id".to_string(), Val::String(String::new())));
    }

    #[test]
    fn pruning_leaves_out_what_the_shape_lacks_at_any_depth() {
        let shape = Shape::Record(vec![
            ("id".into(), Shape::String),
            (
                "history".into(),
                Shape::List(Box::new(Shape::Record(vec![("at".into(), Shape::S64)]))),
            ),
        ]);
        let mut v = json!({"id": "c1", "tags": ["new"], "history": [{"at": 1, "engaged": true}]});
        shape.prune(&mut v);
        assert_eq!(v, json!({"id": "c1", "history": [{"at": 1}]}));
    }

    #[test]
    fn input_the_tree_path_refuses_is_left_to_it() {
        let params = shapes();
        for body in [
            r#"{"at": 1}"#,
            r#"{"at": 1.5, "request": {}}"#,
            r#"{"at": 1, "extra": 2, "request": {}}"#,
            r#"[1]"#,
            r#"{"at": 1, "request": {"id": "", "n": 99999999999, "big": 0, "x": 0, "c": "x", "kind": "a", "v": "none", "pair": [false, 0], "flags": []}}"#,
            r#"{"at": 1, "request": {"id": null, "n": 0, "big": 0, "x": 0, "c": "x", "kind": "a", "v": "none", "pair": [false, 0], "flags": []}}"#,
            r#"{"at": 1, "request": {"id": "", "n": 0, "big": 0, "x": 0, "c": "xy", "kind": "a", "v": "none", "pair": [false, 0], "flags": []}}"#,
            r#"{"at": 1, "request": {"id": "", "n": 0, "big": 0, "x": 0, "c": "x", "kind": "z", "v": "none", "pair": [false, 0], "flags": []}}"#,
            r#"{"at": 1, "request": {"id": "", "n": 0, "big": 0, "x": 0, "c": "x", "kind": "a", "v": "some", "pair": [false, 0], "flags": []}}"#,
            r#"{"at": 1, "request": {"id": "", "n": 0, "big": 0, "x": 0, "c": "x", "kind": "a", "v": "none", "pair": [false], "flags": []}}"#,
            r#"{"at": 1, "request": {"id": "", "n": 0, "big": 0, "x": 0, "c": "x", "kind": "a", "v": "none", "pair": [false, 0], "flags": ["r"]}}"#,
            r#"{"at": 1} trailing"#,
        ] {
            assert_eq!(params_from_slice(&params, body.as_bytes()), None, "{body}");
            assert_eq!(tree(&params, body), None, "{body}");
        }
    }
}
