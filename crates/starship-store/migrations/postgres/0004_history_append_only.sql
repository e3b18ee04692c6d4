CREATE FUNCTION starship_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'history is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER history_no_update_or_delete BEFORE UPDATE OR DELETE ON history
FOR EACH ROW EXECUTE FUNCTION starship_history_append_only();

-- Prefix search walks index ranges, which needs byte order whatever the
-- database's default collation is. SQLite compares bytes already.
ALTER TABLE users ALTER COLUMN email_lower TYPE TEXT COLLATE "C";
ALTER TABLE users ALTER COLUMN first_lower TYPE TEXT COLLATE "C";
ALTER TABLE users ALTER COLUMN last_lower TYPE TEXT COLLATE "C";
ALTER TABLE users ALTER COLUMN full_lower TYPE TEXT COLLATE "C";
