-- Partner Portal: contact roles on people, sites, appliances, tickets.
-- Portable SQL.

CREATE TABLE user_contact_roles (
    user_id TEXT NOT NULL REFERENCES users (id),
    contact_role TEXT NOT NULL REFERENCES contact_roles (key),
    PRIMARY KEY (user_id, contact_role)
);
CREATE INDEX user_contact_roles_role ON user_contact_roles (contact_role, user_id);

CREATE TABLE sites (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    location TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (partner_id, name_lower)
);

CREATE TABLE user_sites (
    user_id TEXT NOT NULL REFERENCES users (id),
    site_id TEXT NOT NULL REFERENCES sites (id),
    PRIMARY KEY (user_id, site_id)
);
CREATE INDEX user_sites_site ON user_sites (site_id, user_id);

-- The contacts named in a site's deployment survey.
CREATE TABLE site_survey_contacts (
    site_id TEXT NOT NULL REFERENCES sites (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (site_id, user_id)
);

CREATE TABLE appliances (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    site_id TEXT NOT NULL REFERENCES sites (id),
    serial TEXT NOT NULL UNIQUE,
    model TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('serving', 'drained')),
    status_changed_by TEXT REFERENCES users (id),
    status_changed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX appliances_partner ON appliances (partner_id, site_id);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'pending', 'solved')),
    opened_by TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX tickets_partner ON tickets (partner_id, created_at);

CREATE TABLE ticket_comments (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    author_id TEXT REFERENCES users (id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, created_at);
