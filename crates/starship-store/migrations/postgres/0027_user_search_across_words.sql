-- Search inside names and emails on PostgreSQL, at any size.
--
-- pg_trgm reads only letters and digits: a dot, an at sign, a dash or a
-- space ends a word, so for a piece such as "er.co" or "0@p" the index
-- was asked for the trigrams of "er" and "co", which half the people
-- hold, and PostgreSQL rechecked hundreds of thousands of rows. The index
-- now holds the text with those characters read as letters, one letter
-- each for the common ones (space q, dot x, at sign z, dash v; underscore,
-- plus and apostrophe q as well), so a piece keeps its trigrams ("erxco")
-- and a dot is not asked for as a space. Someone whose text really holds
-- the same letters there is a false candidate, which
-- `users_inside_candidates` drops by looking at the text itself: nothing
-- is found that is not there, and nothing there is missed (the text's
-- translation holds the translation of every piece the text holds).
CREATE INDEX users_search_words ON users
    USING gin (partner_id, translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') gin_trgm_ops)
    WHERE deleted_at IS NULL;
DROP INDEX users_search_partner_trgm;

-- The first people whose text holds a piece, from that index alone.
-- `users::inside_matches` asks it only after reading a scope's first
-- people row by row found the piece rare, so the planner's guess (a LIKE
-- with a leading % holds for 4 % of rows) is wrong the one way that
-- hurts: it would read the table in order until enough matched, tens of
-- thousands of rows. Within this function the planner may use no plain
-- scan, only the index's bitmap, whose lists for a rare piece are short;
-- the settings end with the call. Its plans are kept for the session.
CREATE FUNCTION users_inside_candidates(scope text, needle text, wanted bigint)
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
        RETURN QUERY SELECT id FROM users
            WHERE translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
              AND deleted_at IS NULL
            LIMIT wanted;
    ELSE
        RETURN QUERY SELECT id FROM users
            WHERE partner_id = scope
              AND translate(full_lower || ' ' || email_lower, ' .@-_+''', 'qxzvqqq') LIKE pattern
              AND strpos(full_lower || ' ' || email_lower, needle) > 0
              AND deleted_at IS NULL
            LIMIT wanted;
    END IF;
END
$$;
