-- Photos a customer attaches to a return (a damaged item), base64 in
-- text so the one migration serves both databases. Personal data:
-- erasure deletes them (`customers::store::PERSONAL_TABLES`).
CREATE TABLE return_photos (
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    id           TEXT NOT NULL,
    return_id    TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX return_photos_by_return ON return_photos (merchant_id, return_id);
