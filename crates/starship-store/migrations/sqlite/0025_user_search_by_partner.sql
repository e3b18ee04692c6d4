-- Search inside names within one partner, at any partner's size: the FTS5
-- trigram table (0023) knows no partner, so a partner's search walked
-- every partner's matches until it had found its own. Its rows are now
-- numbered partner by partner: a partner's number (`users_search_scopes`,
-- '' standing for operators, who have none) times 2^32 plus the person's
-- place in it, so a partner's people are one rowid range, which FTS5 seeks
-- to in each term's list and stops reading after the candidates wanted.
-- People never change partner, so a number, once given, holds.
CREATE TABLE users_search_scopes (
    scope INTEGER PRIMARY KEY,
    partner_id TEXT NOT NULL UNIQUE
);
INSERT INTO users_search_scopes (partner_id)
    SELECT DISTINCT coalesce(partner_id, '') FROM users WHERE deleted_at IS NULL ORDER BY 1;

DROP TABLE users_search;
DELETE FROM users_search_rows;
INSERT INTO users_search_rows (row, user_id)
    SELECT s.scope * 4294967296 + row_number() OVER (PARTITION BY s.scope ORDER BY u.id), u.id
    FROM users u JOIN users_search_scopes s ON s.partner_id = coalesce(u.partner_id, '')
    WHERE u.deleted_at IS NULL;
CREATE VIRTUAL TABLE users_search USING fts5(body, tokenize = 'trigram');
INSERT INTO users_search (rowid, body)
    SELECT r.row, u.full_lower || ' ' || u.email_lower FROM users_search_rows r JOIN users u ON u.id = r.user_id;

-- A new person takes the next number of their partner's range (a seek to
-- the range's last row, not a count). The edit and delete triggers of
-- 0023 find a person's row by id and need no change.
DROP TRIGGER users_search_insert;
CREATE TRIGGER users_search_insert AFTER INSERT ON users WHEN new.deleted_at IS NULL
BEGIN
    INSERT OR IGNORE INTO users_search_scopes (partner_id) VALUES (coalesce(new.partner_id, ''));
    INSERT INTO users_search_rows (row, user_id)
        SELECT coalesce(
                   (SELECT r.row FROM users_search_rows r
                    WHERE r.row > s.scope * 4294967296 AND r.row < (s.scope + 1) * 4294967296
                    ORDER BY r.row DESC LIMIT 1),
                   s.scope * 4294967296
               ) + 1,
               new.id
        FROM users_search_scopes s WHERE s.partner_id = coalesce(new.partner_id, '');
    INSERT INTO users_search (rowid, body)
        SELECT row, new.full_lower || ' ' || new.email_lower FROM users_search_rows WHERE user_id = new.id;
END;
