-- TRUNCATE skips row triggers, so 0004 alone let it empty the History.
-- SQLite has no TRUNCATE: its DELETE triggers cover every way to remove rows.
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history
FOR EACH STATEMENT EXECUTE FUNCTION starship_history_append_only();
