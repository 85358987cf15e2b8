-- The RFM scorer's last good score per customer, kept for the slot's
-- fallback. Databases made before this migration have it from the
-- platform's first migration, which created it then.
CREATE TABLE IF NOT EXISTS rfm_last_scores (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    customer_id TEXT NOT NULL,
    score       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, customer_id)
);
