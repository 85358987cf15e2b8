-- A segment's worth of sends planned in one go: which segment of which
-- RFM run, the message, and how far it has got (customers planned,
-- dropped, failed, of the total), so the console can show progress and a
-- replica can tell a finished batch from a running one.
CREATE TABLE send_batches (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    id          TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    segment     TEXT NOT NULL,
    message     TEXT NOT NULL,
    status      TEXT NOT NULL,
    total       BIGINT NOT NULL,
    planned     BIGINT NOT NULL,
    dropped     BIGINT NOT NULL,
    failed      BIGINT NOT NULL,
    error       TEXT,
    created_at  BIGINT NOT NULL,
    finished_at BIGINT,
    -- The last progress; a running batch not heard of for 10 minutes was
    -- stopped with its host.
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
-- A batch's contacts.
ALTER TABLE contacts ADD COLUMN batch_id TEXT;
-- What became of a planned contact, as the sending system reports it:
-- sent, delivered, failed or bounced, and when. A failed or bounced
-- contact no longer counts against the caps.
ALTER TABLE contacts ADD COLUMN outcome TEXT;
ALTER TABLE contacts ADD COLUMN outcome_at BIGINT;
