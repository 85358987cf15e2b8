//! Persistence: merchants, API keys, plugins, bindings and their audit
//! log, and the migrations of the platform and every feature. One implementation over sqlx's `Any` driver with
//! SQL that both SQLite (embedded default) and PostgreSQL (scale-out)
//! accept; DDL that differs lives per database in
//! `migrations/{sqlite,postgres}`, the rest once in `migrations/common`.
//! Each feature adds its own queries in its folder (`impl Store` there).

use sqlx::any::{AnyPoolOptions, AnyRow};

use super::feature::{Feature, Migration};
use sqlx::{AnyPool, Row};

/// A store failure the API can explain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row with the same key exists.
    #[error("already exists")]
    Conflict,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A published plugin version (without its bytes).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PluginRow {
    /// Row id.
    #[serde(skip)]
    pub id: i64,
    /// Plugin name.
    pub name: String,
    /// Semver version.
    pub version: String,
    /// Who published it.
    pub publisher: String,
    /// The world (slot) it implements.
    pub world: String,
    /// The contract version (`cove:policy@…`) it was built against.
    pub contract: String,
    /// Hex sha256 of the component bytes.
    pub sha256: String,
    /// Component size in bytes.
    pub size_bytes: i64,
    /// Publish time, ms since epoch.
    pub published_at: i64,
    /// Yank time, if yanked.
    pub yanked_at: Option<i64>,
    /// Whether its publisher's registered key signed it.
    pub signed: bool,
}

/// A publisher with its Ed25519 key.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PublisherRow {
    /// Its name (what a plugin's `publisher` names).
    pub name: String,
    /// Its Ed25519 public key, hex.
    pub public_key: String,
    /// Registered, ms since epoch.
    pub created_at: i64,
    /// When its key was revoked: its versions can no longer be bound.
    pub revoked_at: Option<i64>,
}

/// A merchant's current binding for one slot.
#[derive(Clone, Debug)]
pub struct BindingRow {
    /// Merchant id.
    pub merchant_id: String,
    /// Slot (world name).
    pub slot: String,
    /// Bound plugin version.
    pub plugin_id: i64,
    /// Config as a JSON object text.
    pub config: String,
    /// The audit event that made this binding.
    pub event_id: i64,
}

/// One audit-log entry.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct EventRow {
    /// Event id (increasing).
    pub id: i64,
    /// Merchant.
    pub merchant_id: String,
    /// Slot, or the other thing that changed (`keys`, `links`, or what a
    /// feature records).
    pub slot: String,
    /// `bind`, `rollback`, `config` or `default` for a slot; `create`,
    /// `roll`, `revoke` or `set` for the others.
    pub action: String,
    /// Who did it.
    pub actor: String,
    /// `name@version` bound before, if any.
    pub from: Option<String>,
    /// Config before.
    #[schema(value_type = Option<Object>)]
    pub from_config: Option<serde_json::Value>,
    /// `name@version` bound after.
    pub to: Option<String>,
    /// Config after.
    #[schema(value_type = Option<Object>)]
    pub to_config: Option<serde_json::Value>,
    /// When, ms since epoch.
    pub at: i64,
}

/// The platform's own migrations after the first: the same SQL on both
/// databases.
const PLATFORM_MIGRATIONS: &[Migration] = &[
    Migration::new(
        4,
        "contract",
        include_str!("../../migrations/common/0004_contract.sql"),
    ),
    Migration::new(
        5,
        "merchant limits",
        include_str!("../../migrations/common/0005_merchant_limits.sql"),
    ),
    Migration::new(
        6,
        "console",
        include_str!("../../migrations/common/0006_console.sql"),
    ),
    Migration::new(
        17,
        "upload quota",
        include_str!("../../migrations/common/0017_upload_quota.sql"),
    ),
    Migration::new(
        19,
        "link keys",
        include_str!("../../migrations/common/0019_link_keys.sql"),
    ),
    Migration::new(
        21,
        "api key details",
        include_str!("../../migrations/common/0021_api_key_details.sql"),
    ),
    Migration::new(
        23,
        "team",
        include_str!("../../migrations/common/0023_team.sql"),
    ),
    Migration::new(
        25,
        "publishers",
        include_str!("../../migrations/common/0025_publishers.sql"),
    ),
    Migration::new(
        26,
        "shadows",
        include_str!("../../migrations/common/0026_shadows.sql"),
    ),
    Migration::new(
        27,
        "canaries",
        include_str!("../../migrations/common/0027_canaries.sql"),
    ),
    Migration::new(
        28,
        "shadow counts",
        include_str!("../../migrations/common/0028_shadow_counts.sql"),
    ),
];

/// The checksums (SHA-384) of the first migration as released, which also
/// created the RFM scorer's `rfm_last_scores` (now RFM's own migration,
/// which creates it where it is missing). Databases made then keep
/// opening: the shorter text is recorded under the released checksum.
const INIT_RELEASED_SQLITE: &str = "416e45093d818606607de1076654d7d616ef51b206da19b4800a7c60be0ca780d6ecbdcad1fe20d10aead07dad59ec66";
const INIT_RELEASED_POSTGRES: &str = "cb018c9ed66ed54f5bd4e4043a9841a240d6821478eb99c50373a5877b142e331b439c3728aa8e74a69b645069633095";

/// Every migration of one database, in version order: the platform's
/// first, which creates its tables with the database's own key types
/// (`migrations/{sqlite,postgres}`), the platform's others, and each
/// feature's, from its folder. Versions are unique (checked).
pub fn migrations(
    sqlite: bool,
    features: &[&'static Feature],
) -> anyhow::Result<Vec<sqlx::migrate::Migration>> {
    let (init, released) = if sqlite {
        (
            include_str!("../../migrations/sqlite/0001_init.sql"),
            INIT_RELEASED_SQLITE,
        )
    } else {
        (
            include_str!("../../migrations/postgres/0001_init.sql"),
            INIT_RELEASED_POSTGRES,
        )
    };
    const PLATFORM: Feature = Feature {
        name: "platform",
        migrations: PLATFORM_MIGRATIONS,
        ..Feature::EMPTY
    };
    let mut all: Vec<&'static Feature> = vec![&PLATFORM];
    all.extend(features);
    let mut seen = std::collections::BTreeMap::new();
    for f in &all {
        for m in f.migrations {
            if m.version <= 1 {
                anyhow::bail!(
                    "migration {} of `{}`: version 1 is the platform's first",
                    m.version,
                    f.name
                );
            }
            if let Some(other) = seen.insert(m.version, f.name) {
                anyhow::bail!(
                    "migrations of `{other}` and `{}` share version {}",
                    f.name,
                    m.version
                );
            }
        }
    }
    let mut out = vec![sqlx::migrate::Migration {
        checksum: std::borrow::Cow::Owned(hex::decode(released)?),
        ..migration(1, "init", init)
    }];
    out.extend(
        super::feature::migrations(&all)
            .into_iter()
            .map(|m| migration(m.version, m.description, m.sql)),
    );
    Ok(out)
}

fn migration(
    version: i64,
    description: &'static str,
    sql: &'static str,
) -> sqlx::migrate::Migration {
    sqlx::migrate::Migration::new(
        version,
        std::borrow::Cow::Borrowed(description),
        sqlx::migrate::MigrationType::Simple,
        sqlx::SqlStr::from_static(sql),
        false,
    )
}

/// A feature's view of the database: a type of the feature's own whose
/// methods are its queries, so a read of another feature's tables names
/// that feature (`RfmDb(&state.store).rfm_segments(…)`, with its `use`).
/// The platform's own queries stay on [`Store`], which the view derefs to.
#[macro_export]
macro_rules! feature_store {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $name<'a>(pub &'a $crate::platform::store::Store);

        impl std::ops::Deref for $name<'_> {
            type Target = $crate::platform::store::Store;

            fn deref(&self) -> &Self::Target {
                self.0
            }
        }
    };
}

/// The database.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) sqlite: bool,
    /// PostgreSQL's own driver beside the generic pool, for what only it
    /// can do (`COPY`, array parameters); `None` on SQLite.
    pub(crate) pg: Option<sqlx::PgPool>,
}

macro_rules! plugin_cols {
    () => {
        "id, name, version, publisher, world, contract, sha256, size_bytes, published_at, yanked_at, signed"
    };
}

fn plugin_row(r: &AnyRow) -> Result<PluginRow, sqlx::Error> {
    Ok(PluginRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        version: r.try_get("version")?,
        publisher: r.try_get("publisher")?,
        world: r.try_get("world")?,
        contract: r.try_get("contract")?,
        sha256: r.try_get("sha256")?,
        size_bytes: r.try_get("size_bytes")?,
        published_at: r.try_get("published_at")?,
        yanked_at: r.try_get("yanked_at")?,
        signed: r.try_get::<i64, _>("signed")? != 0,
    })
}

/// Whether `merchant` has row `id` in `table` (one of this module's own).
pub(crate) async fn exists(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    table: &'static str,
    merchant: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM {table} WHERE merchant_id = $1 AND id = $2"
    )))
    .bind(merchant)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .is_some())
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// Placeholder `n` (1-based) of a statement: `?` on SQLite, whose
    /// driver looks numbered ones up by name one by one (quadratic in a
    /// statement's parameters), `$n` on PostgreSQL. A statement using it
    /// binds its parameters in order, each once.
    pub(crate) fn mark(&self, n: usize) -> String {
        if self.sqlite {
            "?".into()
        } else {
            format!("${n}")
        }
    }

    /// Connect to `url` (`sqlite://PATH` or `postgres://…`), creating a
    /// SQLite file if needed, and apply pending migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let url = if sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
        } else {
            url.to_string()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 8 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        use sqlx::Executor;
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let pg = (!sqlite)
            .then(|| {
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(6)
                    .connect_lazy(&url)
            })
            .transpose()?;
        let store = Store { pool, sqlite, pg };
        store.migrate().await?;
        Ok(store)
    }

    /// Apply pending migrations with sqlx's migrator (checksummed, locked
    /// against concurrent first starts of several replicas, one
    /// transaction each). The SQL files are compiled into the binary.
    async fn migrate(&self) -> anyhow::Result<()> {
        let migrator =
            sqlx::migrate::Migrator::with_migrations(migrations(self.sqlite, crate::FEATURES)?);
        self.adopt_legacy_migrations(&migrator).await?;
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Databases made before sqlx's migrator was used record their
    /// migrations in `cove_migrations`: carry those over, once, so they
    /// are not applied again.
    async fn adopt_legacy_migrations(
        &self,
        migrator: &sqlx::migrate::Migrator,
    ) -> anyhow::Result<()> {
        use sqlx::migrate::Migrate;
        let mut tx = self.write_tx().await?;
        let legacy: Vec<i64> = match sqlx::query("SELECT version FROM cove_migrations")
            .fetch_all(&mut *tx)
            .await
        {
            Ok(rows) => rows
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?,
            // No such table: nothing to adopt.
            Err(_) => return Ok(()),
        };
        tx.ensure_migrations_table(&migrator.table_name).await?;
        for m in migrator.iter().filter(|m| legacy.contains(&m.version)) {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {} (version, description, success, checksum, execution_time) \
                 VALUES ($1, $2, TRUE, $3, 0) ON CONFLICT (version) DO NOTHING",
                migrator.table_name
            )))
            .bind(m.version)
            .bind(m.description.to_string())
            .bind(m.checksum.to_vec())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DROP TABLE cove_migrations")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A transaction that will write. SQLite must take the write lock up
    /// front: a deferred transaction that reads first and then writes
    /// fails with "database is locked" when another writer got in between.
    pub(crate) async fn write_tx(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        if self.sqlite {
            self.pool.begin_with("BEGIN IMMEDIATE").await
        } else {
            self.pool.begin().await
        }
    }

    /// Every column of every table, as (table, column), from the
    /// database's own schema.
    pub async fn columns(&self) -> Result<Vec<(String, String)>, StoreError> {
        let sql = if self.sqlite {
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' ORDER BY m.name, p.cid"
        } else {
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Create a merchant and its first API key (stored hashed, named
    /// `first key`, with every scope).
    pub async fn create_merchant(
        &self,
        id: &str,
        name: &str,
        secret: &str,
    ) -> Result<(), StoreError> {
        self.create_merchant_bound(id, name, secret, &[]).await
    }

    /// [`Store::create_merchant`] with its default bindings `(slot,
    /// plugin id, config)`, in one transaction: all of it commits, or
    /// nothing does (a binding that fails leaves no merchant and no key).
    pub async fn create_merchant_bound(
        &self,
        id: &str,
        name: &str,
        secret: &str,
        defaults: &[(&str, i64, String)],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let now = crate::now_ms();
        sqlx::query("INSERT INTO merchants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict
                } else {
                    e.into()
                }
            })?;
        self.insert_key(
            &mut tx,
            id,
            secret,
            "first key",
            super::keys::Scopes::all(),
            None,
        )
        .await?;
        for (slot, plugin_id, config) in defaults {
            Self::bind_in(&mut tx, id, slot, *plugin_id, config, "system", "default").await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether a merchant exists.
    pub async fn merchant_exists(&self, id: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT id FROM merchants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Store a new plugin version. `Conflict` if name@version exists.
    pub async fn insert_plugin(&self, p: &PluginRow, wasm: &[u8]) -> Result<PluginRow, StoreError> {
        let row = sqlx::query(concat!(
            "INSERT INTO plugins (name, version, publisher, world, contract, sha256, size_bytes, wasm, published_at, signed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ",
            plugin_cols!()
        ))
        .bind(&p.name)
        .bind(&p.version)
        .bind(&p.publisher)
        .bind(&p.world)
        .bind(&p.contract)
        .bind(&p.sha256)
        .bind(p.size_bytes)
        .bind(wasm.to_vec())
        .bind(p.published_at)
        .bind(i64::from(p.signed))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict } else { e.into() })?;
        Ok(plugin_row(&row)?)
    }

    /// Register a publisher; `Conflict` if the name is taken.
    pub async fn insert_publisher(&self, p: &PublisherRow) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO publishers (name, public_key, created_at) VALUES ($1, $2, $3)")
            .bind(&p.name)
            .bind(&p.public_key)
            .bind(p.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict
                } else {
                    e.into()
                }
            })?;
        Ok(())
    }

    /// Every publisher, by name.
    pub async fn publishers(&self) -> Result<Vec<PublisherRow>, StoreError> {
        self.publishers_where(None).await
    }

    /// Publisher `name`, if registered.
    pub async fn publisher(&self, name: &str) -> Result<Option<PublisherRow>, StoreError> {
        Ok(self.publishers_where(Some(name)).await?.pop())
    }

    async fn publishers_where(&self, name: Option<&str>) -> Result<Vec<PublisherRow>, StoreError> {
        sqlx::query(
            "SELECT name, public_key, created_at, revoked_at FROM publishers \
             WHERE CAST($1 AS TEXT) IS NULL OR name = CAST($1 AS TEXT) ORDER BY name",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(PublisherRow {
                name: r.try_get(0)?,
                public_key: r.try_get(1)?,
                created_at: r.try_get(2)?,
                revoked_at: r.try_get(3)?,
            })
        })
        .collect()
    }

    /// Revoke `name`'s key at `at`; false if there is no such publisher.
    pub async fn revoke_publisher(&self, name: &str, at: i64) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE publishers SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
        )
        .bind(name)
        .bind(at)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Every shadow in force: merchant, slot, plugin id, since.
    pub async fn shadows(&self) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
        sqlx::query("SELECT merchant_id, slot, plugin_id, started_at FROM shadows")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect()
    }

    /// Set (or with `None`, end) the shadow of `merchant`'s `slot`.
    pub async fn set_shadow(
        &self,
        merchant: &str,
        slot: &str,
        plugin_id: Option<i64>,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM shadows WHERE merchant_id = $1 AND slot = $2")
            .bind(merchant)
            .bind(slot)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM shadow_counts WHERE merchant_id = $1 AND slot = $2")
            .bind(merchant)
            .bind(slot)
            .execute(&mut *tx)
            .await?;
        if let Some(id) = plugin_id {
            sqlx::query("INSERT INTO shadows (merchant_id, slot, plugin_id, started_at) VALUES ($1, $2, $3, $4)")
                .bind(merchant)
                .bind(slot)
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Write what `replica` found shadowing `merchant`'s `slot` (the
    /// shadow that started at `started_at`).
    pub async fn put_shadow_stats(
        &self,
        merchant: &str,
        slot: &str,
        replica: &str,
        started_at: i64,
        stats: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO shadow_counts (merchant_id, slot, replica, started_at, stats) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (merchant_id, slot, replica) DO UPDATE SET started_at = excluded.started_at, stats = excluded.stats",
        )
        .bind(merchant)
        .bind(slot)
        .bind(replica)
        .bind(started_at)
        .bind(stats)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// What every replica found shadowing `merchant`'s `slot` since
    /// `started_at`, by replica.
    pub async fn shadow_stats(
        &self,
        merchant: &str,
        slot: &str,
        started_at: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query(
            "SELECT replica, stats FROM shadow_counts WHERE merchant_id = $1 AND slot = $2 AND started_at = $3",
        )
        .bind(merchant)
        .bind(slot)
        .bind(started_at)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
    }

    /// All plugin versions, by name then publish order.
    pub async fn list_plugins(&self) -> Result<Vec<PluginRow>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            plugin_cols!(),
            " FROM plugins ORDER BY name, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(plugin_row).collect::<Result<_, _>>()?)
    }

    /// One plugin version by name and version.
    pub async fn get_plugin(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<PluginRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            plugin_cols!(),
            " FROM plugins WHERE name = $1 AND version = $2"
        ))
        .bind(name)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(plugin_row).transpose()?)
    }

    /// One plugin version by row id.
    pub async fn plugin_by_id(&self, id: i64) -> Result<Option<PluginRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            plugin_cols!(),
            " FROM plugins WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(plugin_row).transpose()?)
    }

    /// The component bytes of a plugin version.
    pub async fn plugin_wasm(&self, id: i64) -> Result<Vec<u8>, StoreError> {
        Ok(sqlx::query("SELECT wasm FROM plugins WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// Mark a version yanked: it can no longer be bound; bindings in force keep it.
    pub async fn yank(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE plugins SET yanked_at = $1 WHERE id = $2 AND yanked_at IS NULL")
            .bind(crate::now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Point a merchant's slot at a plugin version and config, and record
    /// who did it in the audit log, in one transaction.
    pub async fn bind(
        &self,
        merchant: &str,
        slot: &str,
        plugin_id: i64,
        config: &str,
        actor: &str,
        action: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write_tx().await?;
        let event =
            Self::bind_in(&mut tx, merchant, slot, plugin_id, config, actor, action).await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Record a change that is not a binding in the audit log: `subject`
    /// (`keys`, `links`, or a feature's), what was done, by whom, and what
    /// it was done to (`detail`, shown as the event's `to_config`).
    pub async fn record_event(
        &self,
        merchant: &str,
        subject: &str,
        action: &str,
        actor: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO binding_events (merchant_id, slot, action, actor, to_config, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(merchant)
        .bind(subject)
        .bind(action)
        .bind(actor)
        .bind(detail.to_string())
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`Store::bind`] within `tx`.
    async fn bind_in(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        merchant: &str,
        slot: &str,
        plugin_id: i64,
        config: &str,
        actor: &str,
        action: &str,
    ) -> Result<i64, StoreError> {
        let current = sqlx::query(
            "SELECT plugin_id, config FROM bindings WHERE merchant_id = $1 AND slot = $2",
        )
        .bind(merchant)
        .bind(slot)
        .fetch_optional(&mut **tx)
        .await?;
        let (from_id, from_config): (Option<i64>, Option<String>) = match &current {
            Some(r) => (Some(r.try_get(0)?), Some(r.try_get(1)?)),
            None => (None, None),
        };
        let event_id: i64 = sqlx::query(
            "INSERT INTO binding_events (merchant_id, slot, action, actor, from_plugin_id, from_config, to_plugin_id, to_config, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(merchant)
        .bind(slot)
        .bind(action)
        .bind(actor)
        .bind(from_id)
        .bind(from_config)
        .bind(plugin_id)
        .bind(config)
        .bind(crate::now_ms())
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
        sqlx::query(
            "INSERT INTO bindings (merchant_id, slot, plugin_id, config, event_id) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (merchant_id, slot) DO UPDATE SET plugin_id = excluded.plugin_id, config = excluded.config, event_id = excluded.event_id",
        )
        .bind(merchant)
        .bind(slot)
        .bind(plugin_id)
        .bind(config)
        .bind(event_id)
        .execute(&mut **tx)
        .await?;
        Ok(event_id)
    }

    /// The binding in force before the current one (the latest event's
    /// `from`), if there was one.
    pub async fn previous_binding(
        &self,
        merchant: &str,
        slot: &str,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT from_plugin_id, from_config FROM binding_events WHERE merchant_id = $1 AND slot = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(merchant)
        .bind(slot)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => {
                let id: Option<i64> = r.try_get(0)?;
                let config: Option<String> = r.try_get(1)?;
                id.zip(config)
            }
            None => None,
        })
    }

    /// Every binding, optionally of one merchant.
    pub async fn bindings(&self, merchant: Option<&str>) -> Result<Vec<BindingRow>, StoreError> {
        let rows = match merchant {
            Some(m) => {
                sqlx::query("SELECT merchant_id, slot, plugin_id, config, event_id FROM bindings WHERE merchant_id = $1 ORDER BY slot")
                    .bind(m)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT merchant_id, slot, plugin_id, config, event_id FROM bindings ORDER BY merchant_id, slot")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(BindingRow {
                    merchant_id: r.try_get(0)?,
                    slot: r.try_get(1)?,
                    plugin_id: r.try_get(2)?,
                    config: r.try_get(3)?,
                    event_id: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The audit log's event count and newest id: replicas poll it to
    /// notice binding changes made elsewhere. The count matters on
    /// PostgreSQL, where an event given an id before another may commit
    /// after it: the newest id alone would not move, the count does.
    pub async fn audit_fingerprint(&self) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM binding_events",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// A merchant's audit log, newest first.
    pub async fn audit(&self, merchant: &str) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.merchant_id, e.slot, e.action, e.actor, \
                    f.name || '@' || f.version AS from_ref, e.from_config, \
                    t.name || '@' || t.version AS to_ref, e.to_config, e.at \
             FROM binding_events e \
             LEFT JOIN plugins f ON f.id = e.from_plugin_id \
             LEFT JOIN plugins t ON t.id = e.to_plugin_id \
             WHERE e.merchant_id = $1 ORDER BY e.id DESC",
        )
        .bind(merchant)
        .fetch_all(&self.pool)
        .await?;
        let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        rows.iter()
            .map(|r| {
                Ok(EventRow {
                    id: r.try_get(0)?,
                    merchant_id: r.try_get(1)?,
                    slot: r.try_get(2)?,
                    action: r.try_get(3)?,
                    actor: r.try_get(4)?,
                    from: r.try_get(5)?,
                    from_config: json(r.try_get(6)?),
                    to: r.try_get(7)?,
                    to_config: json(r.try_get(8)?),
                    at: r.try_get(9)?,
                })
            })
            .collect()
    }

    /// Delete `merchant`'s row `id` of `table` and the rows of the child
    /// table (name, column) that point at it, at once; false if there was
    /// none. Table names are this module's own, never input.
    pub(crate) async fn delete_with_children(
        &self,
        table: &'static str,
        (child, column): (&'static str, &'static str),
        merchant: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {child} WHERE merchant_id = $1 AND {column} = $2"
        )))
        .bind(merchant)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE merchant_id = $1 AND id = $2"
        )))
        .bind(merchant)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(gone == 1)
    }

    /// Set a merchant's limits (replacing earlier ones).
    pub async fn set_merchant_limits(
        &self,
        merchant: &str,
        l: &crate::platform::fair::MerchantLimits,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO merchant_limits (merchant_id, requests_per_sec, burst, plugin_calls, upload_mb, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (merchant_id) DO UPDATE SET \
             requests_per_sec = excluded.requests_per_sec, burst = excluded.burst, \
             plugin_calls = excluded.plugin_calls, upload_mb = excluded.upload_mb, \
             updated_at = excluded.updated_at",
        )
        .bind(merchant)
        .bind(l.requests_per_sec)
        .bind(l.burst)
        .bind(i64::from(l.plugin_calls))
        .bind(i64::from(l.upload_mb))
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every merchant's limits set by the operator.
    pub async fn merchant_limits(
        &self,
    ) -> Result<std::collections::HashMap<String, crate::platform::fair::MerchantLimits>, StoreError>
    {
        let rows = sqlx::query(
            "SELECT merchant_id, requests_per_sec, burst, plugin_calls, upload_mb FROM merchant_limits",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let calls: i64 = r.try_get(3)?;
                let upload_mb: i64 = r.try_get(4)?;
                Ok((
                    r.try_get(0)?,
                    crate::platform::fair::MerchantLimits {
                        requests_per_sec: r.try_get(1)?,
                        burst: r.try_get(2)?,
                        plugin_calls: u32::try_from(calls).unwrap_or(1),
                        upload_mb: u32::try_from(upload_mb).unwrap_or(0),
                    },
                ))
            })
            .collect()
    }
}
