-- Search inside names and emails on PostgreSQL: reads that stop near the
-- candidates.
--
-- A GIN bitmap holds every row its trigram lists give before a LIMIT
-- applies, so a piece a few thousand people share cost as much as all of
-- them (3 to 6 ms at 1,000,000 people), and the row-by-row first read
-- that kept common pieces off the index cost 2.5 ms of its own across
-- partners. (A small partner is still read row by row, all of it, from
-- 0025's covering index.) 0027's index is now nine partial ones over
-- parts of the people (by a hash of their id) of doubling size: a 256th,
-- a 256th, a 128th, ... a half. `users_inside_candidates` asks them
-- smallest first and stops once it has the candidates: a piece one
-- person in a hundred holds is found in the first few parts, whose lists
-- are short; a rare one asks them all, which together are the one index
-- it was. Each person is still in one index, and inserting was measured
-- no dearer (BENCHMARKS.md, "Search inside names and emails").
CREATE INDEX users_search_part_0 ON users
    USING gin (partner_id, translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') gin_trgm_ops)
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 0 AND 0;
CREATE INDEX users_search_part_1 ON users
    USING gin (partner_id, translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') gin_trgm_ops)
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 1 AND 1;
CREATE INDEX users_search_part_2 ON users
    USING gin (partner_id, translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') gin_trgm_ops)
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 2 AND 3;
CREATE INDEX users_search_part_3 ON users
    USING gin (partner_id, translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') gin_trgm_ops)
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 4 AND 7;
CREATE INDEX users_search_part_4 ON users
    USING gin (partner_id, translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') gin_trgm_ops)
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 8 AND 15;
CREATE INDEX users_search_part_5 ON users
    USING gin (partner_id, translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') gin_trgm_ops)
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 16 AND 31;
CREATE INDEX users_search_part_6 ON users
    USING gin (partner_id, translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') gin_trgm_ops)
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 32 AND 63;
CREATE INDEX users_search_part_7 ON users
    USING gin (partner_id, translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') gin_trgm_ops)
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 64 AND 127;
CREATE INDEX users_search_part_8 ON users
    USING gin (partner_id, translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') gin_trgm_ops)
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 128 AND 255;
DROP INDEX users_search_words;

-- One part's people whose text holds `needle` (`pattern` is its LIKE
-- form in the index's spelling). Plain SQL functions, so each call below
-- is inlined with its part's bounds as constants, which is what lets the
-- planner prove that part's index applies, generic plans included. A
-- false candidate whose text really holds the letters the separators are
-- read as is dropped by `strpos` on the text itself.
CREATE FUNCTION users_inside_part(pattern text, needle text, low int, high int)
RETURNS SETOF text
LANGUAGE sql STABLE
AS $$
    SELECT id FROM users
    WHERE translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
      AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN low AND high
      AND strpos(full_lower || ' ' || email_lower, needle) > 0
$$;
CREATE FUNCTION users_inside_part_of_partner(scope text, pattern text, needle text, low int, high int)
RETURNS SETOF text
LANGUAGE sql STABLE
AS $$
    SELECT id FROM users
    WHERE partner_id = scope
      AND translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
      AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN low AND high
      AND strpos(full_lower || ' ' || email_lower, needle) > 0
$$;

-- The first `wanted` people whose text holds `needle`, the parts smallest
-- first: an Append runs its arms in order and the LIMIT stops it, so a
-- part's bitmap is built only when the parts before it held too few.
-- Within the function the planner may use no plain scan, only an index's
-- bitmap.
CREATE OR REPLACE FUNCTION users_inside_candidates(scope text, needle text, wanted bigint)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET enable_indexscan = off
SET enable_indexonlyscan = off
AS $$
DECLARE
    pattern text := '%' || replace(replace(translate(needle, ' .@-_+''', 'qxzvqqq'), '\', '\\'), '%', '\%') || '%';
BEGIN
    IF scope IS NULL THEN
        RETURN QUERY SELECT part.id FROM (
                      SELECT id FROM users_inside_part(pattern, needle, 0, 0) AS id
            UNION ALL SELECT id FROM users_inside_part(pattern, needle, 1, 1) AS id
            UNION ALL SELECT id FROM users_inside_part(pattern, needle, 2, 3) AS id
            UNION ALL SELECT id FROM users_inside_part(pattern, needle, 4, 7) AS id
            UNION ALL SELECT id FROM users_inside_part(pattern, needle, 8, 15) AS id
            UNION ALL SELECT id FROM users_inside_part(pattern, needle, 16, 31) AS id
            UNION ALL SELECT id FROM users_inside_part(pattern, needle, 32, 63) AS id
            UNION ALL SELECT id FROM users_inside_part(pattern, needle, 64, 127) AS id
            UNION ALL SELECT id FROM users_inside_part(pattern, needle, 128, 255) AS id
        ) AS part LIMIT wanted;
    ELSE
        RETURN QUERY SELECT part.id FROM (
                      SELECT id FROM users_inside_part_of_partner(scope, pattern, needle, 0, 0) AS id
            UNION ALL SELECT id FROM users_inside_part_of_partner(scope, pattern, needle, 1, 1) AS id
            UNION ALL SELECT id FROM users_inside_part_of_partner(scope, pattern, needle, 2, 3) AS id
            UNION ALL SELECT id FROM users_inside_part_of_partner(scope, pattern, needle, 4, 7) AS id
            UNION ALL SELECT id FROM users_inside_part_of_partner(scope, pattern, needle, 8, 15) AS id
            UNION ALL SELECT id FROM users_inside_part_of_partner(scope, pattern, needle, 16, 31) AS id
            UNION ALL SELECT id FROM users_inside_part_of_partner(scope, pattern, needle, 32, 63) AS id
            UNION ALL SELECT id FROM users_inside_part_of_partner(scope, pattern, needle, 64, 127) AS id
            UNION ALL SELECT id FROM users_inside_part_of_partner(scope, pattern, needle, 128, 255) AS id
        ) AS part LIMIT wanted;
    END IF;
END
$$;
