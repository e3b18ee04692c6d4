-- Tickets: five statuses, an optional site and appliance, who changed the
-- status last. Appliances: retirement and their status history.
-- PostgreSQL (the SQLite file rebuilds the tickets table instead).

UPDATE tickets SET status = 'waiting-on-partner' WHERE status = 'pending';
UPDATE tickets SET status = 'resolved' WHERE status = 'solved';
ALTER TABLE tickets DROP CONSTRAINT tickets_status_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_status_check
    CHECK (status IN ('open', 'waiting-on-partner', 'waiting-on-operator', 'resolved', 'closed'));
ALTER TABLE tickets ADD COLUMN site_id TEXT REFERENCES sites (id);
ALTER TABLE tickets ADD COLUMN appliance_id TEXT REFERENCES appliances (id);
ALTER TABLE tickets ADD COLUMN status_changed_by TEXT REFERENCES users (id);
ALTER TABLE tickets ADD COLUMN status_changed_at BIGINT;

ALTER TABLE appliances ADD COLUMN retired_at BIGINT;
ALTER TABLE appliances ADD COLUMN retired_by TEXT REFERENCES users (id);

-- Registered, drained, returned to service, retired: newest last.
CREATE TABLE appliance_events (
    id TEXT PRIMARY KEY,
    appliance_id TEXT NOT NULL REFERENCES appliances (id),
    event TEXT NOT NULL CHECK (event IN ('registered', 'drained', 'undrained', 'retired')),
    by_user TEXT REFERENCES users (id),
    at BIGINT NOT NULL
);
CREATE INDEX appliance_events_appliance ON appliance_events (appliance_id, at);
