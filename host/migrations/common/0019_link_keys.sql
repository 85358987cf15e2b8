-- Each merchant's key for the links it shares (a survey report): links
-- are signed with it, and replacing it revokes every link given out.
CREATE TABLE link_keys (
    merchant_id TEXT PRIMARY KEY REFERENCES merchants(id),
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
)
