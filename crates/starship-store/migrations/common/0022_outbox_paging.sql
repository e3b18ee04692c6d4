-- The operators' outbox page lists messages newest first and pages by
-- (created_at, id).
CREATE INDEX outbox_created ON outbox (created_at, id);
