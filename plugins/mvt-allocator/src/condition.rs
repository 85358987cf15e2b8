//! GrowthBook's targeting conditions: a MongoDB-like JSON object over the
//! unit's attributes (`{"country": {"$in": ["DE", "AT"]}, "age": {"$gte":
//! 18}}`), evaluated the way GrowthBook's SDKs evaluate them, and checked
//! before an experiment is accepted so a typo is refused with where it is
//! instead of silently matching no one.
//!
//! One difference from GrowthBook, to keep the plugin within 256 KiB: the
//! case-insensitive operators (`$ini`, `$nini`, `$alli`, `$regexi`) fold
//! ASCII letters only (GrowthBook folds all of Unicode).

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::json::{self, Value};
use cove_sdk::allocator::Error;

/// A checked condition.
pub struct Condition(Vec<(String, Value)>);

/// Unknown: an operator this evaluator does not know (it never matches).
type Tri = Option<bool>;

const LOGICAL: [&str; 4] = ["$or", "$nor", "$and", "$savedGroup"];
const TYPES: [&str; 6] = ["string", "number", "boolean", "array", "object", "null"];

/// Parse and check the condition's JSON text.
pub fn parse(text: &str) -> Result<Condition, Error> {
    let value = json::parse(text)
        .map_err(|e| Error::InvalidInput(format!("condition: not valid JSON ({e})")))?;
    let Value::Obj(map) = value else {
        return Err(Error::InvalidInput(
            "condition: must be a JSON object, like {\"country\": \"DE\"}".into(),
        ));
    };
    check(&map, "").map_err(Error::InvalidInput)?;
    Ok(Condition(map))
}

/// Whether the attributes meet the condition.
pub fn eval(attributes: &Value, condition: &Condition) -> bool {
    eval_condition(attributes, &condition.0) == Some(true)
}

fn at(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn check(cond: &[(String, Value)], path: &str) -> Result<(), String> {
    for (key, value) in cond {
        let here = at(path, key);
        match key.as_str() {
            "$or" | "$nor" | "$and" => {
                let list = value
                    .as_array()
                    .ok_or_else(|| format!("condition: `{here}` must be a list of conditions"))?;
                for (i, c) in list.iter().enumerate() {
                    let c = c
                        .as_object()
                        .ok_or_else(|| format!("condition: `{here}[{i}]` must be an object"))?;
                    check(c, &format!("{here}[{i}]"))?;
                }
            }
            "$not" => check(
                value
                    .as_object()
                    .ok_or_else(|| format!("condition: `{here}` must be an object"))?,
                &here,
            )?,
            k if k.starts_with('$') => {
                return Err(format!(
                    "condition: unknown operator `{k}` at `{}` (saved groups are not supported)",
                    if path.is_empty() {
                        "the top level"
                    } else {
                        path
                    }
                ));
            }
            _ => check_value(value, &here)?,
        }
    }
    Ok(())
}

fn is_operator_object(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.iter().all(|(k, _)| k.starts_with('$')))
}

fn check_value(cv: &Value, path: &str) -> Result<(), String> {
    if !is_operator_object(cv) {
        return Ok(());
    }
    for (op, arg) in cv.as_object().unwrap_or(&[]) {
        let bad = |what: &str| Err(format!("condition: `{op}` at `{path}` {what}"));
        match op.as_str() {
            "$eq" | "$ne" | "$lt" | "$lte" | "$gt" | "$gte" | "$exists" => {}
            "$veq" | "$vne" | "$vlt" | "$vlte" | "$vgt" | "$vgte" => {
                if !matches!(arg, Value::Str(_) | Value::Num(_)) {
                    return bad("needs a version, like \"1.2.3\"");
                }
            }
            "$in" | "$nin" | "$ini" | "$nini" | "$all" | "$alli" => {
                if !matches!(arg, Value::Arr(_)) {
                    return bad("needs a list");
                }
            }
            "$regex" | "$regexi" | "$notRegex" | "$notRegexi" => match arg.as_str() {
                Some(p) => {
                    if let Err(e) = regex_lite::Regex::new(p) {
                        return bad(&format!("has a pattern that does not parse: {e}"));
                    }
                }
                None => return bad("needs a pattern (text)"),
            },
            "$type" => {
                if !arg.as_str().is_some_and(|t| TYPES.contains(&t)) {
                    return bad(&format!("needs one of {}", TYPES.join(", ")));
                }
            }
            "$size" => {
                if !(matches!(arg, Value::Num(_)) || is_operator_object(arg)) {
                    return bad("needs a number or a comparison like {\"$gt\": 2}");
                }
                check_value(arg, path)?;
            }
            "$not" => check_value(arg, path)?,
            "$elemMatch" => match arg.as_object() {
                Some(m)
                    if is_operator_object(arg)
                        && !m.iter().any(|(k, _)| LOGICAL.contains(&k.as_str())) =>
                {
                    check_value(arg, path)?
                }
                Some(m) => check(m, path)?,
                None => return bad("needs an object"),
            },
            _ => {
                return Err(format!("condition: unknown operator `{op}` at `{path}`"));
            }
        }
    }
    Ok(())
}

fn eval_condition(attrs: &Value, cond: &[(String, Value)]) -> Tri {
    let mut result = Some(true);
    for (key, value) in cond {
        let r = match key.as_str() {
            "$or" => eval_or(attrs, value),
            "$nor" => eval_or(attrs, value).map(|b| !b),
            "$and" => eval_and(attrs, value),
            "$not" => match value.as_object() {
                Some(c) => eval_condition(attrs, c).map(|b| !b),
                None => Some(false),
            },
            "$savedGroup" | "$savedGroups" => Some(false),
            _ => eval_value(value, &get_path(attrs, key), false),
        };
        match r {
            Some(false) => return Some(false),
            None => result = None,
            Some(true) => {}
        }
    }
    result
}

fn eval_or(attrs: &Value, list: &Value) -> Tri {
    let Some(list) = list.as_array() else {
        return Some(false);
    };
    if list.is_empty() {
        return Some(true);
    }
    let mut result = Some(false);
    for c in list {
        match c
            .as_object()
            .map_or(Some(false), |c| eval_condition(attrs, c))
        {
            Some(true) => return Some(true),
            None => result = None,
            Some(false) => {}
        }
    }
    result
}

fn eval_and(attrs: &Value, list: &Value) -> Tri {
    let Some(list) = list.as_array() else {
        return Some(false);
    };
    let mut result = Some(true);
    for c in list {
        match c
            .as_object()
            .map_or(Some(false), |c| eval_condition(attrs, c))
        {
            Some(false) => return Some(false),
            None => result = None,
            Some(true) => {}
        }
    }
    result
}

/// A dotted path into the attributes (`address.city`, `items.0`,
/// `items.length`); null when absent.
fn get_path<'a>(attrs: &'a Value, path: &str) -> Cow<'a, Value> {
    let mut current = attrs;
    let mut segments = path.split('.');
    while let Some(segment) = segments.next() {
        current = match current {
            Value::Obj(_) => match current.get(segment) {
                Some(v) => v,
                None => return Cow::Owned(Value::Null),
            },
            // `length` of a list; anything after it reads as absent.
            Value::Arr(a) if segment == "length" => {
                return Cow::Owned(match segments.next() {
                    None => Value::Num(a.len() as f64),
                    Some(_) => Value::Null,
                });
            }
            Value::Arr(a) => match index(segment, a.len()) {
                Some(i) => &a[i],
                None => return Cow::Owned(Value::Null),
            },
            _ => return Cow::Owned(Value::Null),
        };
    }
    Cow::Borrowed(current)
}

fn index(segment: &str, len: usize) -> Option<usize> {
    let canonical = !segment.is_empty()
        && segment.len() <= 10
        && segment.bytes().all(|b| b.is_ascii_digit())
        && (segment == "0" || !segment.starts_with('0'));
    canonical
        .then(|| segment.parse::<usize>().ok())
        .flatten()
        .filter(|i| *i < len)
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Num(_) => "number",
        Value::Str(_) => "string",
        Value::Arr(_) => "array",
        Value::Obj(_) => "object",
    }
}

fn eval_value(cv: &Value, av: &Value, insensitive: bool) -> Tri {
    if is_operator_object(cv) {
        let mut result = Some(true);
        for (op, arg) in cv.as_object().unwrap_or(&[]) {
            match eval_operator(op, av, arg) {
                Some(false) => return Some(false),
                None => result = None,
                Some(true) => {}
            }
        }
        return result;
    }
    if insensitive && let (Value::Str(a), Value::Str(b)) = (cv, av) {
        return Some(a.eq_ignore_ascii_case(b));
    }
    Some(deep_equal(cv, av))
}

fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Arr(x), Value::Arr(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| deep_equal(p, q))
        }
        // JavaScript compares objects by their JSON text: same keys, same order.
        (Value::Obj(x), Value::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k, v), (l, w))| k == l && deep_equal(v, w))
        }
        _ => a == b,
    }
}

/// JavaScript's `===` between two JSON values from separate parses:
/// containers are never identical.
fn strict_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Arr(_) | Value::Obj(_), _) => false,
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => Some(if x.is_ascii() && y.is_ascii() {
            x.cmp(y)
        } else {
            x.encode_utf16().cmp(y.encode_utf16())
        }),
        _ => None,
    }
}

/// A version made comparable as text: `v` and build metadata dropped,
/// numeric parts padded, and a release sorting after its pre-releases.
fn padded_version(v: &Value) -> String {
    let text = match v {
        Value::Num(n) => json::js_number(*n),
        Value::Str(s) if !s.is_empty() => s.clone(),
        _ => "0".into(),
    };
    let text = text.strip_prefix('v').unwrap_or(&text);
    let text = text.split_once('+').map_or(text, |(core, _)| core);
    let mut parts: Vec<&str> = text.split(['-', '.']).collect();
    if parts.len() == 3 {
        parts.push("~");
    }
    parts
        .iter()
        .map(|p| {
            if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                format!("{p:>5}")
            } else {
                p.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn fold(v: &Value) -> Value {
    match v {
        Value::Str(s) => Value::Str(s.to_ascii_lowercase()),
        other => other.clone(),
    }
}

fn is_in(list: &[Value], av: &Value, insensitive: bool) -> bool {
    let eq = |a: &Value, b: &Value| {
        if insensitive {
            strict_equal(&fold(a), &fold(b))
        } else {
            strict_equal(a, b)
        }
    };
    match av {
        Value::Arr(items) => items.iter().any(|v| list.iter().any(|e| eq(v, e))),
        Value::Obj(_) => false,
        _ => list.iter().any(|e| eq(av, e)),
    }
}

fn regex(pattern: &Value, insensitive: bool) -> Option<regex_lite::Regex> {
    regex_lite::RegexBuilder::new(pattern.as_str()?)
        .case_insensitive(insensitive)
        .build()
        .ok()
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Num(n) => *n != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::Arr(a) => !a.is_empty(),
        Value::Obj(m) => !m.is_empty(),
    }
}

fn eval_operator(op: &str, av: &Value, cv: &Value) -> Tri {
    let orderable = matches!(
        (av, cv),
        (Value::Num(_), Value::Num(_)) | (Value::Str(_), Value::Str(_))
    );
    Some(match op {
        "$eq" => strict_equal(av, cv),
        "$ne" => !strict_equal(av, cv),
        "$lt" | "$lte" | "$gt" | "$gte" => {
            let Some(ord) = orderable.then(|| compare(av, cv)).flatten() else {
                return Some(false);
            };
            match op {
                "$lt" => ord.is_lt(),
                "$lte" => ord.is_le(),
                "$gt" => ord.is_gt(),
                _ => ord.is_ge(),
            }
        }
        "$veq" | "$vne" | "$vlt" | "$vlte" | "$vgt" | "$vgte" => {
            if !orderable {
                return Some(op == "$vne");
            }
            let (a, e) = (padded_version(av), padded_version(cv));
            match op {
                "$veq" => a == e,
                "$vne" => a != e,
                "$vlt" => a < e,
                "$vlte" => a <= e,
                "$vgt" => a > e,
                _ => a >= e,
            }
        }
        "$regex" | "$regexi" => match (regex(cv, op == "$regexi"), av.as_str()) {
            (Some(r), Some(s)) => r.is_match(s),
            _ => false,
        },
        "$notRegex" | "$notRegexi" => match (regex(cv, op == "$notRegexi"), av.as_str()) {
            (Some(r), Some(s)) => !r.is_match(s),
            _ => true,
        },
        "$in" | "$nin" | "$ini" | "$nini" => {
            let Some(list) = cv.as_array() else {
                return Some(false);
            };
            let found = is_in(list, av, op.ends_with('i'));
            if op.starts_with("$n") { !found } else { found }
        }
        "$elemMatch" => return elem_match(cv, av),
        "$size" => match av {
            Value::Arr(a) => return eval_value(cv, &Value::Num(a.len() as f64), false),
            _ => false,
        },
        "$all" | "$alli" => match (cv.as_array(), av) {
            (Some(list), Value::Arr(items)) => {
                let mut result = Some(true);
                for c in list {
                    let mut passed = Some(false);
                    for item in items {
                        match eval_value(c, item, op == "$alli") {
                            Some(true) => {
                                passed = Some(true);
                                break;
                            }
                            None => passed = None,
                            Some(false) => {}
                        }
                    }
                    match passed {
                        Some(false) => return Some(false),
                        None => result = None,
                        Some(true) => {}
                    }
                }
                return result;
            }
            _ => false,
        },
        "$exists" => {
            if truthy(cv) {
                !av.is_null()
            } else {
                av.is_null()
            }
        }
        "$type" => cv.as_str() == Some(type_of(av)),
        "$not" => return eval_value(cv, av, false).map(|b| !b),
        "$inGroup" | "$notInGroup" => false,
        o if LOGICAL.contains(&o) => false,
        _ => return None,
    })
}

fn elem_match(cond: &Value, av: &Value) -> Tri {
    let Value::Arr(items) = av else {
        return Some(false);
    };
    let on_value = is_operator_object(cond)
        && !cond
            .as_object()
            .is_some_and(|m| m.iter().any(|(k, _)| LOGICAL.contains(&k.as_str())));
    let mut result = Some(false);
    for item in items.iter().filter(|i| !i.is_null()) {
        let r = if on_value {
            eval_value(cond, item, false)
        } else {
            match cond.as_object() {
                Some(c) => eval_condition(item, c),
                None => Some(false),
            }
        };
        match r {
            Some(true) => return Some(true),
            None => result = None,
            Some(false) => {}
        }
    }
    result
}
