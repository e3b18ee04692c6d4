-- The OpenID Connect provider's authorization codes and tokens. Only
-- hashes of codes and tokens are kept. Tokens come in families: the access
-- and refresh tokens of one sign-in of one person at one client (or of one
-- client_credentials grant, with no person); a refresh rotates within its
-- family, and ending the family (a reused refresh token, a revocation, the
-- person's sign-in revoked) ends every token in it at once.

CREATE TABLE oidc_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oidc_clients (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    redirect_uri TEXT NOT NULL,
    -- PKCE S256: base64url(SHA-256(verifier)).
    code_challenge TEXT NOT NULL,
    nonce TEXT,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Set by the one exchange that redeems the code; a second one finds it
    -- set and ends the family the first one made.
    used_at BIGINT,
    family_id TEXT
);
CREATE INDEX oidc_codes_expires ON oidc_codes (expires_at);

CREATE TABLE oidc_families (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oidc_clients (id),
    -- NULL for a client_credentials token: the application itself.
    user_id TEXT REFERENCES users (id),
    scope TEXT NOT NULL,
    auth_time BIGINT,
    -- JSON array of the ids of the grants the person held in the client's
    -- application when the family was last refreshed: a refresh fails once
    -- one of them is gone.
    grant_ids TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    ended_at BIGINT,
    ended_reason TEXT
);
CREATE INDEX oidc_families_user ON oidc_families (user_id, client_id);
CREATE INDEX oidc_families_client ON oidc_families (client_id);

CREATE TABLE oidc_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL REFERENCES oidc_families (id),
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- A refresh token is used once: the next use is a reuse.
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX oidc_tokens_family ON oidc_tokens (family_id);

-- A service's access token answers the check API from its cache: ending
-- one moves the access generation (migration 0018).
CREATE TRIGGER access_oidc_families_update AFTER UPDATE OF ended_at ON oidc_families
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER access_oidc_families_delete AFTER DELETE ON oidc_families
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER access_oidc_tokens_update AFTER UPDATE OF revoked_at, expires_at ON oidc_tokens
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER access_oidc_tokens_delete AFTER DELETE ON oidc_tokens
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER access_oidc_clients_update AFTER UPDATE OF revoked_at ON oidc_clients
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
