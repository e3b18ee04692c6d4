-- Search that matches any part of a name or an email ("sunrise", part of a
-- surname): a trigram index over the lower-cased "first last email" text
-- of every person not deleted. pg_trgm is a trusted extension: the
-- database's owner may create it. `users::search` asks it with
-- `LIKE '%…%'` (the index answers it) and ranks by `similarity`.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_search_trgm ON users
    USING gin ((full_lower || ' ' || email_lower) gin_trgm_ops)
    WHERE deleted_at IS NULL;

-- The Users page lists people before anything is typed, sortable by name,
-- email or last change: the last needs its own index ranges, within a
-- partner and across them (operators). Name and email have theirs (0001).
CREATE INDEX users_partner_changed ON users (partner_id, updated_at, id);
CREATE INDEX users_changed ON users (updated_at, id);
