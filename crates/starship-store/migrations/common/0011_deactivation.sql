-- Deactivation: a person who may not sign in and whose roles do not count
-- for now, with everything they hold kept for reactivation.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
