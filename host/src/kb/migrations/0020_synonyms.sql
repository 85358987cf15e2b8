CREATE TABLE kb_synonyms (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    locale      TEXT NOT NULL,
    groups      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, locale)
)
