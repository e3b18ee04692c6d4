-- Application clients of the OpenID Connect provider: each belongs to one
-- application of the catalogue. Only a hash of the secret is kept. A
-- revoked client stays (History names it) but no longer authenticates.
-- Portable SQL.

CREATE TABLE oidc_clients (
    id TEXT PRIMARY KEY,
    -- What the client sends as client_id: public, unique.
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    application TEXT NOT NULL REFERENCES applications (key),
    name TEXT NOT NULL,
    -- JSON arrays of text, in the order registered.
    redirect_uris TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    secret_rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX oidc_clients_application ON oidc_clients (application, created_at);
