-- Personal API tokens end: each has an expiry, and records when it was last
-- used (at most about once a minute, so a busy script does not write on
-- every request). Portable SQL.

ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;

-- Tokens issued before they could expire run out 90 days after this
-- migration, counted from the start of its day (UTC). Neither store has a
-- portable "now in milliseconds", but both write CURRENT_DATE as ISO text
-- (YYYY-MM-DD; sqlx's PostgreSQL connections set DateStyle ISO and
-- TimeZone UTC), which integer arithmetic turns into days since 1970
-- (H. Hinnant's days_from_civil: the year counted from March).
WITH today AS (
    SELECT
        CAST(substr(CAST(CURRENT_DATE AS TEXT), 1, 4) AS BIGINT) AS y,
        CAST(substr(CAST(CURRENT_DATE AS TEXT), 6, 2) AS BIGINT) AS m,
        CAST(substr(CAST(CURRENT_DATE AS TEXT), 9, 2) AS BIGINT) AS d
),
march_based AS (
    SELECT
        CASE WHEN m <= 2 THEN y - 1 ELSE y END AS y,
        (m + 9) % 12 AS m,
        d
    FROM today
),
epoch_day AS (
    SELECT 365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + d - 1 - 719468 AS days
    FROM march_based
)
UPDATE api_tokens
SET expires_at = ((SELECT days FROM epoch_day) + 90) * 86400000
WHERE expires_at IS NULL;
