CREATE TABLE articles (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    id          TEXT NOT NULL,
    locale      TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    tags        TEXT NOT NULL,
    valid_from  BIGINT,
    valid_until BIGINT,
    helpful     BIGINT NOT NULL DEFAULT 0,
    unhelpful   BIGINT NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX articles_by_locale ON articles (merchant_id, locale)
