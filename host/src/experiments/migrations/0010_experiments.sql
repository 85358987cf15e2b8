-- A/B and multivariate experiments: the definition (GrowthBook's shape,
-- JSON), its status, a bandit's current weights, and what a stopped one
-- serves.
CREATE TABLE experiments (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    key         TEXT NOT NULL,
    definition  TEXT NOT NULL,
    status      TEXT NOT NULL,
    weights     TEXT,
    weights_at  BIGINT,
    served      INTEGER,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    started_at  BIGINT,
    stopped_at  BIGINT,
    PRIMARY KEY (merchant_id, key)
);

-- A bandit's units keep their arm when the weights move (sticky).
CREATE TABLE experiment_units (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    experiment  TEXT NOT NULL,
    unit        TEXT NOT NULL,
    variation   INTEGER NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, experiment, unit)
);

-- A unit's first exposure to an experiment; later ones, or the same event
-- id again, change nothing.
CREATE TABLE experiment_exposures (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    experiment  TEXT NOT NULL,
    unit        TEXT NOT NULL,
    variation   INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, experiment, unit)
);
CREATE UNIQUE INDEX experiment_exposures_by_event ON experiment_exposures (merchant_id, event_id);

-- Conversion events by the merchant's event id (orders and customer
-- events of the conversion event's name count too).
CREATE TABLE experiment_conversions (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    event_id    TEXT NOT NULL,
    unit        TEXT NOT NULL,
    event       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, event_id)
);
CREATE INDEX experiment_conversions_by_unit ON experiment_conversions (merchant_id, unit, event, at);
