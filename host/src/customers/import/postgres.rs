//! PostgreSQL's writer: new rows by `COPY`, changed ones in one
//! statement with one array per column.

use super::{Entity, Rows};
use crate::customers::model::Cell;

/// PostgreSQL: a whole batch in one transaction: new rows by `COPY` (a
/// key that is there after all fails the batch, see `is_conflict`),
/// changed ones upserted in one statement, each column sent as one array
/// (`unnest`).
pub(super) async fn array_batch(
    pg: &sqlx::PgPool,
    merchant: &str,
    entity: Entity,
    new: &Rows,
    changed: &Rows,
) -> Result<(), sqlx::Error> {
    let table = entity.table();
    let columns = entity.columns();
    let now = crate::now_ms();
    let mut tx = pg.begin().await?;
    // `COPY` for a file's batches; live events, a few at a time, are
    // not held back by its data-then-done exchange (see `copy_new`).
    let copy = new.len() >= COPY_AT_LEAST;
    if copy {
        copy_new(&mut tx, merchant, entity, now, new).await?;
    }
    for (rows, upsert) in [(new, false), (changed, true)] {
        if copy && !upsert {
            continue;
        }
        let Some((first, _)) = rows.first() else {
            continue;
        };
        let mut arrays = Vec::with_capacity(columns.len());
        let mut q = String::new();
        for (i, c) in first.iter().enumerate() {
            arrays.push(format!(
                "${}::{}[]",
                i + 3,
                if matches!(c, Cell::Int(_)) {
                    "bigint"
                } else {
                    "text"
                }
            ));
        }
        let hash_at = columns.len() + 3;
        q.push_str(&format!(
            "INSERT INTO {table} (merchant_id, {}, row_hash, updated_at) \
             SELECT $1, u.*, $2 FROM unnest({}, ${hash_at}::text[]) AS u",
            columns.join(", "),
            arrays.join(", ")
        ));
        if upsert {
            let updates: Vec<String> = columns[1..]
                .iter()
                .chain(["row_hash", "updated_at"].iter())
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            q.push_str(&format!(
                " ON CONFLICT (merchant_id, id) DO UPDATE SET {}",
                updates.join(", ")
            ));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(q)).bind(merchant).bind(now);
        for (i, c) in first.iter().enumerate() {
            query = match c {
                Cell::Int(_) => query.bind(
                    rows.iter()
                        .map(|(cells, _)| match &cells[i] {
                            Cell::Int(v) => *v,
                            Cell::Text(_) => None,
                        })
                        .collect::<Vec<Option<i64>>>(),
                ),
                Cell::Text(_) => query.bind(
                    rows.iter()
                        .map(|(cells, _)| match &cells[i] {
                            Cell::Text(v) => v.as_deref(),
                            Cell::Int(_) => None,
                        })
                        .collect::<Vec<Option<&str>>>(),
                ),
            };
        }
        query = query.bind(rows.iter().map(|(_, h)| h.as_str()).collect::<Vec<&str>>());
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Batches with fewer new rows than this insert them in one statement.
pub(super) const COPY_AT_LEAST: usize = 500;

/// New rows into their table by text `COPY`: the database's bulk path.
/// Its done message follows the data in a write of its own, which the
/// TCP stack may hold until the data is acknowledged (sqlx sets no
/// `TCP_NODELAY`): tens of milliseconds a batch, hidden by the writers
/// working on several batches at once.
pub(super) async fn copy_new(
    tx: &mut sqlx::PgConnection,
    merchant: &str,
    entity: Entity,
    now: i64,
    rows: &Rows,
) -> Result<(), sqlx::Error> {
    pub(super) fn field(out: &mut Vec<u8>, v: &str) {
        // Tab, newline and return are below space: one comparison finds them.
        let special = |b: &u8| *b < b' ' || *b == b'\\';
        if !v.as_bytes().iter().any(special) {
            out.extend_from_slice(v.as_bytes());
            return;
        }
        for b in v.bytes() {
            match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => out.push(b),
            }
        }
    }
    use std::io::Write;
    let mut copy = tx
        .copy_in_raw(&format!(
            "COPY {} (merchant_id, {}, row_hash, updated_at) FROM STDIN",
            entity.table(),
            entity.columns().join(", ")
        ))
        .await?;
    // Sent in pieces: the database starts on the first while the rest is
    // written, and neither this buffer nor the connection's grows with
    // the batch.
    const PIECE: usize = 256 * 1024;
    let mut data = Vec::with_capacity(PIECE + 4096);
    for (cells, hash) in rows {
        field(&mut data, merchant);
        for c in cells {
            data.push(b'\t');
            match c {
                Cell::Text(Some(v)) => field(&mut data, v),
                Cell::Int(Some(v)) => write!(data, "{v}").expect("writes to memory"),
                Cell::Text(None) | Cell::Int(None) => data.extend_from_slice(b"\\N"),
            }
        }
        data.push(b'\t');
        field(&mut data, hash);
        data.push(b'\t');
        writeln!(data, "{now}").expect("writes to memory");
        if data.len() >= PIECE {
            copy.send(data.as_slice()).await?;
            data.clear();
        }
    }
    copy.send(data).await?;
    copy.finish().await?;
    Ok(())
}
