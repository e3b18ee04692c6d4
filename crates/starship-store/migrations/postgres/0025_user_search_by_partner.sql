-- Search inside names within one partner: the trigram index of 0023 knew
-- no partner, so a large partner's search intersected the trigram lists of
-- every partner with the partner's own index range, both whole. One GIN
-- index over the partner and the trigrams (`btree_gin` gives text an
-- equality operator class; like pg_trgm it is a trusted extension) walks
-- the shortest list and skips through the others. Searches across
-- partners (operators) use its trigram column alone, as they used 0023's.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX users_search_partner_trgm ON users
    USING gin (partner_id, (full_lower || ' ' || email_lower) gin_trgm_ops)
    WHERE deleted_at IS NULL;
DROP INDEX users_search_trgm;
