-- What each replica's shadow of a slot found (JSON), added up for the
-- report; `started_at` is the shadow's, so an earlier shadow's rows are
-- never counted.
CREATE TABLE shadow_counts (
    merchant_id TEXT NOT NULL,
    slot        TEXT NOT NULL,
    replica     TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    stats       TEXT NOT NULL,
    PRIMARY KEY (merchant_id, slot, replica)
);
