CREATE TABLE merchants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE api_keys (
    key_hash    TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    created_at  BIGINT NOT NULL
);
CREATE TABLE plugins (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    version      TEXT NOT NULL,
    publisher    TEXT NOT NULL,
    world        TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    wasm         BLOB NOT NULL,
    published_at BIGINT NOT NULL,
    yanked_at    BIGINT,
    UNIQUE (name, version)
);
CREATE TABLE binding_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id    TEXT NOT NULL REFERENCES merchants(id),
    slot           TEXT NOT NULL,
    action         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    from_plugin_id BIGINT REFERENCES plugins(id),
    from_config    TEXT,
    to_plugin_id   BIGINT REFERENCES plugins(id),
    to_config      TEXT,
    at             BIGINT NOT NULL
);
CREATE INDEX binding_events_by_slot ON binding_events (merchant_id, slot, id);
CREATE TABLE bindings (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    slot        TEXT NOT NULL,
    plugin_id   BIGINT NOT NULL REFERENCES plugins(id),
    config      TEXT NOT NULL,
    event_id    BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, slot)
);
