-- The contract version (WIT package `cove:policy@X`) a plugin was built
-- against. Everything published before contracts were versioned side by
-- side was built against 0.1.0.
ALTER TABLE plugins ADD COLUMN contract TEXT NOT NULL DEFAULT '0.1.0';
