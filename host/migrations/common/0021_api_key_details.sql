-- A merchant's keys get a name, scopes, an optional expiry, revocation and
-- their last use. The key every merchant had becomes its first key, with
-- every scope (its prefix is unknown: only its hash was ever stored).
ALTER TABLE api_keys ADD COLUMN id TEXT;
ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT 'first key';
ALTER TABLE api_keys ADD COLUMN prefix TEXT NOT NULL DEFAULT 'ck_';
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read,write,import,policies,keys';
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT;
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_keys ADD COLUMN last_used_ip TEXT;
UPDATE api_keys SET id = 'key_' || substr(key_hash, 1, 12) WHERE id IS NULL;
CREATE INDEX api_keys_by_merchant ON api_keys (merchant_id)
