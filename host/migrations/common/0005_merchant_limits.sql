-- Per-merchant limits set by the operator (request rate, burst, plugin
-- calls at once); merchants without a row get the host's defaults.
CREATE TABLE merchant_limits (
    merchant_id      TEXT PRIMARY KEY REFERENCES merchants(id),
    requests_per_sec DOUBLE PRECISION NOT NULL,
    burst            DOUBLE PRECISION NOT NULL,
    plugin_calls     BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
