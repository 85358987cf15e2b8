-- The decision log: a sample of each merchant's plugin calls (every
-- failure, fallback and refusal; a share of the rest), each replayable.
CREATE TABLE decision_log (
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    id           TEXT NOT NULL,
    slot         TEXT NOT NULL,
    at           BIGINT NOT NULL,
    seed         TEXT NOT NULL,
    plugin       TEXT NOT NULL,
    contract     TEXT NOT NULL,
    config       TEXT NOT NULL,
    input        TEXT,
    input_bytes  BIGINT NOT NULL,
    result       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    fuel         BIGINT NOT NULL,
    memory_bytes BIGINT NOT NULL,
    micros       BIGINT NOT NULL,
    logs         TEXT NOT NULL,
    customer     TEXT,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX decision_log_by_time ON decision_log (merchant_id, at);
CREATE INDEX decision_log_by_customer ON decision_log (merchant_id, customer);

-- A merchant's choices for its log (defaults apply without a row).
CREATE TABLE decision_settings (
    merchant_id    TEXT PRIMARY KEY REFERENCES merchants(id),
    sample_rate    DOUBLE PRECISION NOT NULL,
    retention_days BIGINT NOT NULL,
    max_rows       BIGINT NOT NULL
);
