-- How much visitors' uploads (photos) a merchant may keep, in MiB.
ALTER TABLE merchant_limits ADD COLUMN upload_mb BIGINT NOT NULL DEFAULT 1024
