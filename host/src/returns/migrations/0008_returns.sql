-- Self-service returns: one row per session, from the customer proving
-- the order to the outcome and, for the human queue, a person's decision.
-- `answers` (the customer's words) is personal data: erasure empties it
-- and unlinks the customer; the rest stays as anonymous aggregates.
CREATE TABLE returns (
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    id           TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    locale       TEXT NOT NULL,
    answers      TEXT NOT NULL,
    step         TEXT NOT NULL,
    status       TEXT NOT NULL,
    queue        TEXT,
    reason       TEXT,
    sku          TEXT,
    category     TEXT,
    quantity     BIGINT,
    currency     TEXT,
    refund_minor BIGINT,
    fees_minor   BIGINT,
    method       TEXT,
    pickup_at    BIGINT,
    note         TEXT,
    decided_by   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    submitted_at BIGINT,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX returns_by_order ON returns (merchant_id, order_id);
CREATE INDEX returns_by_status ON returns (merchant_id, status, created_at);
