-- Grants may end: an expired grant stops counting at once (every query that
-- reads grants to decide access filters on expires_at), and a background
-- job removes it later. Portable SQL.

ALTER TABLE grants ADD COLUMN expires_at BIGINT;
-- When the "ends in seven days" email was queued; cleared when the end date
-- changes, so each end date is announced once.
ALTER TABLE grants ADD COLUMN expiry_reminded_at BIGINT;
CREATE INDEX grants_expires_at ON grants (expires_at);

-- Background jobs that must run on one instance at a time hold a lease here
-- until `until`; another instance takes the job over once it lapses.
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL
);
