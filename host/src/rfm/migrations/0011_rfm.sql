-- RFM runs: what was asked (as of, unit), progress, the model the plugin
-- fitted, segment sizes and the movement from the previous run.
CREATE TABLE rfm_runs (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    id          TEXT NOT NULL,
    as_of       BIGINT NOT NULL,
    time_unit   TEXT NOT NULL,
    status      TEXT NOT NULL,
    done        BIGINT NOT NULL,
    total       BIGINT NOT NULL,
    plugin      TEXT,
    model       TEXT,
    segments    TEXT,
    movement    TEXT,
    error       TEXT,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    PRIMARY KEY (merchant_id, id)
);

-- Each customer's scores and predictions in a run.
CREATE TABLE rfm_scores (
    merchant_id        TEXT NOT NULL REFERENCES merchants(id),
    run_id             TEXT NOT NULL,
    customer_id        TEXT NOT NULL,
    recency            INTEGER NOT NULL,
    frequency          INTEGER NOT NULL,
    monetary           INTEGER NOT NULL,
    segment            TEXT NOT NULL,
    tier               TEXT NOT NULL,
    micro              TEXT NOT NULL,
    p_active           DOUBLE PRECISION,
    expected_purchases DOUBLE PRECISION,
    expected_value     DOUBLE PRECISION,
    clv                DOUBLE PRECISION,
    PRIMARY KEY (merchant_id, run_id, customer_id)
);
CREATE INDEX rfm_scores_by_segment ON rfm_scores (merchant_id, run_id, segment, customer_id);
