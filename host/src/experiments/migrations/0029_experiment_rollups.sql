-- Results from rollups: each exposure's part in its arm's figures is kept,
-- and figured again only when the unit's orders or events change (it is
-- then stale), so a results page reads a few rows per arm and day.

-- Stale: 1 to be figured again (2 while it is, inside one transaction),
-- 0 figured. Converted: what it counted as (NULL: not yet in the rollup).
ALTER TABLE experiment_exposures ADD COLUMN stale INTEGER NOT NULL DEFAULT 1;
ALTER TABLE experiment_exposures ADD COLUMN converted INTEGER;
CREATE INDEX experiment_exposures_by_unit ON experiment_exposures (merchant_id, unit);
CREATE INDEX experiment_exposures_stale ON experiment_exposures (merchant_id, experiment, stale, unit);

-- What a rollup counts by; when the experiment's definition changes it,
-- the rollup is figured again from the start.
CREATE TABLE experiment_rollup_basis (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    experiment  TEXT NOT NULL,
    event       TEXT NOT NULL,
    window_ms   BIGINT NOT NULL,
    before_ms   BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, experiment)
);

-- A rolled-up exposure's orders in its windows, per currency: how many,
-- the money after and before the exposure, and the orders after.
CREATE TABLE experiment_unit_orders (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    experiment  TEXT NOT NULL,
    unit        TEXT NOT NULL,
    currency    TEXT NOT NULL,
    orders      BIGINT NOT NULL,
    rev         DOUBLE PRECISION NOT NULL,
    pre         DOUBLE PRECISION NOT NULL,
    cnt         DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (merchant_id, experiment, unit, currency)
);

-- Per arm and day of exposure: exposures and conversions (currency ''),
-- and per currency the orders and the sums the revenue's means read.
CREATE TABLE experiment_rollups (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    experiment  TEXT NOT NULL,
    variation   INTEGER NOT NULL,
    day         BIGINT NOT NULL,
    currency    TEXT NOT NULL,
    exposures   BIGINT NOT NULL,
    conversions BIGINT NOT NULL,
    orders      BIGINT NOT NULL,
    rev         DOUBLE PRECISION NOT NULL,
    rev2        DOUBLE PRECISION NOT NULL,
    pre         DOUBLE PRECISION NOT NULL,
    pre2        DOUBLE PRECISION NOT NULL,
    rev_pre     DOUBLE PRECISION NOT NULL,
    cnt         DOUBLE PRECISION NOT NULL,
    cnt2        DOUBLE PRECISION NOT NULL,
    rev_cnt     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (merchant_id, experiment, variation, day, currency)
);
