-- A candidate version shadowing a merchant's slot: it sees every call
-- too, and only its findings are kept.
CREATE TABLE shadows (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    slot        TEXT NOT NULL,
    plugin_id   BIGINT NOT NULL REFERENCES plugins(id),
    started_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, slot)
);
