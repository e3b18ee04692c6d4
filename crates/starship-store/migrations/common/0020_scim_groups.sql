-- SCIM Groups (issue 17): a partner's directory groups, their members, the
-- Starship roles a group maps to, and which grants each mapping gave.
-- Portable SQL.

CREATE TABLE scim_groups (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    display_name TEXT NOT NULL,
    display_lower TEXT NOT NULL,
    external_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_partner_name ON scim_groups (partner_id, display_lower);
CREATE INDEX scim_groups_partner_external_id ON scim_groups (partner_id, external_id);

CREATE TABLE scim_group_members (
    group_id TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX scim_group_members_user ON scim_group_members (user_id);

-- "Members of this group hold this role", under what its author may grant
-- (checked each time the mapping is applied).
CREATE TABLE scim_group_roles (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    application TEXT NOT NULL,
    role TEXT NOT NULL,
    production_id BIGINT REFERENCES productions (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    FOREIGN KEY (application, role) REFERENCES roles (application, key)
);
CREATE UNIQUE INDEX scim_group_roles_unique ON scim_group_roles (group_id, application, role, COALESCE(production_id, 0));

-- The grant a mapping stands behind for one member. `owned` is 1 when a
-- mapping created the grant (0: the person held the role already, and
-- keeps it when the mapping stops applying). A revoked or expired grant
-- takes its rows with it.
CREATE TABLE scim_mapped_grants (
    mapping_id TEXT NOT NULL REFERENCES scim_group_roles (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    owned INTEGER NOT NULL,
    PRIMARY KEY (mapping_id, user_id)
);
CREATE INDEX scim_mapped_grants_grant ON scim_mapped_grants (grant_id);
