-- Roles and admin privileges held by users. Portable SQL.

CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    application TEXT NOT NULL,
    role TEXT NOT NULL,
    production_id BIGINT REFERENCES productions (id),
    granted_by TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    FOREIGN KEY (application, role) REFERENCES roles (application, key)
);
-- Granting the same role twice is one grant; 0 stands for "no production".
CREATE UNIQUE INDEX grants_unique ON grants (user_id, application, role, COALESCE(production_id, 0));
CREATE INDEX grants_application_user ON grants (application, user_id);

CREATE TABLE admin_privileges (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    application TEXT NOT NULL REFERENCES applications (key),
    production_id BIGINT REFERENCES productions (id),
    granted_by TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX admin_privileges_unique ON admin_privileges (user_id, application, COALESCE(production_id, 0));

-- Every email starts here, written in the same transaction as the change
-- that causes it; a dispatcher sends it.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    user_id TEXT REFERENCES users (id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

-- Single-use links (account activation, invitations), stored hashed.
CREATE TABLE activation_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX activation_tokens_user ON activation_tokens (user_id);
