-- Portable SQL: this file is applied as-is to SQLite and PostgreSQL.
-- Times are milliseconds since the Unix epoch; ids are UUID text.

CREATE TABLE partners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('content', 'fulfillment', 'qc', 'network')),
    created_at BIGINT NOT NULL
);

CREATE TABLE productions (
    id BIGINT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    partner_id TEXT REFERENCES partners (id),
    email TEXT NOT NULL,
    email_lower TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    -- Lower-cased copies for prefix search by index range.
    first_lower TEXT NOT NULL,
    last_lower TEXT NOT NULL,
    full_lower TEXT NOT NULL,
    locale TEXT NOT NULL,
    phone TEXT,
    -- Booleans are 0/1 integers: the one boolean representation both stores
    -- share through sqlx's Any driver.
    operator BIGINT NOT NULL DEFAULT 0 CHECK (operator IN (0, 1)),
    -- active: may sign in; pending: activation link sent, no password yet;
    -- contact: a person without sign-in; disabled: sign-in switched off.
    status TEXT NOT NULL CHECK (status IN ('active', 'pending', 'contact', 'disabled')),
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK ((operator = 1 AND partner_id IS NULL) OR (operator = 0 AND partner_id IS NOT NULL))
);
CREATE INDEX users_partner_full ON users (partner_id, full_lower, id);
CREATE INDEX users_partner_last ON users (partner_id, last_lower, id);
CREATE INDEX users_partner_email ON users (partner_id, email_lower);
CREATE INDEX users_full ON users (full_lower, id);
CREATE INDEX users_last ON users (last_lower, id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed sign-ins per account and per client address, shared by every
-- instance so throttling holds behind a load balancer.
CREATE TABLE sign_in_failures (
    throttle_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL
);

-- Append-only: the store has no function that updates or deletes a row,
-- and dialect-specific triggers refuse it at the database too.
CREATE TABLE history (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    at BIGINT NOT NULL,
    actor_id TEXT REFERENCES users (id),
    actor TEXT NOT NULL,
    -- Where the change came from: api, web, cli, system (later scim, oidc).
    source TEXT NOT NULL,
    action TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX history_user_at ON history (user_id, at, id);
