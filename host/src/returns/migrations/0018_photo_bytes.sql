-- Each photo's stored size, so a merchant's total is a sum of numbers
-- (its quota) rather than a read of every image.
ALTER TABLE return_photos ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
UPDATE return_photos SET bytes = LENGTH(data);
