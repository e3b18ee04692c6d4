-- Application clients of the OpenID Connect provider, and its signing keys.

-- Each client belongs to one application of the catalogue. Only a hash of
-- the secret is kept. A revoked client stays (History names it) but no
-- longer authenticates. Portable SQL.

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

-- The OpenID Connect provider's token-signing keys (RS256), shared by
-- every instance: the newest live key signs; a key replaced by a rotation
-- (retired_at set) keeps verifying, and stays in the JWKS, until it ages
-- out. The private key is PKCS#8 PEM: it must sign, so it cannot be a
-- hash. Portable SQL.

CREATE TABLE oidc_signing_keys (
    kid TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE INDEX oidc_signing_keys_created ON oidc_signing_keys (created_at);
