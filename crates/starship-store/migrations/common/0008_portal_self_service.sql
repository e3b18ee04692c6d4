-- Partner Portal self-service: deleted contacts, MFA, email changes,
-- versioned BGP configuration. Portable SQL.

-- A deleted contact leaves the lists but keeps its History; its email is
-- freed for a new contact (email_lower is rewritten on delete).
ALTER TABLE users ADD COLUMN deleted_at BIGINT;

-- The new address an email-change link confirms.
ALTER TABLE activation_tokens ADD COLUMN new_email TEXT;

CREATE TABLE mfa_totp (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    secret TEXT NOT NULL,
    -- NULL until the first code confirms the enrolment.
    enabled_at BIGINT,
    -- The last time step whose code was accepted: a code works once.
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE mfa_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE bgp_configs (
    id TEXT PRIMARY KEY,
    appliance_id TEXT NOT NULL REFERENCES appliances (id),
    version BIGINT NOT NULL,
    peer_asn BIGINT NOT NULL,
    neighbor_ipv4 TEXT,
    neighbor_ipv6 TEXT,
    created_by TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    UNIQUE (appliance_id, version)
);
