-- A production may end; its roles then end with it unless granted with an
-- end of their own. NULL: the production has no known end.
ALTER TABLE productions ADD COLUMN ends_at BIGINT;
