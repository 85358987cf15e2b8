-- When a customer's scores in a run were computed again after a new order
-- or event, against that run's model (NULL: as the run scored them).
ALTER TABLE rfm_scores ADD COLUMN rescored_at BIGINT;

-- Each merchant's daily RFM run: the local hour it starts at, and when it
-- is next due. Replicas claim a due run by moving `next_at` on; the one
-- whose update lands starts it.
CREATE TABLE rfm_schedules (
    merchant_id TEXT PRIMARY KEY REFERENCES merchants(id),
    hour        INTEGER NOT NULL,
    time_zone   TEXT NOT NULL,
    time_unit   TEXT NOT NULL,
    next_at     BIGINT NOT NULL
);
