-- Merchant console sessions: a merchant signed in with its API key. Only
-- the hash of the cookie's token is kept; `csrf` must come back in the
-- `x-cove-csrf` header of every write made with the cookie.
CREATE TABLE console_sessions (
    token_hash  TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- Storefront searches that found nothing: the words and a count per day,
-- nothing about who searched.
CREATE TABLE kb_missed_searches (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    locale      TEXT NOT NULL,
    query       TEXT NOT NULL,
    day         BIGINT NOT NULL,
    searches    BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, locale, query, day)
);

-- Policy decisions per merchant, slot, hour and outcome (`ok`,
-- `plugin_error`, or the failure kind answered with the fallback).
CREATE TABLE call_stats (
    merchant_id TEXT NOT NULL,
    slot        TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    calls       BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, slot, hour, outcome)
);
