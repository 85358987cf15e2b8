-- A merchant's team. A person (one per e-mail address, with one password
-- for every shop they belong to) is a member of shops with a role each.
-- Passwords are Argon2id PHC strings; `totp_step` is the last one-time
-- code's step, so a code is accepted once.
CREATE TABLE people (
    email         TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    totp_secret   TEXT,
    totp_step     BIGINT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE members (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    email       TEXT NOT NULL REFERENCES people(email),
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    invited_by  TEXT NOT NULL,
    PRIMARY KEY (merchant_id, email)
);
CREATE INDEX members_by_email ON members (email);

-- Invitations: one-time links (only their hash kept) that expire.
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    invited_by  TEXT NOT NULL
);
CREATE INDEX invitations_by_merchant ON invitations (merchant_id);

-- A console session is a member's (or, for the first setup, a key's):
-- what it may do and whom the audit log names.
ALTER TABLE console_sessions ADD COLUMN member TEXT;
ALTER TABLE console_sessions ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read,write,import,policies,keys,members,support';
ALTER TABLE console_sessions ADD COLUMN actor TEXT NOT NULL DEFAULT 'console session';

-- Keys with every scope get the new ones (the team, customer service).
UPDATE api_keys SET scopes = 'read,write,import,policies,keys,members,support'
WHERE scopes = 'read,write,import,policies,keys';
