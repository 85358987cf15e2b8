//! The writer on any database (SQLite's, and PostgreSQL's when a batch
//! meets rows written meanwhile): multi-row upserts in one transaction.

use super::{Entity, PER_STATEMENT};
use crate::customers::model::Cell;
use crate::platform::store::{Store, StoreError};

/// Write rows with multi-row upserts in one transaction (any database).
pub(super) async fn upsert_batch<'r>(
    store: &Store,
    merchant: &str,
    entity: Entity,
    rows: impl Iterator<Item = &'r (Vec<Cell>, String)>,
) -> Result<(), StoreError> {
    let rows: Vec<_> = rows.collect();
    if rows.is_empty() {
        return Ok(());
    }
    let table = entity.table();
    let columns = entity.columns();
    let width = columns.len() + 3;
    let now = crate::now_ms();
    let mut tx = store.write_tx().await?;
    for chunk in rows.chunks(PER_STATEMENT) {
        let mut values = Vec::with_capacity(chunk.len());
        for i in 0..chunk.len() {
            let marks: Vec<String> = (1..=width).map(|j| store.mark(i * width + j)).collect();
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
        for (cells, hash) in chunk {
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
    Ok(())
}
