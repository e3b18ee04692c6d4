-- PostgreSQL's 0007 stops TRUNCATE emptying the History. SQLite has no
-- TRUNCATE (0004's DELETE trigger covers it); this keeps both stores on the
-- same migration numbers.
SELECT 1;
