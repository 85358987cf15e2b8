-- Canaries: a candidate version answers for a share of a slot's units
-- (sticky by the unit's hash), raised in steps, and is taken back by
-- itself when it misbehaves. One running canary per merchant and slot;
-- ended ones stay for their report.
CREATE TABLE canaries (
    id               BIGINT NOT NULL PRIMARY KEY,
    merchant_id      TEXT NOT NULL REFERENCES merchants(id),
    slot             TEXT NOT NULL,
    plugin_id        BIGINT NOT NULL REFERENCES plugins(id),
    -- The shares of the steps, in percent, as JSON (`[1, 5, 25]`).
    steps            TEXT NOT NULL,
    step             INTEGER NOT NULL,
    -- Minutes between automatic steps; NULL: raised by hand.
    every_minutes    INTEGER,
    max_failure_rise DOUBLE PRECISION NOT NULL,
    max_answer_shift DOUBLE PRECISION NOT NULL,
    -- running, rolled_back, promoted or stopped.
    state            TEXT NOT NULL,
    reason           TEXT,
    started_at       BIGINT NOT NULL,
    stepped_at       BIGINT NOT NULL,
    ended_at         BIGINT
);
CREATE INDEX canaries_by_slot ON canaries (merchant_id, slot, started_at);

-- What each replica has counted for a canary (JSON), summed for the
-- analysis.
CREATE TABLE canary_counts (
    canary_id BIGINT NOT NULL REFERENCES canaries(id) ON DELETE CASCADE,
    replica   TEXT NOT NULL,
    counts    TEXT NOT NULL,
    PRIMARY KEY (canary_id, replica)
);
