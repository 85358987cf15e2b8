//! Micro-segment rules: a small expression language the merchant writes
//! over a customer's summary and predictions.
//!
//! ```text
//! top(clv, 10) and days_since_order > 60          -- top 10% by CLV, no order in 60 days
//! days_since_cart <= 1 and days_since_cart < days_since_order
//! days_to_birthday <= 7
//! spent > 1000 and campaigns == 0
//! has_tag("vip") or (orders >= 5 and p_alive < 0.5)
//! ```
//!
//! Numbers, `"text"`, `true`/`false`; `+ - * /`; `< <= > >= == !=`; `and`,
//! `or`, `not`, parentheses. Names: `days_since_order`, `orders`, `spent`,
//! `repeat_purchases`, `mean_repeat_value`, `engaged_30`, `engaged_60`,
//! `days_since_cart`, `days_to_birthday`, `campaigns`, `recency`,
//! `frequency`, `monetary` (the 1–5 scores), `p_alive`,
//! `expected_purchases`, `expected_value`, `clv`, `segment`. Functions:
//! `has_tag("x")`, and `top(clv, N)` / `top(spent, N)`: in the top N% of
//! the base. A value the customer does not have (no cart event, no
//! birthday) makes any comparison with it false.

/// A parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number.
    Num(f64),
    /// A text.
    Text(String),
    /// `true` / `false`.
    Bool(bool),
    /// A name of the customer's facts.
    Name(String),
    /// `has_tag("x")`.
    HasTag(String),
    /// `top(name, percent)`.
    Top(String, f64),
    /// `not e`.
    Not(Box<Expr>),
    /// A binary operation.
    Op(Box<Expr>, &'static str, Box<Expr>),
}

/// A value while evaluating.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A number.
    Num(f64),
    /// A text.
    Text(String),
    /// A truth value.
    Bool(bool),
    /// Missing (no cart event, no birthday).
    None,
}

/// What a rule can read about one customer.
pub trait Facts {
    /// The value of `name`, or `None` if the name is unknown.
    fn get(&self, name: &str) -> Option<Val>;
    /// Whether the customer has tag `tag`.
    fn has_tag(&self, tag: &str) -> bool;
    /// Whether the customer is in the top `percent`% of the base by `name`.
    fn top(&self, name: &str, percent: f64) -> bool;
}

/// The names a rule may use.
pub const NAMES: [&str; 19] = [
    "days_since_order",
    "orders",
    "spent",
    "repeat_purchases",
    "mean_repeat_value",
    "engaged_30",
    "engaged_60",
    "days_since_cart",
    "days_to_birthday",
    "campaigns",
    "recency",
    "frequency",
    "monetary",
    "p_alive",
    "expected_purchases",
    "expected_value",
    "clv",
    "segment",
    "tier",
];

/// The names `top()` ranks by.
pub const RANKED: [&str; 3] = ["clv", "spent", "expected_purchases"];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Text(String),
    Word(String),
    Sym(&'static str),
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            let text: String = chars[start..i].iter().filter(|c| **c != '_').collect();
            let n = text
                .parse()
                .map_err(|_| format!("column {at}: `{text}` is not a number"))?;
            out.push((Tok::Num(n), at));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Word(chars[start..i].iter().collect()), at));
        } else if c == '"' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            if i == chars.len() {
                return Err(format!("column {at}: the text is not closed with `\"`"));
            }
            out.push((Tok::Text(chars[start..i].iter().collect()), at));
            i += 1;
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = ["<=", ">=", "==", "!="]
                .into_iter()
                .find(|s| *s == two)
                .or_else(|| {
                    ["<", ">", "(", ")", ",", "+", "-", "*", "/", "%"]
                        .into_iter()
                        .find(|s| s.starts_with(c))
                })
                .ok_or_else(|| format!("column {at}: `{c}` is not part of the rule language"))?;
            i += sym.len();
            out.push((Tok::Sym(sym), at));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
    end: usize,
}

impl Parser {
    fn col(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |t| t.1)
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.0)
    }
    fn word(&mut self, w: &str) -> bool {
        if self.peek() == Some(&Tok::Word(w.into())) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, s: &str, what: &str) -> Result<(), String> {
        if self.sym(s) {
            Ok(())
        } else {
            Err(format!("column {}: expected `{s}` {what}", self.col()))
        }
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.word("or") {
            e = Expr::Op(Box::new(e), "or", Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.not()?;
        while self.word("and") {
            e = Expr::Op(Box::new(e), "and", Box::new(self.not()?));
        }
        Ok(e)
    }
    fn not(&mut self) -> Result<Expr, String> {
        if self.word("not") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Expr, String> {
        let left = self.sum()?;
        for op in ["<=", ">=", "==", "!=", "<", ">"] {
            if self.sym(op) {
                return Ok(Expr::Op(Box::new(left), op, Box::new(self.sum()?)));
            }
        }
        Ok(left)
    }
    fn sum(&mut self) -> Result<Expr, String> {
        let mut e = self.term()?;
        loop {
            let op = if self.sym("+") {
                "+"
            } else if self.sym("-") {
                "-"
            } else {
                return Ok(e);
            };
            e = Expr::Op(Box::new(e), op, Box::new(self.term()?));
        }
    }
    fn term(&mut self) -> Result<Expr, String> {
        let mut e = self.atom()?;
        loop {
            let op = if self.sym("*") {
                "*"
            } else if self.sym("/") {
                "/"
            } else {
                return Ok(e);
            };
            e = Expr::Op(Box::new(e), op, Box::new(self.atom()?));
        }
    }
    fn atom(&mut self) -> Result<Expr, String> {
        let col = self.col();
        let Some((tok, _)) = self.toks.get(self.at).cloned() else {
            return Err(format!(
                "column {col}: the rule ends where a value was expected"
            ));
        };
        self.at += 1;
        match tok {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Text(t) => Ok(Expr::Text(t)),
            Tok::Sym("-") => Ok(Expr::Op(
                Box::new(Expr::Num(0.0)),
                "-",
                Box::new(self.atom()?),
            )),
            Tok::Sym("(") => {
                let e = self.or()?;
                self.expect(")", "to close `(`")?;
                Ok(e)
            }
            Tok::Word(w) if w == "true" || w == "false" => Ok(Expr::Bool(w == "true")),
            Tok::Word(w) if w == "has_tag" => {
                self.expect("(", "after has_tag")?;
                let col = self.col();
                let Some((Tok::Text(tag), _)) = self.toks.get(self.at).cloned() else {
                    return Err(format!("column {col}: has_tag needs a tag in quotes"));
                };
                self.at += 1;
                self.expect(")", "after the tag")?;
                Ok(Expr::HasTag(tag))
            }
            Tok::Word(w) if w == "top" => {
                self.expect("(", "after top")?;
                let col = self.col();
                let name = match self.toks.get(self.at).cloned() {
                    Some((Tok::Word(n), _)) if RANKED.contains(&n.as_str()) => n,
                    _ => {
                        return Err(format!(
                            "column {col}: top ranks by one of {}",
                            RANKED.join(", ")
                        ));
                    }
                };
                self.at += 1;
                self.expect(",", "between what top ranks by and the percent")?;
                let col = self.col();
                let percent = match self.toks.get(self.at).cloned() {
                    Some((Tok::Num(n), _)) if n > 0.0 && n <= 100.0 => n,
                    _ => return Err(format!("column {col}: top needs a percent from 0 to 100")),
                };
                self.at += 1;
                self.sym("%");
                self.expect(")", "to close top")?;
                Ok(Expr::Top(name, percent))
            }
            Tok::Word(w) if NAMES.contains(&w.as_str()) => Ok(Expr::Name(w)),
            Tok::Word(w) if matches!(w.as_str(), "and" | "or" | "not") => {
                Err(format!("column {col}: expected a value before `{w}`"))
            }
            Tok::Word(w) => Err(format!(
                "column {col}: unknown name `{w}` (known: {}, has_tag, top)",
                NAMES.join(", ")
            )),
            Tok::Sym(s) => Err(format!("column {col}: expected a value, found `{s}`")),
        }
    }
}

/// Parse a rule; the error gives the column and the reason.
pub fn parse(src: &str) -> Result<Expr, String> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err("column 1: the rule is empty".into());
    }
    let mut p = Parser {
        toks,
        at: 0,
        end: src.chars().count() + 1,
    };
    let e = p.or()?;
    if p.at < p.toks.len() {
        return Err(format!(
            "column {}: expected `and`, `or` or the end of the rule",
            p.col()
        ));
    }
    Ok(e)
}

fn eval(e: &Expr, f: &dyn Facts) -> Val {
    match e {
        Expr::Num(n) => Val::Num(*n),
        Expr::Text(t) => Val::Text(t.clone()),
        Expr::Bool(b) => Val::Bool(*b),
        Expr::Name(n) => f.get(n).unwrap_or(Val::None),
        Expr::HasTag(t) => Val::Bool(f.has_tag(t)),
        Expr::Top(n, p) => Val::Bool(f.top(n, *p)),
        Expr::Not(e) => match eval(e, f) {
            Val::Bool(b) => Val::Bool(!b),
            _ => Val::Bool(false),
        },
        Expr::Op(a, op, b) => {
            let (x, y) = (eval(a, f), eval(b, f));
            match (*op, x, y) {
                ("and", x, y) => Val::Bool(x == Val::Bool(true) && y == Val::Bool(true)),
                ("or", x, y) => Val::Bool(x == Val::Bool(true) || y == Val::Bool(true)),
                (op, Val::Num(x), Val::Num(y)) => match op {
                    "+" => Val::Num(x + y),
                    "-" => Val::Num(x - y),
                    "*" => Val::Num(x * y),
                    "/" if y != 0.0 => Val::Num(x / y),
                    "<" => Val::Bool(x < y),
                    "<=" => Val::Bool(x <= y),
                    ">" => Val::Bool(x > y),
                    ">=" => Val::Bool(x >= y),
                    "==" => Val::Bool(x == y),
                    "!=" => Val::Bool(x != y),
                    _ => Val::None,
                },
                ("==", Val::Text(x), Val::Text(y)) => Val::Bool(x == y),
                ("!=", Val::Text(x), Val::Text(y)) => Val::Bool(x != y),
                ("==", Val::Bool(x), Val::Bool(y)) => Val::Bool(x == y),
                ("!=", Val::Bool(x), Val::Bool(y)) => Val::Bool(x != y),
                _ => Val::Bool(false),
            }
        }
    }
}

/// Whether the rule holds for the customer.
pub fn holds(e: &Expr, f: &dyn Facts) -> bool {
    eval(e, f) == Val::Bool(true)
}
