CREATE TABLE widget_settings (
    merchant_id TEXT PRIMARY KEY REFERENCES merchants(id),
    settings    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE TABLE article_votes (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    article_id  TEXT NOT NULL,
    visitor     TEXT NOT NULL,
    helpful     BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, article_id, visitor)
);
CREATE TABLE surveys (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    id          TEXT NOT NULL,
    definition  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE TABLE survey_answers (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    id          TEXT NOT NULL,
    survey_id   TEXT NOT NULL,
    visitor     TEXT NOT NULL,
    locale      TEXT NOT NULL,
    page        TEXT NOT NULL,
    answers     TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX survey_answers_by_survey ON survey_answers (merchant_id, survey_id, received_at)
