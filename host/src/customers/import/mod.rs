//! Streaming import of NDJSON or CSV: records are read as the bytes
//! arrive, checked, and written in batches of [`BATCH`] (one transaction
//! each), so memory stays flat whatever the file's size. Bad records are
//! reported with their line, field and reason and the good ones are kept.
//!
//! Keys make it idempotent. Each record's hash is that of its source text
//! (after the file's header) and is stored with its row: a record whose
//! text did not change is neither parsed nor written again, and the
//! summary tells inserted / updated / unchanged / rejected.
//!
//! Three stages overlap: the request's task splits records and hashes
//! them; a checker looks up a batch's keys and parses what changed (two
//! batches at a time); a writer stores checked batches in order (two at a
//! time on PostgreSQL, each column of a batch sent as one array). A batch
//! repeating a key of one still on its way waits until that one is
//! written, so the last record of a key wins.
//!
//! Shopify's own exports (customers CSV; orders CSV with one row per line
//! item) are recognised by their headers and read as they are.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::model::{Cell, Entity, Fields, RowError, normalise_email};
use crate::platform::store::{Store, StoreError};

mod csv;
mod postgres;
mod shopify;
mod upsert;

use crate::customers::store::CustomersDb;
use csv::{MAX_RECORD_BYTES, Piece, Splitter, csv_fields};
use postgres::array_batch;
use shopify::Header;
use upsert::upsert_batch;

/// Records written per transaction.
pub const BATCH: usize = 5000;
/// Rows per statement.
const PER_STATEMENT: usize = 100;

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
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Default, Clone, serde::Serialize, utoipa::ToSchema)]
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
    /// Customers with new or changed orders or events, up to
    /// [`MAX_TOUCHED`] (more than that is a bulk load, not activity).
    #[serde(skip)]
    pub touched: std::collections::BTreeSet<String>,
    /// More customers than [`MAX_TOUCHED`] were touched.
    #[serde(skip)]
    pub bulk: bool,
}

/// Customers an import reports as touched, at most.
pub const MAX_TOUCHED: usize = 1_000;

impl Summary {
    /// Add what another part of the import counted.
    fn merge(&mut self, other: Summary) {
        self.bulk |= other.bulk;
        self.touch(other.touched);
        self.records += other.records;
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
        for (field, n) in other.rejected_by_field {
            *self.rejected_by_field.entry(field).or_default() += n;
        }
        // The first ones of the file, whichever part found them.
        self.errors.extend(other.errors);
        self.errors.sort_by_key(|e| e.line);
        self.errors.truncate(MAX_REPORTED);
    }

    /// Note customers whose orders or events changed.
    fn touch(&mut self, ids: impl IntoIterator<Item = String>) {
        for id in ids {
            if self.bulk || self.touched.len() >= MAX_TOUCHED {
                self.bulk = true;
                self.touched.clear();
                return;
            }
            self.touched.insert(id);
        }
    }

    fn reject(&mut self, line: u64, id: Option<String>, e: RowError) {
        // A refused value is quoted in the reason: a record of any size
        // is reported in a few hundred bytes.
        let field = cut(e.field, 100);
        self.rejected += 1;
        *self.rejected_by_field.entry(field.clone()).or_default() += 1;
        if self.errors.len() < MAX_REPORTED {
            self.errors.push(Rejected {
                line,
                id: id.map(|i| cut(i, 200)),
                field,
                reason: cut(e.reason, 300),
            });
        }
    }
}

/// `text` up to `max` characters, with `…` where it was cut.
fn cut(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// One record as it was read: its CSV rows (an order has one per line
/// item) or its JSON objects, parsed into fields only when needed.
enum Raw {
    Csv(Vec<Vec<u8>>),
    Json(Vec<Fields>),
}

/// One record on its way to the store.
struct Pending {
    line: u64,
    /// Its key as written (`None` for consents, whose key is made from
    /// their fields).
    key: Option<String>,
    /// The rows of one order come one after another under one name or id.
    group: Option<String>,
    raw: Raw,
    /// The hash of the record's source text (after the file's header).
    hash: Sha256,
    /// Bytes of its rows so far; over [`MAX_RECORD_BYTES`] it is refused
    /// and its further rows are not kept.
    bytes: usize,
}

impl Pending {
    /// The record's fields, its rows merged (line items appended).
    fn into_fields(self, entity: Entity, header: Option<&Header>) -> Fields {
        let rows: Vec<Fields> = match (self.raw, header) {
            // Quoting was checked when the record was read.
            (Raw::Csv(rows), Some(h)) => rows
                .iter()
                .map(|r| h.fields(entity, csv_fields(r).unwrap_or_default()))
                .collect(),
            (Raw::Csv(_), None) => Vec::new(),
            (Raw::Json(rows), _) => rows,
        };
        let mut rows = rows.into_iter();
        let mut fields = rows.next().unwrap_or_default();
        for more in rows {
            if let (Some(Value::Array(items)), Some(Value::Array(extra))) =
                (fields.get_mut("items"), more.get("items"))
            {
                items.extend(extra.iter().cloned());
            }
            for (k, v) in more {
                fields.entry(k).or_insert(v);
            }
        }
        fields
    }
}

/// What checking one batch found: rows to insert and to update, as
/// (cells, row hash), and what was unchanged or refused.
#[derive(Default)]
struct Checked {
    new: Vec<(Vec<Cell>, String)>,
    changed: Vec<(Vec<Cell>, String)>,
    /// Keys seen more than once in the batch (the last one won).
    repeated: u64,
    unchanged: u64,
    rejected: Vec<(u64, Option<String>, RowError)>,
}

/// Batches a key is remembered for: more than can be in the stages at
/// once (checked two at a time, one waiting, written two at a time).
const WINDOW: u64 = 8;

/// A batch for the checker. `serial` when it repeats a key of a batch
/// that may still be on its way, or has keys known only once parsed: it
/// is checked after everything before it is written, so the last record
/// of a key wins and a repeated record is compared with what it follows.
struct Batch {
    records: Vec<Pending>,
    serial: bool,
}

/// What the writer is handed: a checked batch, or a barrier it answers
/// once everything before it is written.
enum ToWriter {
    Checked(Checked),
    Barrier(tokio::sync::oneshot::Sender<()>),
}

/// The two stages behind the reader: one checks a batch (looks up its
/// keys, parses what changed) while the other writes the batch before.
struct Stages {
    to_check: tokio::sync::mpsc::Sender<Batch>,
    checker: tokio::task::JoinHandle<Result<(), StoreError>>,
    writer: tokio::task::JoinHandle<Result<Summary, StoreError>>,
}

/// Reads records from arriving chunks and writes them in batches.
pub struct Importer<'a> {
    store: &'a Store,
    merchant: &'a str,
    entity: Entity,
    format: Format,
    splitter: Splitter,
    header: Option<std::sync::Arc<Header>>,
    /// The hash every record's hash starts from (entity, format, header).
    seed: Sha256,
    /// An order being assembled from consecutive rows.
    open: Option<Pending>,
    batch: Vec<Pending>,
    /// Started with the first full batch.
    stages: Option<Stages>,
    /// Batches handed to the stages so far.
    flushed: u64,
    /// The batch each key of the last [`WINDOW`] batches was last in.
    recent: HashMap<String, u64>,
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
        let mut seed = Sha256::new();
        seed.update(entity.table().as_bytes());
        seed.update([format as u8]);
        Importer {
            store,
            merchant,
            entity,
            format,
            splitter: Splitter::new(format == Format::Csv),
            header: None,
            seed,
            open: None,
            batch: Vec::with_capacity(BATCH),
            stages: None,
            flushed: 0,
            recent: HashMap::new(),
            summary: Summary::default(),
        }
    }

    /// Feed the next bytes of the file.
    pub async fn push(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.splitter.push(chunk);
        while let Some(piece) = self.splitter.next() {
            match piece {
                Piece::Record(line, record) => {
                    let record = record.to_vec();
                    self.record(line, record).await?;
                }
                Piece::TooLong(line) => self.bad_line(
                    line,
                    &format!("the record is longer than {} MiB (in CSV, a quote left open runs to the end of the file)", MAX_RECORD_BYTES >> 20),
                ),
            }
        }
        Ok(())
    }

    /// The file ended: write what is left and return the summary.
    pub async fn finish(mut self) -> Result<Summary, StoreError> {
        if let Some((line, record)) = self.splitter.finish() {
            self.record(line, record).await?;
        }
        if let Some(p) = self.open.take() {
            self.check(p).await?;
        }
        self.flush().await?;
        if let Some(stages) = self.stages.take() {
            drop(stages.to_check);
            joined(stages.checker).await?;
            let written = joined(stages.writer).await?;
            self.summary.merge(written);
        }
        self.summary.errors.sort_by_key(|e| e.line);
        Ok(self.summary)
    }

    async fn record(&mut self, line: u64, record: Vec<u8>) -> Result<(), StoreError> {
        if record.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let keyed = self.entity != Entity::Consents;
        let (key, group, json) = match self.format {
            Format::Ndjson => match serde_json::from_slice::<Value>(&record) {
                Ok(Value::Object(o)) => {
                    let key = super::model::text(&o, "id").filter(|_| keyed);
                    let group = super::model::text(&o, "name").or_else(|| key.clone());
                    (key, group, Some(o))
                }
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
                let Some(h) = &self.header else {
                    match csv_fields(&record) {
                        Ok(values) => {
                            self.seed.update(&record);
                            self.header =
                                Some(std::sync::Arc::new(Header::new(self.entity, values)));
                        }
                        Err(e) => self.bad_line(line, &e),
                    }
                    return Ok(());
                };
                // Only the key and the group are read now; the rest when
                // the record turns out to have changed.
                let (id, name) = if record.contains(&b'"') {
                    match csv_fields(&record) {
                        Ok(values) => {
                            let at = |i: Option<usize>| {
                                i.and_then(|i| values.get(i)).map(|v| v.trim().to_string())
                            };
                            (at(h.id_at), at(h.name_at))
                        }
                        Err(e) => {
                            self.bad_line(line, &e);
                            return Ok(());
                        }
                    }
                } else {
                    let Ok(text) = std::str::from_utf8(&record) else {
                        self.bad_line(line, "the row is not UTF-8");
                        return Ok(());
                    };
                    let mut id = None;
                    let mut name = None;
                    for (i, v) in text.split(',').enumerate() {
                        if Some(i) == h.id_at {
                            id = Some(v.trim().to_string());
                        } else if Some(i) == h.name_at {
                            name = Some(v.trim().to_string());
                        }
                    }
                    (id, name)
                };
                let id = id.filter(|v| !v.is_empty());
                let name = name.filter(|v| !v.is_empty());
                let key = id.clone().or_else(|| name.clone().filter(|_| h.shopify));
                (key.filter(|_| keyed), name.or(id), None)
            }
        };
        // Rows of one order (one per line item) come one after another;
        // Shopify repeats only the order's Name on its later rows.
        if self.entity == Entity::Orders {
            if let Some(open) = &mut self.open
                && group.is_some()
                && open.group == group
            {
                open.bytes = open.bytes.saturating_add(record.len());
                if open.bytes > MAX_RECORD_BYTES {
                    open.raw = Raw::Csv(Vec::new());
                    return Ok(());
                }
                open.hash.update((record.len() as u64).to_le_bytes());
                open.hash.update(&record);
                match (&mut open.raw, json) {
                    (Raw::Csv(rows), None) => rows.push(record),
                    (Raw::Json(rows), Some(o)) => rows.push(o),
                    _ => {}
                }
                return Ok(());
            }
            let pending = self.pending(line, key, group, json, record);
            if let Some(p) = self.open.replace(pending) {
                self.check(p).await?;
            }
            return Ok(());
        }
        let pending = self.pending(line, key, group, json, record);
        self.check(pending).await
    }

    fn pending(
        &self,
        line: u64,
        key: Option<String>,
        group: Option<String>,
        json: Option<Fields>,
        record: Vec<u8>,
    ) -> Pending {
        let record_len = record.len();
        let mut hash = self.seed.clone();
        hash.update((record.len() as u64).to_le_bytes());
        hash.update(&record);
        let raw = match json {
            Some(o) => Raw::Json(vec![o]),
            None => Raw::Csv(vec![record]),
        };
        Pending {
            line,
            key,
            group,
            raw,
            hash,
            bytes: record_len,
        }
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
        if p.bytes > MAX_RECORD_BYTES {
            self.bad_line(
                p.line,
                &format!(
                    "the order's rows add up to more than {} MiB",
                    MAX_RECORD_BYTES >> 20
                ),
            );
            return Ok(());
        }
        self.summary.records += 1;
        self.batch.push(p);
        if self.batch.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let records = std::mem::take(&mut self.batch);
        self.flushed += 1;
        let n = self.flushed;
        self.recent.retain(|_, b| *b + WINDOW > n);
        let mut serial = false;
        for p in &records {
            match &p.key {
                Some(k) => serial |= self.recent.insert(k.clone(), n).is_some(),
                None => serial = true,
            }
        }
        let batch = Batch { records, serial };
        let stages = self.stages.get_or_insert_with(|| {
            stages(
                self.store.clone(),
                self.merchant.to_string(),
                self.entity,
                self.header.clone(),
            )
        });
        if stages.to_check.send(batch).await.is_err() {
            // A stage stopped: its error says why.
            let stages = self.stages.take().expect("started above");
            joined(stages.checker).await?;
            joined(stages.writer).await?;
            return Err(StoreError::Db(sqlx::Error::Protocol(
                "the import's stages stopped".into(),
            )));
        }
        Ok(())
    }
}

/// A stage's result (a panic is reported as an error).
async fn joined<T>(task: tokio::task::JoinHandle<Result<T, StoreError>>) -> Result<T, StoreError> {
    task.await.map_err(|e| {
        StoreError::Db(sqlx::Error::Protocol(format!(
            "the import's writer failed: {e}"
        )))
    })?
}

/// Start the checker and the writer: one batch is read, the one before
/// is checked and the one before that is written, in order.
fn stages(
    store: Store,
    merchant: String,
    entity: Entity,
    header: Option<std::sync::Arc<Header>>,
) -> Stages {
    let (to_check, mut checking) = tokio::sync::mpsc::channel::<Batch>(1);
    let (to_write, mut writing) = tokio::sync::mpsc::channel::<ToWriter>(1);
    let (s, m) = (store.clone(), merchant.clone());
    let checker = tokio::spawn(async move {
        // A first load needs no look-ups: the insert itself refuses a key
        // that is there after all (repeated in the file, or imported at
        // the same time), and that batch is then looked up and upserted.
        let fresh = s.pg.is_some() && !CustomersDb(&s).has_any(&m, entity).await?;
        // Two batches are checked at once (parsing, and the database's
        // look-ups, on two cores); they go on to the writer in order.
        let mut in_flight = std::collections::VecDeque::new();
        let mut next = checking.recv().await;
        loop {
            let serial = next.as_ref().is_some_and(|b| b.serial);
            while (in_flight.len() == 2 || next.is_none() || serial)
                && let Some(done) = in_flight.pop_front()
            {
                if to_write
                    .send(ToWriter::Checked(joined(done).await?))
                    .await
                    .is_err()
                {
                    return Ok(());
                }
            }
            let Some(batch) = next else {
                return Ok(());
            };
            if batch.serial {
                let (written, done) = tokio::sync::oneshot::channel();
                if to_write.send(ToWriter::Barrier(written)).await.is_err() || done.await.is_err() {
                    return Ok(());
                }
            }
            let (s, m, header) = (s.clone(), m.clone(), header.clone());
            in_flight.push_back(tokio::spawn(async move {
                check_batch(&s, &m, entity, header.as_deref(), batch.records, fresh).await
            }));
            next = checking.recv().await;
        }
    });
    let writer = tokio::spawn(async move {
        let mut summary = Summary::default();
        let mut written = 0u64;
        // PostgreSQL takes three batches at once (one backend each, so a
        // `COPY` waiting on the network overlaps the others); a key in two
        // is settled by the conflict path of `write_batch`.
        let parallel = if store.pg.is_some() { 3 } else { 1 };
        let mut in_flight = std::collections::VecDeque::new();
        while let Some(next) = writing.recv().await {
            let checked = match next {
                ToWriter::Checked(c) => c,
                ToWriter::Barrier(answer) => {
                    for done in in_flight.drain(..) {
                        summary.merge(joined(done).await?);
                    }
                    let _ = answer.send(());
                    continue;
                }
            };
            if in_flight.len() == parallel
                && let Some(done) = in_flight.pop_front()
            {
                summary.merge(joined(done).await?);
            }
            let (s, m) = (store.clone(), merchant.clone());
            in_flight.push_back(tokio::spawn(async move {
                write_batch(&s, &m, entity, checked).await
            }));
            written += 1;
            // PostgreSQL plans the key look-ups from its statistics: a
            // table that grew since they were taken gets scanned instead.
            if [2, 20, 200, 2000].contains(&written) {
                analyze(&store, entity).await?;
            }
        }
        for done in in_flight {
            summary.merge(joined(done).await?);
        }
        // A file, not a handful of live events.
        if written > 2 {
            analyze(&store, entity).await?;
        }
        Ok(summary)
    });
    Stages {
        to_check,
        checker,
        writer,
    }
}

/// Refresh PostgreSQL's statistics of the table (SQLite needs none).
async fn analyze(store: &Store, entity: Entity) -> Result<(), StoreError> {
    if !store.sqlite {
        sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {}", entity.table())))
            .execute(&store.pool)
            .await?;
    }
    Ok(())
}

/// One record of a batch: parsed only if its source changed.
struct Entry {
    line: u64,
    key: Option<String>,
    hash: String,
    pending: Option<Pending>,
    /// Shopify orders name their customer by e-mail (resolved per batch).
    email: Option<String>,
    cells: Vec<Cell>,
}

impl Entry {
    /// Check and normalise the record; false (and counted) if refused.
    fn parse(&mut self, entity: Entity, header: Option<&Header>, out: &mut Checked) -> bool {
        let Some(p) = self.pending.take() else {
            return !self.cells.is_empty();
        };
        let mut fields = p.into_fields(entity, header);
        if entity == Entity::Orders && !fields.contains_key("customer_id") {
            self.email = super::model::text(&fields, "customer_email");
            if self.email.is_some() {
                fields.insert("customer_id".into(), json!("?"));
            }
        }
        let long = fields
            .iter()
            .find(|(_, v)| v.as_str().is_some_and(|s| s.len() > MAX_FIELD_BYTES));
        if let Some((name, _)) = long {
            let e = RowError {
                field: name.clone(),
                reason: format!("longer than {} KiB", MAX_FIELD_BYTES >> 10),
            };
            out.rejected.push((self.line, self.key.clone(), e));
            return false;
        }
        match entity.row(&fields) {
            Ok(cells) => {
                if let Cell::Text(Some(k)) = &cells[0] {
                    self.key = Some(k.clone());
                }
                self.cells = cells;
                true
            }
            Err(e) => {
                out.rejected.push((self.line, self.key.clone(), e));
                false
            }
        }
    }
}

/// The longest text field a record may have.
pub const MAX_FIELD_BYTES: usize = 64 << 10;

/// Look up the keys of one batch and check and normalise the records
/// whose source changed.
async fn check_batch(
    store: &Store,
    merchant: &str,
    entity: Entity,
    header: Option<&Header>,
    batch: Vec<Pending>,
    fresh: bool,
) -> Result<Checked, StoreError> {
    let mut out = Checked::default();
    let mut entries: Vec<Entry> = Vec::with_capacity(batch.len());
    for p in batch {
        let mut e = Entry {
            line: p.line,
            key: p.key.clone(),
            hash: hex::encode(&p.hash.clone().finalize()[..12]),
            pending: Some(p),
            email: None,
            cells: Vec::new(),
        };
        // A key made from the fields is known once they are read.
        if e.key.is_none() && !e.parse(entity, header, &mut out) {
            continue;
        }
        entries.push(e);
    }
    // The last record of a key in the batch is the one that counts.
    let mut seen = HashSet::with_capacity(entries.len());
    let mut last: Vec<Entry> = Vec::with_capacity(entries.len());
    for e in entries.into_iter().rev() {
        match &e.key {
            Some(k) if !seen.insert(k.clone()) => out.repeated += 1,
            _ => last.push(e),
        }
    }
    last.reverse();
    let mut entries = last;
    let rows: Vec<(&str, &str)> = entries
        .iter()
        .filter_map(|e| Some((e.key.as_deref()?, e.hash.as_str())))
        .collect();
    let differing = if fresh {
        rows.iter().map(|(k, _)| (k.to_string(), None)).collect()
    } else {
        CustomersDb(store)
            .differing(merchant, entity, &rows)
            .await?
    };
    // A key not returned is stored with the same hash.
    entries.retain_mut(|e| {
        if e.key.as_ref().is_some_and(|k| !differing.contains_key(k)) {
            out.unchanged += 1;
            return false;
        }
        e.parse(entity, header, &mut out)
    });
    resolve_emails(store, merchant, &mut entries, &mut out).await?;
    // Parsing may name a key differently than it was written (a Shopify
    // order's id); the last record still wins.
    let mut by_key: HashMap<String, Entry> = HashMap::with_capacity(entries.len());
    for e in entries {
        if let Some(k) = e.key.clone()
            && by_key.insert(k, e).is_some()
        {
            out.repeated += 1;
        }
    }
    for (k, e) in by_key {
        // Returned with the hash stored under it: the key is there.
        if differing.get(&k).is_some_and(Option::is_some) {
            out.changed.push((e.cells, e.hash));
        } else {
            out.new.push((e.cells, e.hash));
        }
    }
    Ok(out)
}

/// Write one checked batch in one transaction and count it.
async fn write_batch(
    store: &Store,
    merchant: &str,
    entity: Entity,
    mut c: Checked,
) -> Result<Summary, StoreError> {
    let done = match &store.pg {
        Some(pg) => match array_batch(pg, merchant, entity, &c.new, &c.changed).await {
            Ok(()) => true,
            // A key of this batch was written since it was looked up (by
            // the batch before, or another import): upsert, and count
            // those keys as updated.
            Err(e) if is_conflict(&e) => {
                // An empty hash matches no row: every key there comes back.
                let rows: Vec<(&str, &str)> = c
                    .new
                    .iter()
                    .filter_map(|(cells, _)| match &cells[0] {
                        Cell::Text(Some(k)) => Some((k.as_str(), "")),
                        _ => None,
                    })
                    .collect();
                let now = CustomersDb(store)
                    .differing(merchant, entity, &rows)
                    .await?;
                let (was_new, now_there): (Vec<_>, Vec<_>) = std::mem::take(&mut c.new)
                    .into_iter()
                    .partition(|(cells, _)| !matches!(&cells[0], Cell::Text(Some(k)) if now.get(k).is_some_and(Option::is_some)));
                c.new = was_new;
                c.changed.extend(now_there);
                false
            }
            Err(e) => return Err(e.into()),
        },
        None => false,
    };
    if !done {
        upsert_batch(store, merchant, entity, c.new.iter().chain(&c.changed)).await?;
    }
    let mut summary = Summary {
        inserted: c.new.len() as u64,
        updated: c.changed.len() as u64 + c.repeated,
        unchanged: c.unchanged,
        ..Summary::default()
    };
    if matches!(entity, Entity::Orders | Entity::Events) {
        // The customer is the second column of both.
        let ids: std::collections::BTreeSet<String> = c
            .new
            .iter()
            .chain(&c.changed)
            .filter_map(|(cells, _)| match cells.get(1) {
                Some(Cell::Text(Some(id))) => Some(id.clone()),
                _ => None,
            })
            .collect();
        let ids: Vec<String> = ids.into_iter().collect();
        crate::platform::feature::customers_changed(store, merchant, &ids).await?;
        summary.touch(ids);
    }
    for (line, id, e) in c.rejected {
        summary.reject(line, id, e);
    }
    Ok(summary)
}

/// A key written meanwhile by another batch: a unique violation, or a
/// deadlock between two batches waiting on each other's keys.
fn is_conflict(e: &sqlx::Error) -> bool {
    crate::platform::store::is_unique_violation(e)
        || matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("40P01"))
}

/// Orders that name their customer by e-mail get the customer's id, or
/// are refused when no customer has it.
async fn resolve_emails(
    store: &Store,
    merchant: &str,
    entries: &mut Vec<Entry>,
    out: &mut Checked,
) -> Result<(), StoreError> {
    let emails: Vec<String> = entries
        .iter()
        .filter_map(|e| e.email.as_deref().and_then(normalise_email))
        .collect();
    if emails.is_empty() {
        return Ok(());
    }
    let found = CustomersDb(store)
        .customers_by_email(merchant, &emails)
        .await?;
    entries.retain_mut(|e| {
        let Some(email) = e.email.take() else {
            return true;
        };
        match normalise_email(&email).and_then(|n| found.get(&n)) {
            Some(id) => {
                e.cells[1] = Cell::Text(Some(id.clone()));
                true
            }
            None => {
                out.rejected.push((
                    e.line,
                    e.key.clone(),
                    RowError {
                        field: "customer_email".into(),
                        reason: format!(
                            "no customer has the e-mail `{email}`; import the customers first"
                        ),
                    },
                ));
                false
            }
        }
    });
    Ok(())
}

/// Rows of one batch as (cells, row hash).
type Rows = [(Vec<Cell>, String)];

impl CustomersDb<'_> {
    /// Of `rows` (key, row hash), those `merchant` does not have as they
    /// are: the key, and the hash stored under it if any (`None`: new).
    /// Rows stored unchanged are not returned, so a second import of the
    /// same file moves next to nothing out of the database.
    async fn differing(
        self,
        merchant: &str,
        entity: Entity,
        rows: &[(&str, &str)],
    ) -> Result<HashMap<String, Option<String>>, StoreError> {
        let table = entity.table();
        let mut out = HashMap::new();
        if let Some(pg) = &self.pg {
            let (keys, hashes): (Vec<&str>, Vec<&str>) = rows.iter().copied().unzip();
            let mut tx = pg.begin().await?;
            // Keys are looked up by the primary key, whatever the
            // statistics say (a table that just grew from empty would be
            // scanned).
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut *tx)
                .await?;
            let found: Vec<(String, Option<String>)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT v.k, t.row_hash FROM unnest($2::text[], $3::text[]) AS v(k, h) \
                 LEFT JOIN {table} t ON t.merchant_id = $1 AND t.id = v.k \
                 WHERE t.row_hash IS DISTINCT FROM v.h"
                )))
                .bind(merchant)
                .bind(keys)
                .bind(hashes)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            out.extend(found);
            return Ok(out);
        }
        for chunk in rows.chunks(PER_STATEMENT * 5) {
            let pairs = vec!["(?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "WITH v(k, h) AS (VALUES {pairs}) SELECT v.k, t.row_hash FROM v \
                 LEFT JOIN {table} t ON t.merchant_id = ? AND t.id = v.k \
                 WHERE t.row_hash IS NOT v.h"
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (k, h) in chunk {
                q = q.bind(*k).bind(*h);
            }
            for r in q.bind(merchant).fetch_all(&self.pool).await? {
                out.insert(r.try_get(0)?, r.try_get(1)?);
            }
        }
        Ok(out)
    }

    /// Whether `merchant` has any row of `entity`.
    async fn has_any(self, merchant: &str, entity: Entity) -> Result<bool, StoreError> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT 1 FROM {} WHERE merchant_id = $1 LIMIT 1",
            entity.table()
        )))
        .bind(merchant)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    /// Customer ids by normalised e-mail, for the given addresses.
    pub async fn customers_by_email(
        self,
        merchant: &str,
        emails: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut out = HashMap::new();
        for chunk in emails.chunks(PER_STATEMENT * 2) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| self.mark(i + 2)).collect();
            let sql = format!(
                "SELECT email, id FROM customers WHERE merchant_id = {} AND email IN ({})",
                self.mark(1),
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
    use super::{RowError, Summary};

    #[test]
    fn a_refusal_is_reported_in_a_few_hundred_bytes() {
        let mut summary = Summary::default();
        let huge = "é".repeat(10 << 20);
        summary.reject(
            7,
            Some(huge.clone()),
            RowError {
                field: huge.clone(),
                reason: format!("`{huge}` is not an e-mail address"),
            },
        );
        let report = serde_json::to_string(&summary).unwrap();
        assert!(report.len() < 2_000, "{} bytes", report.len());
        assert_eq!(summary.errors[0].reason.chars().count(), 301);
        assert!(summary.errors[0].reason.ends_with('…'));
        assert_eq!(summary.rejected, 1);
    }
}
