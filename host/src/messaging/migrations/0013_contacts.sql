-- Every contact a plan decided: the customer, the channel, the message's
-- category, tags and campaign, when it goes (or that it was dropped and
-- why), and the trail of what each step decided. Planned contacts are the
-- history the fatigue policy counts: a plan reserves its contact here in
-- the same transaction that holds the customer's lock.
CREATE TABLE contacts (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    id          TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    channel     TEXT,
    category    TEXT NOT NULL,
    tags        TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    send_at     BIGINT,
    status      TEXT NOT NULL,
    reason      TEXT,
    trail       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX contacts_by_customer ON contacts (merchant_id, customer_id, send_at);

-- An inbound SMS finds its customers by number.
CREATE INDEX customers_by_phone ON customers (merchant_id, phone);
