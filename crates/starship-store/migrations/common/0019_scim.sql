-- SCIM 2.0 provisioning (issue 17). Portable SQL.

-- A partner's SCIM bearer tokens: each acts for one partner only, with
-- what its creator may grant (checked at each use). Only the SHA-256 of
-- the secret is stored.
CREATE TABLE scim_tokens (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX scim_tokens_partner ON scim_tokens (partner_id);

-- The identity provider's own id for a person (SCIM externalId), its
-- userName when that is not the person's email, and the enterprise User
-- extension as the provider sent it (JSON text).
ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN scim_user_name TEXT;
ALTER TABLE users ADD COLUMN scim_enterprise TEXT;
CREATE INDEX users_partner_external_id ON users (partner_id, external_id);
