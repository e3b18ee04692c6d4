-- Search inside names within one partner at any partner's size.
--
-- A search first reads the partner's first people by last change row by
-- row (`users::inside_matches`): all of a small partner, and enough of a
-- large one to find a piece many of its people share (the partner's own
-- domain in their emails) before its trigram lists, as long as the
-- partner, are read. This index answers that from its own pages.
CREATE INDEX users_search_partner_first ON users (partner_id, updated_at, id)
    INCLUDE (full_lower, email_lower)
    WHERE deleted_at IS NULL;

-- Rarer pieces go to the trigram index, which knew no partner (0023): a
-- large partner's search intersected the trigram lists of every partner
-- with the partner's whole index range. One GIN index over the partner
-- and the trigrams (`btree_gin` gives text an equality operator class;
-- like pg_trgm it is a trusted extension) intersects them in one scan.
-- Searches across partners (operators) use its trigram column alone, as
-- they used 0023's index.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX users_search_partner_trgm ON users
    USING gin (partner_id, (full_lower || ' ' || email_lower) gin_trgm_ops)
    WHERE deleted_at IS NULL;
DROP INDEX users_search_trgm;
