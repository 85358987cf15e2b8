//! Streaming import of NDJSON or CSV: records are read as the bytes
//! arrive, checked, and written in batches of [`BATCH`] (one transaction
//! each), so memory stays flat whatever the file's size. Keys make it
//! idempotent: each row's hash is stored, so a row that did not change is
//! not written again, and the summary tells inserted / updated / unchanged
//! / rejected. Bad records are reported with their line, field and reason
//! and the good ones are kept.
//!
//! Shopify's own exports (customers CSV; orders CSV with one row per line
//! item) are recognised by their headers and read as they are.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::model::{Cell, Entity, Fields, RowError, normalise_email};
use crate::platform::store::{Store, StoreError};

/// Records written per transaction.
pub const BATCH: usize = 2000;
/// Rows per statement.
const PER_STATEMENT: usize = 100;

/// Placeholder `n` (1-based) of a statement: `?` on SQLite, whose driver
/// looks named ones up one by one (quadratic in a statement's
/// parameters), `$n` on PostgreSQL.
fn mark(store: &Store, n: usize) -> String {
    if store.sqlite {
        "?".into()
    } else {
        format!("${n}")
    }
}
/// Bad records reported in full; the rest are counted.
pub const MAX_REPORTED: usize = 100;

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated, a header row first.
    Csv,
}

/// One refused record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rejected {
    /// Line where the record starts (1 = the file's first line).
    pub line: u64,
    /// Its id, if it had one.
    pub id: Option<String>,
    /// The field at fault.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Summary {
    /// Records read.
    pub records: u64,
    /// New records stored.
    pub inserted: u64,
    /// Existing records that changed.
    pub updated: u64,
    /// Existing records that were the same.
    pub unchanged: u64,
    /// Records refused.
    pub rejected: u64,
    /// The first refused records, in full.
    pub errors: Vec<Rejected>,
    /// Every refusal counted by field.
    pub rejected_by_field: BTreeMap<String, u64>,
}

impl Summary {
    fn reject(&mut self, line: u64, id: Option<String>, e: RowError) {
        self.rejected += 1;
        *self.rejected_by_field.entry(e.field.clone()).or_default() += 1;
        if self.errors.len() < MAX_REPORTED {
            self.errors.push(Rejected {
                line,
                id,
                field: e.field,
                reason: e.reason,
            });
        }
    }
}

/// Splits arriving bytes into records: lines, or CSV records (which may
/// hold line breaks inside quotes). Remembers the line each starts on.
#[derive(Default)]
struct Splitter {
    buf: Vec<u8>,
    /// Where the next record starts in `buf`.
    start: usize,
    /// How far `buf` has been scanned for the end of that record.
    scanned: usize,
    quoted: bool,
    breaks: u64,
    line: u64,
    csv: bool,
}

impl Splitter {
    /// Append arriving bytes (dropping the records already taken).
    fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete record, with the line it starts on.
    fn next(&mut self) -> Option<(u64, &[u8])> {
        let mut i = self.scanned.max(self.start);
        while i < self.buf.len() {
            match self.buf[i] {
                b'"' if self.csv => self.quoted = !self.quoted,
                b'\n' => {
                    self.breaks += 1;
                    if !self.quoted {
                        let first = self.line + 1;
                        self.line += self.breaks;
                        self.breaks = 0;
                        let from = self.start;
                        self.start = i + 1;
                        self.scanned = i + 1;
                        let mut record = &self.buf[from..i];
                        if record.last() == Some(&b'\r') {
                            record = &record[..record.len() - 1];
                        }
                        return Some((first, record));
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.scanned = i;
        None
    }

    /// What is left at the end of the file (a last record without a break).
    fn finish(&mut self) -> Option<(u64, Vec<u8>)> {
        let record = self.buf.split_off(self.start);
        self.start = 0;
        self.scanned = 0;
        (!record.iter().all(u8::is_ascii_whitespace)).then_some((self.line + 1, record))
    }
}

/// The fields of one CSV record (RFC 4180: quotes, doubled quotes).
fn csv_fields(record: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(record).map_err(|_| "the row is not UTF-8".to_string())?;
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                out.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    out.push(field);
    Ok(out)
}

/// Shopify's column names → Cove's, per entity; other Shopify columns of a
/// customer go into its attributes.
fn shopify_name(entity: Entity, column: &str) -> Option<&'static str> {
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
struct Header {
    names: Vec<String>,
    /// Shopify's columns not mapped: into `attributes` (customers only).
    extra: Vec<bool>,
    shopify: bool,
}

impl Header {
    fn new(entity: Entity, columns: Vec<String>) -> Header {
        let shopify = columns.iter().any(|c| {
            matches!(
                (entity, c.as_str()),
                (Entity::Customers, "Customer ID") | (Entity::Orders, "Lineitem quantity")
            )
        });
        let mut names = Vec::new();
        let mut extra = Vec::new();
        for c in columns {
            let c = c.trim().trim_start_matches('\u{feff}').to_string();
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
            names,
            extra,
            shopify,
        }
    }

    fn fields(&self, entity: Entity, values: Vec<String>) -> Fields {
        let mut f = Map::new();
        let mut attributes = Map::new();
        let mut item = Map::new();
        for ((name, extra), v) in self.names.iter().zip(&self.extra).zip(values) {
            let v = v.trim().to_string();
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
fn shopify_order(f: &mut Fields) {
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

/// A batch being written: (inserted, updated, unchanged) when done.
type Writing = tokio::task::JoinHandle<Result<(u64, u64, u64), StoreError>>;

/// One record on its way to the store.
struct Pending {
    line: u64,
    fields: Fields,
}

/// Reads records from arriving chunks and writes them in batches.
pub struct Importer<'a> {
    store: &'a Store,
    merchant: &'a str,
    entity: Entity,
    format: Format,
    splitter: Splitter,
    header: Option<Header>,
    /// An order being assembled from consecutive CSV rows.
    open: Option<Pending>,
    batch: Vec<(u64, Vec<Cell>, Option<String>)>,
    /// The previous batch, being written while the next one is read.
    writing: Option<Writing>,
    /// Batches written so far.
    written: u64,
    /// The summary so far.
    pub summary: Summary,
}

impl<'a> Importer<'a> {
    /// Start importing `entity` in `format` for `merchant`.
    pub fn new(
        store: &'a Store,
        merchant: &'a str,
        entity: Entity,
        format: Format,
    ) -> Importer<'a> {
        Importer {
            store,
            merchant,
            entity,
            format,
            splitter: Splitter {
                csv: format == Format::Csv,
                ..Splitter::default()
            },
            header: None,
            open: None,
            batch: Vec::with_capacity(BATCH),
            writing: None,
            written: 0,
            summary: Summary::default(),
        }
    }

    /// Feed the next bytes of the file.
    pub async fn push(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.splitter.push(chunk);
        while let Some((line, record)) = self.splitter.next() {
            let record = record.to_vec();
            self.record(line, &record).await?;
        }
        Ok(())
    }

    /// The file ended: write what is left and return the summary.
    pub async fn finish(mut self) -> Result<Summary, StoreError> {
        if let Some((line, record)) = self.splitter.finish() {
            self.record(line, &record).await?;
        }
        if let Some(p) = self.open.take() {
            self.check(p).await?;
        }
        self.flush().await?;
        self.settle().await?;
        // A file, not a handful of live events.
        if self.written > 2 {
            self.analyze().await?;
        }
        self.summary.errors.sort_by_key(|e| e.line);
        Ok(self.summary)
    }

    async fn record(&mut self, line: u64, record: &[u8]) -> Result<(), StoreError> {
        if record.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let fields = match self.format {
            Format::Ndjson => match serde_json::from_slice::<Value>(record) {
                Ok(Value::Object(o)) => o,
                Ok(_) => {
                    self.bad_line(line, "the line is not a JSON object");
                    return Ok(());
                }
                Err(e) => {
                    self.bad_line(line, &format!("the line is not JSON: {e}"));
                    return Ok(());
                }
            },
            Format::Csv => {
                let values = match csv_fields(record) {
                    Ok(v) => v,
                    Err(e) => {
                        self.bad_line(line, &e);
                        return Ok(());
                    }
                };
                match &self.header {
                    None => {
                        self.header = Some(Header::new(self.entity, values));
                        return Ok(());
                    }
                    Some(h) => h.fields(self.entity, values),
                }
            }
        };
        // Rows of one order (one per line item) come one after another.
        if self.entity == Entity::Orders {
            // Shopify repeats only the order's Name on its later rows.
            let group = |f: &Fields| f.get("name").or_else(|| f.get("id")).cloned();
            let id = group(&fields);
            if let Some(open) = &mut self.open
                && id.is_some()
                && group(&open.fields) == id
            {
                let more = fields
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if let Some(Value::Array(items)) = open.fields.get_mut("items") {
                    items.extend(more);
                }
                for (k, v) in fields {
                    open.fields.entry(k).or_insert(v);
                }
                return Ok(());
            }
            let ready = self.open.replace(Pending { line, fields });
            if let Some(p) = ready {
                self.check(p).await?;
            }
            return Ok(());
        }
        self.check(Pending { line, fields }).await
    }

    fn bad_line(&mut self, line: u64, reason: &str) {
        self.summary.records += 1;
        self.summary.reject(
            line,
            None,
            RowError {
                field: "(line)".into(),
                reason: reason.into(),
            },
        );
    }

    async fn check(&mut self, p: Pending) -> Result<(), StoreError> {
        self.summary.records += 1;
        let id = super::model::text(&p.fields, "id");
        let email = (self.entity == Entity::Orders && !p.fields.contains_key("customer_id"))
            .then(|| super::model::text(&p.fields, "customer_email"))
            .flatten();
        let mut fields = p.fields;
        if email.is_some() {
            // Resolved to the customer's id when the batch is written.
            fields.insert("customer_id".into(), json!("?"));
        }
        match self.entity.row(&fields) {
            Ok(cells) => {
                self.batch.push((p.line, cells, email));
                if self.batch.len() >= BATCH {
                    self.flush().await?;
                }
            }
            Err(e) => self.summary.reject(p.line, id, e),
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut batch = std::mem::take(&mut self.batch);
        self.resolve_emails(&mut batch).await?;
        // The last record of a key in the batch wins.
        let mut by_key: HashMap<String, usize> = HashMap::with_capacity(batch.len());
        for (i, (_, cells, _)) in batch.iter().enumerate() {
            if let Cell::Text(Some(k)) = &cells[0]
                && by_key.insert(k.clone(), i).is_some()
            {
                self.summary.updated += 1;
            }
        }
        let mut cells: Vec<Option<Vec<Cell>>> =
            batch.into_iter().map(|(_, c, _)| Some(c)).collect();
        let rows: Vec<(String, Vec<Cell>, String)> = by_key
            .into_iter()
            .filter_map(|(k, i)| {
                let c = cells[i].take()?;
                let hash = row_hash(&c);
                Some((k, c, hash))
            })
            .collect();
        // One batch is written while the next is read; writes stay in order.
        self.settle().await?;
        let (store, merchant, entity) =
            (self.store.clone(), self.merchant.to_string(), self.entity);
        self.writing = Some(tokio::spawn(async move {
            write_batch(&store, &merchant, entity, &rows).await
        }));
        Ok(())
    }

    /// Wait for the batch being written and count what it did.
    async fn settle(&mut self) -> Result<(), StoreError> {
        if let Some(writing) = self.writing.take() {
            let (inserted, updated, unchanged) = writing.await.map_err(|e| {
                StoreError::Db(sqlx::Error::Protocol(format!(
                    "the import's writer failed: {e}"
                )))
            })??;
            self.summary.inserted += inserted;
            self.summary.updated += updated;
            self.summary.unchanged += unchanged;
            self.written += 1;
            // PostgreSQL plans the key look-ups from its statistics: a
            // table that grew since they were taken gets scanned instead.
            if [2, 20, 200, 2000].contains(&self.written) {
                self.analyze().await?;
            }
        }
        Ok(())
    }

    /// Refresh PostgreSQL's statistics of the table (SQLite needs none).
    async fn analyze(&self) -> Result<(), StoreError> {
        if !self.store.sqlite {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "ANALYZE {}",
                self.entity.table()
            )))
            .execute(&self.store.pool)
            .await?;
        }
        Ok(())
    }

    /// Orders from Shopify name their customer by e-mail: find the id.
    async fn resolve_emails(
        &mut self,
        batch: &mut Vec<(u64, Vec<Cell>, Option<String>)>,
    ) -> Result<(), StoreError> {
        let emails: Vec<String> = batch
            .iter()
            .filter_map(|(_, _, e)| e.as_deref().and_then(normalise_email))
            .collect();
        if emails.is_empty() {
            return Ok(());
        }
        let found = self
            .store
            .customers_by_email(self.merchant, &emails)
            .await?;
        let mut kept = Vec::with_capacity(batch.len());
        for (line, mut cells, email) in batch.drain(..) {
            if let Some(e) = email {
                match normalise_email(&e).and_then(|n| found.get(&n)) {
                    Some(id) => cells[1] = Cell::Text(Some(id.clone())),
                    None => {
                        let id = match &cells[0] {
                            Cell::Text(t) => t.clone(),
                            Cell::Int(_) => None,
                        };
                        self.summary.reject(
                            line,
                            id,
                            RowError {
                                field: "customer_email".into(),
                                reason: format!(
                                    "no customer has the e-mail `{e}`; import the customers first"
                                ),
                            },
                        );
                        continue;
                    }
                }
            }
            kept.push((line, cells, None));
        }
        *batch = kept;
        Ok(())
    }
}

fn row_hash(cells: &[Cell]) -> String {
    let mut h = Sha256::new();
    for c in cells {
        match c {
            Cell::Text(Some(t)) => {
                h.update(b"t");
                h.update((t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
            Cell::Int(Some(i)) => {
                h.update(b"i");
                h.update(i.to_le_bytes());
            }
            Cell::Text(None) | Cell::Int(None) => h.update(b"n"),
        }
    }
    hex::encode(&h.finalize()[..12])
}

/// Write new and changed rows of one batch in one transaction; returns
/// (inserted, updated, unchanged).
async fn write_batch(
    store: &Store,
    merchant: &str,
    entity: Entity,
    rows: &[(String, Vec<Cell>, String)],
) -> Result<(u64, u64, u64), StoreError> {
    let table = entity.table();
    let mut tx = store.write_tx().await?;
    if !store.sqlite {
        // Keys are looked up by the primary key, whatever the statistics
        // say (a table that just grew from empty would be scanned).
        sqlx::query("SET LOCAL enable_seqscan = off")
            .execute(&mut *tx)
            .await?;
    }
    let mut known: HashMap<String, String> = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(PER_STATEMENT * 2) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| mark(store, i + 2)).collect();
        let sql = format!(
            "SELECT id, row_hash FROM {table} WHERE merchant_id = {} AND id IN ({})",
            mark(store, 1),
            marks.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(merchant);
        for (k, _, _) in chunk {
            q = q.bind(k);
        }
        for r in q.fetch_all(&mut *tx).await? {
            known.insert(r.try_get(0)?, r.try_get(1)?);
        }
    }
    let (mut inserted, mut updated, mut unchanged) = (0, 0, 0);
    let write: Vec<&(String, Vec<Cell>, String)> = rows
        .iter()
        .filter(|(k, _, hash)| match known.get(k) {
            None => {
                inserted += 1;
                true
            }
            Some(h) if h != hash => {
                updated += 1;
                true
            }
            Some(_) => {
                unchanged += 1;
                false
            }
        })
        .collect();
    let columns = entity.columns();
    let width = columns.len() + 3;
    let now = crate::now_ms();
    for chunk in write.chunks(PER_STATEMENT) {
        let mut values = Vec::with_capacity(chunk.len());
        for i in 0..chunk.len() {
            let marks: Vec<String> = (1..=width).map(|j| mark(store, i * width + j)).collect();
            values.push(format!("({})", marks.join(", ")));
        }
        let updates: Vec<String> = columns[1..]
            .iter()
            .chain(["row_hash", "updated_at"].iter())
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        let sql = format!(
            "INSERT INTO {table} (merchant_id, {}, row_hash, updated_at) VALUES {} \
             ON CONFLICT (merchant_id, id) DO UPDATE SET {}",
            columns.join(", "),
            values.join(", "),
            updates.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (_, cells, hash) in chunk {
            q = q.bind(merchant);
            for c in cells.iter() {
                q = match c {
                    Cell::Text(t) => q.bind(t.clone()),
                    Cell::Int(i) => q.bind(*i),
                };
            }
            q = q.bind(hash.clone()).bind(now);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok((inserted, updated, unchanged))
}

impl Store {
    /// Customer ids by normalised e-mail, for the given addresses.
    pub async fn customers_by_email(
        &self,
        merchant: &str,
        emails: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut out = HashMap::new();
        for chunk in emails.chunks(PER_STATEMENT * 2) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| mark(self, i + 2)).collect();
            let sql = format!(
                "SELECT email, id FROM customers WHERE merchant_id = {} AND email IN ({})",
                mark(self, 1),
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(merchant);
            for e in chunk {
                q = q.bind(e);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.insert(r.try_get(0)?, r.try_get(1)?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_split_across_chunks_and_quoted_breaks() {
        let mut s = Splitter {
            csv: true,
            ..Splitter::default()
        };
        let mut out = Vec::new();
        for chunk in ["id,note\r\n1,\"two", "\nlines\"\n2,\"say \"\"hi\"\"\"\n3,x"] {
            s.push(chunk.as_bytes());
            while let Some((line, r)) = s.next() {
                out.push((line, csv_fields(r).unwrap()));
            }
        }
        out.extend(s.finish().map(|(l, r)| (l, csv_fields(&r).unwrap())));
        assert_eq!(
            out,
            vec![
                (1, vec!["id".to_string(), "note".into()]),
                (2, vec!["1".into(), "two\nlines".into()]),
                (4, vec!["2".into(), "say \"hi\"".into()]),
                (5, vec!["3".into(), "x".into()]),
            ]
        );
        assert!(csv_fields(b"1,\"open").is_err());
    }
}
