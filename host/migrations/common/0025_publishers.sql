-- Publishers and their Ed25519 keys: a plugin that names a registered
-- publisher must be signed with its key; revoking the key stops its
-- versions from being bound anew.
CREATE TABLE publishers (
    name       TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
ALTER TABLE plugins ADD COLUMN signed BIGINT NOT NULL DEFAULT 0;
