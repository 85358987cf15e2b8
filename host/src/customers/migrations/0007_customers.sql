-- Customer data, per merchant. Every table that holds a customer's
-- personal data has `merchant_id` and `customer_id` (or is `customers`
-- itself), so erasure can find it (see README, "Customer data").
-- `row_hash` is the hash of the imported record: a record that did not
-- change is not written again.
CREATE TABLE customers (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    id          TEXT NOT NULL,
    email       TEXT,
    phone       TEXT,
    country     TEXT,
    time_zone   TEXT,
    locale      TEXT,
    birthday    TEXT,
    tier        TEXT,
    tags        TEXT NOT NULL,
    created_at  BIGINT,
    attributes  TEXT NOT NULL,
    row_hash    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX customers_by_email ON customers (merchant_id, email);

-- Consent changes per customer and channel; the latest one holds.
CREATE TABLE consents (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    id          TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL,
    source      TEXT,
    at          BIGINT NOT NULL,
    row_hash    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX consents_by_customer ON consents (merchant_id, customer_id, channel, at);

-- Orders with their line items and parcel deliveries (JSON), money in
-- minor units of the order's currency.
CREATE TABLE orders (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    id          TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    placed_at   BIGINT NOT NULL,
    currency    TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    platform    TEXT NOT NULL,
    status      TEXT NOT NULL,
    items       TEXT NOT NULL,
    deliveries  TEXT NOT NULL,
    row_hash    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX orders_by_customer ON orders (merchant_id, customer_id, placed_at);

-- Engagement and commerce events, by the merchant's event id.
CREATE TABLE customer_events (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    id          TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    channel     TEXT,
    campaign_id TEXT,
    at          BIGINT NOT NULL,
    sku         TEXT,
    row_hash    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX customer_events_by_customer ON customer_events (merchant_id, customer_id, at);

-- Who exported or erased which customer, when (the record of the request,
-- without the data).
CREATE TABLE privacy_log (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    customer_id TEXT NOT NULL,
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    detail      TEXT NOT NULL
);
