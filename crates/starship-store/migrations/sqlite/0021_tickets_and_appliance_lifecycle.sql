-- Tickets: five statuses, an optional site and appliance, who changed the
-- status last. Appliances: retirement and their status history.
-- SQLite cannot change a CHECK constraint: tickets and their comments are
-- rebuilt (renaming tickets_new rewrites the comments' reference to it).

CREATE TABLE tickets_new (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('open', 'waiting-on-partner', 'waiting-on-operator', 'resolved', 'closed')),
    opened_by TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    site_id TEXT REFERENCES sites (id),
    appliance_id TEXT REFERENCES appliances (id),
    status_changed_by TEXT REFERENCES users (id),
    status_changed_at BIGINT
);
INSERT INTO tickets_new (id, partner_id, subject, body, status, opened_by, created_at)
    SELECT id, partner_id, subject, body,
           CASE status WHEN 'pending' THEN 'waiting-on-partner' WHEN 'solved' THEN 'resolved' ELSE status END,
           opened_by, created_at
    FROM tickets;

CREATE TABLE ticket_comments_new (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets_new (id),
    author_id TEXT REFERENCES users (id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO ticket_comments_new SELECT id, ticket_id, author_id, author, body, created_at FROM ticket_comments;

DROP TABLE ticket_comments;
DROP TABLE tickets;
ALTER TABLE tickets_new RENAME TO tickets;
ALTER TABLE ticket_comments_new RENAME TO ticket_comments;
CREATE INDEX tickets_partner ON tickets (partner_id, created_at);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, created_at);

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
