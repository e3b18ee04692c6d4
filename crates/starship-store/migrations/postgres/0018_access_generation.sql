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

-- A statement that changes access marks its transaction once (a
-- transaction-local setting says it is marked); the mark's trigger is
-- deferred to commit, so the generation row is locked only while committing,
-- after every other lock the transaction takes: writers never deadlock on it,
-- and a large grant bumps it once, not once per row.
CREATE TABLE access_marks (
    id BIGSERIAL PRIMARY KEY
);

CREATE FUNCTION starship_access_mark() RETURNS trigger AS $$
BEGIN
    IF current_setting('starship.access_marked', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('starship.access_marked', 'on', true);
        INSERT INTO access_marks DEFAULT VALUES;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION starship_access_bump() RETURNS trigger AS $$
BEGIN
    UPDATE access_generation SET generation = generation + 1 WHERE id = 1;
    DELETE FROM access_marks WHERE id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER access_marks_bump AFTER INSERT ON access_marks
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION starship_access_bump();

CREATE TRIGGER access_grants AFTER INSERT OR DELETE OR UPDATE OF user_id, application, role, production_id, expires_at
ON grants FOR EACH STATEMENT EXECUTE FUNCTION starship_access_mark();
CREATE TRIGGER access_admin AFTER INSERT OR UPDATE OR DELETE ON admin_privileges
FOR EACH STATEMENT EXECUTE FUNCTION starship_access_mark();
CREATE TRIGGER access_users AFTER DELETE OR UPDATE OF partner_id, operator, status, deactivated_at, deleted_at
ON users FOR EACH STATEMENT EXECUTE FUNCTION starship_access_mark();
CREATE TRIGGER access_sessions AFTER DELETE OR UPDATE OF token_hash, user_id, expires_at
ON sessions FOR EACH STATEMENT EXECUTE FUNCTION starship_access_mark();
CREATE TRIGGER access_tokens AFTER DELETE OR UPDATE OF token_hash, user_id, revoked_at, expires_at
ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION starship_access_mark();
-- TRUNCATE (tests, restores) changes access too.
CREATE TRIGGER access_grants_truncate AFTER TRUNCATE ON grants
FOR EACH STATEMENT EXECUTE FUNCTION starship_access_mark();
