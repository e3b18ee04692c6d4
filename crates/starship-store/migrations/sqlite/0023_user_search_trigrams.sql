-- Search that matches any part of a name or an email ("sunrise", part of a
-- surname): an FTS5 table with the trigram tokenizer over the lower-cased
-- "first last email" text of every person not deleted, kept in step with
-- `users` by the triggers below (insert, edit of a name or an email,
-- deletion), so no write path can forget it.
--
-- An FTS5 row is found by its integer rowid; `users` has text ids and an
-- implicit rowid that VACUUM may renumber, so `users_search_rows` gives
-- each person a stable integer of their own (its INTEGER PRIMARY KEY).
CREATE TABLE users_search_rows (
    row INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE users_search USING fts5(body, tokenize = 'trigram');

INSERT INTO users_search_rows (user_id) SELECT id FROM users WHERE deleted_at IS NULL ORDER BY id;
INSERT INTO users_search (rowid, body)
    SELECT r.row, u.full_lower || ' ' || u.email_lower FROM users_search_rows r JOIN users u ON u.id = r.user_id;

CREATE TRIGGER users_search_insert AFTER INSERT ON users WHEN new.deleted_at IS NULL
BEGIN
    INSERT INTO users_search_rows (user_id) VALUES (new.id);
    INSERT INTO users_search (rowid, body)
        SELECT row, new.full_lower || ' ' || new.email_lower FROM users_search_rows WHERE user_id = new.id;
END;

CREATE TRIGGER users_search_update AFTER UPDATE OF full_lower, email_lower, deleted_at ON users
BEGIN
    DELETE FROM users_search WHERE rowid = (SELECT row FROM users_search_rows WHERE user_id = old.id);
    DELETE FROM users_search_rows WHERE user_id = old.id AND new.deleted_at IS NOT NULL;
    INSERT INTO users_search (rowid, body)
        SELECT row, new.full_lower || ' ' || new.email_lower FROM users_search_rows
        WHERE user_id = new.id AND new.deleted_at IS NULL;
END;

CREATE TRIGGER users_search_delete AFTER DELETE ON users
BEGIN
    DELETE FROM users_search WHERE rowid = (SELECT row FROM users_search_rows WHERE user_id = old.id);
    DELETE FROM users_search_rows WHERE user_id = old.id;
END;

-- The Users page lists people before anything is typed, sortable by name,
-- email or last change: the last needs its own index ranges, within a
-- partner and across them (operators). Name and email have theirs (0001).
CREATE INDEX users_partner_changed ON users (partner_id, updated_at, id);
CREATE INDEX users_changed ON users (updated_at, id);
