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
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) = 0;
CREATE INDEX users_search_part_1 ON users
    USING gin (partner_id, translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') gin_trgm_ops)
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) = 1;
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
    WHERE deleted_at IS NULL AND (hashtext(id) & 255) >= 128;
DROP INDEX users_search_words;

-- The first `wanted` people whose text holds `needle`, part by part. Each
-- query names its part's predicate as the index does, so its plan (kept
-- for the session, generic after five calls) can be that part's index;
-- within the function the planner may use no plain scan, only an index's
-- bitmap. A false candidate whose text really holds the letters the
-- separators are read as is dropped by `strpos` on the text itself.
CREATE OR REPLACE FUNCTION users_inside_candidates(scope text, needle text, wanted bigint)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET enable_indexscan = off
SET enable_indexonlyscan = off
AS $$
DECLARE
    pattern text := '%' || replace(replace(translate(needle, ' .@-_+''', 'qxzvqqq'), '\', '\\'), '%', '\%') || '%';
    found bigint := 0;
    got bigint;
BEGIN
    IF scope IS NULL THEN
        RETURN QUERY SELECT id FROM users
            WHERE translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) = 0
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) = 1
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 2 AND 3
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 4 AND 7
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 8 AND 15
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 16 AND 31
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 32 AND 63
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 64 AND 127
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) >= 128
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
    ELSE
        RETURN QUERY SELECT id FROM users
            WHERE partner_id = scope
              AND translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) = 0
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE partner_id = scope
              AND translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) = 1
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE partner_id = scope
              AND translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 2 AND 3
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE partner_id = scope
              AND translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 4 AND 7
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE partner_id = scope
              AND translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 8 AND 15
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE partner_id = scope
              AND translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 16 AND 31
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE partner_id = scope
              AND translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 32 AND 63
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE partner_id = scope
              AND translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) BETWEEN 64 AND 127
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
        RETURN QUERY SELECT id FROM users
            WHERE partner_id = scope
              AND translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND deleted_at IS NULL AND (hashtext(id) & 255) >= 128
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
            LIMIT wanted - found;
        GET DIAGNOSTICS got = ROW_COUNT;
        found := found + got;
        IF found >= wanted THEN RETURN; END IF;
    END IF;
END
$$;
