-- The access generation: one number that every change to what a check
-- reads (grants, admin privileges, a person's status, partner or operator
-- flag, the end of a session or API token) moves forward in the same
-- transaction. An instance caches callers and roles under the generation
-- it read them at, and reads this one row before every check: a different
-- number means something changed, so nothing cached is used. Triggers
-- rather than code, so no write path can forget it.
CREATE TABLE access_generation (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO access_generation (id, generation) VALUES (1, 1);

CREATE TRIGGER access_grants_insert AFTER INSERT ON grants
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER access_grants_update AFTER UPDATE OF user_id, application, role, production_id, expires_at ON grants
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER access_grants_delete AFTER DELETE ON grants
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER access_admin_insert AFTER INSERT ON admin_privileges
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER access_admin_update AFTER UPDATE ON admin_privileges
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER access_admin_delete AFTER DELETE ON admin_privileges
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER access_users_update AFTER UPDATE OF partner_id, operator, status, deactivated_at, deleted_at ON users
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER access_users_delete AFTER DELETE ON users
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER access_sessions_update AFTER UPDATE OF token_hash, user_id, expires_at ON sessions
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER access_sessions_delete AFTER DELETE ON sessions
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER access_tokens_update AFTER UPDATE OF token_hash, user_id, revoked_at, expires_at ON api_tokens
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER access_tokens_delete AFTER DELETE ON api_tokens
BEGIN UPDATE access_generation SET generation = generation + 1 WHERE id = 1; END;
