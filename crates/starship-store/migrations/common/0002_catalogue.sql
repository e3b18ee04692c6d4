-- The built-in catalogue. Portable SQL, applied to both stores.

CREATE TABLE applications (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    url TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE TABLE capabilities (
    application TEXT NOT NULL REFERENCES applications (key),
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (application, key)
);

CREATE TABLE roles (
    application TEXT NOT NULL REFERENCES applications (key),
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('application', 'production')),
    position BIGINT NOT NULL,
    PRIMARY KEY (application, key)
);

CREATE TABLE role_capabilities (
    application TEXT NOT NULL,
    role TEXT NOT NULL,
    capability TEXT NOT NULL,
    PRIMARY KEY (application, role, capability),
    FOREIGN KEY (application, role) REFERENCES roles (application, key),
    FOREIGN KEY (application, capability) REFERENCES capabilities (application, key)
);

CREATE TABLE notification_types (
    application TEXT NOT NULL REFERENCES applications (key),
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (application, key)
);

CREATE TABLE role_notification_defaults (
    application TEXT NOT NULL,
    role TEXT NOT NULL,
    notification_type TEXT NOT NULL,
    PRIMARY KEY (application, role, notification_type),
    FOREIGN KEY (application, role) REFERENCES roles (application, key),
    FOREIGN KEY (application, notification_type) REFERENCES notification_types (application, key)
);

CREATE TABLE metadata_fields (
    application TEXT NOT NULL REFERENCES applications (key),
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'enum', 'country', 'multi-select')),
    required BIGINT NOT NULL CHECK (required IN (0, 1)),
    position BIGINT NOT NULL,
    PRIMARY KEY (application, key)
);

CREATE TABLE metadata_field_options (
    application TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (application, field, value),
    FOREIGN KEY (application, field) REFERENCES metadata_fields (application, key)
);

CREATE TABLE contact_roles (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    position BIGINT NOT NULL
);

INSERT INTO applications (key, name, description, url, position) VALUES
    ('backlot', 'Backlot', 'Source delivery, QC reports and fulfillment for content partners.', 'https://backlot.netflix.com', 1),
    ('production-academy', 'Production Academy', 'E-learning courses for production crews and partners.', 'https://academy.netflix.com', 2),
    ('partner-portal', 'Partner Portal', 'Open Connect partner self-service: contacts, sites, appliances and tickets.', 'https://partner.netflix.net', 3),
    ('content-hub', 'Content Hub', 'Delivery lists, archival assets, locked cuts and media sharing for productions.', 'https://contenthub.netflix.com', 4);

INSERT INTO capabilities (application, key, name, position) VALUES
    ('backlot', 'source-management', 'Source Management', 1),
    ('backlot', 'download-sources', 'Download Sources', 2),
    ('backlot', 'qc-subtitle-reports', 'QC Subtitle Reports', 3),
    ('backlot', 'master-qc-reports', 'Master QC Reports', 4),
    ('backlot', 'backlot-api-keys', 'Backlot API keys', 5),
    ('backlot', 'create-users', 'Create users', 6),
    ('production-academy', 'e-learning', 'E-learning courses', 1),
    ('partner-portal', 'manage-contacts', 'Create / delete contacts', 1),
    ('partner-portal', 'manage-portal-access', 'Grant / revoke portal access', 2),
    ('partner-portal', 'manage-permission-levels', 'Manage portal user permissions', 3),
    ('partner-portal', 'edit-contact-details', 'Add / edit phone, names and email', 4),
    ('partner-portal', 'drain-appliance', 'Drain for maintenance', 5),
    ('partner-portal', 'edit-bgp', 'Edit BGP configuration', 6),
    ('partner-portal', 'self-service', 'Future OCA self-service actions', 7),
    ('partner-portal', 'view-tickets', 'View tickets', 8),
    ('partner-portal', 'comment-tickets', 'Comment on tickets', 9),
    ('content-hub', 'delivery-list', 'Collaborate on the Delivery List', 1),
    ('content-hub', 'deliver-assets', 'Deliver archival assets and locked cuts', 2),
    ('content-hub', 'share-media', 'Store, share and download media', 3);

INSERT INTO roles (application, key, name, scope, position) VALUES
    ('backlot', 'master-content-partner-operations', 'Master Content Partner Operations', 'application', 1),
    ('backlot', 'content-partner-operations', 'Content Partner Operations', 'application', 2),
    ('production-academy', 'academy-user', 'Academy User', 'production', 1),
    ('partner-portal', 'admin', 'Admin', 'application', 1),
    ('partner-portal', 'engineering', 'Engineering', 'application', 2),
    ('partner-portal', 'read-only', 'Read-only', 'application', 3),
    ('content-hub', 'content-hub-user', 'Content Hub User', 'production', 1);

INSERT INTO role_capabilities (application, role, capability) VALUES
    ('backlot', 'master-content-partner-operations', 'source-management'),
    ('backlot', 'master-content-partner-operations', 'download-sources'),
    ('backlot', 'master-content-partner-operations', 'qc-subtitle-reports'),
    ('backlot', 'master-content-partner-operations', 'master-qc-reports'),
    ('backlot', 'master-content-partner-operations', 'backlot-api-keys'),
    ('backlot', 'master-content-partner-operations', 'create-users'),
    ('backlot', 'content-partner-operations', 'source-management'),
    ('backlot', 'content-partner-operations', 'download-sources'),
    ('backlot', 'content-partner-operations', 'qc-subtitle-reports'),
    ('backlot', 'content-partner-operations', 'master-qc-reports'),
    ('production-academy', 'academy-user', 'e-learning'),
    ('partner-portal', 'admin', 'manage-contacts'),
    ('partner-portal', 'admin', 'manage-portal-access'),
    ('partner-portal', 'admin', 'manage-permission-levels'),
    ('partner-portal', 'admin', 'edit-contact-details'),
    ('partner-portal', 'admin', 'drain-appliance'),
    ('partner-portal', 'admin', 'edit-bgp'),
    ('partner-portal', 'admin', 'self-service'),
    ('partner-portal', 'admin', 'view-tickets'),
    ('partner-portal', 'admin', 'comment-tickets'),
    ('partner-portal', 'engineering', 'manage-contacts'),
    ('partner-portal', 'engineering', 'manage-portal-access'),
    ('partner-portal', 'engineering', 'manage-permission-levels'),
    ('partner-portal', 'engineering', 'edit-contact-details'),
    ('partner-portal', 'engineering', 'drain-appliance'),
    ('partner-portal', 'engineering', 'edit-bgp'),
    ('partner-portal', 'engineering', 'self-service'),
    ('partner-portal', 'engineering', 'view-tickets'),
    ('partner-portal', 'engineering', 'comment-tickets'),
    ('partner-portal', 'read-only', 'edit-contact-details'),
    ('partner-portal', 'read-only', 'view-tickets'),
    ('partner-portal', 'read-only', 'comment-tickets'),
    ('content-hub', 'content-hub-user', 'delivery-list'),
    ('content-hub', 'content-hub-user', 'deliver-assets'),
    ('content-hub', 'content-hub-user', 'share-media');

INSERT INTO notification_types (application, key, name, description, position) VALUES
    ('backlot', 'source-request', 'Source requests', 'A new source is requested from your partner.', 1),
    ('backlot', 'source-delivered', 'Delivered sources', 'A source your partner delivered was received.', 2),
    ('backlot', 'qc-report', 'QC reports', 'A master QC report is ready.', 3),
    ('backlot', 'subtitle-qc-report', 'Subtitle QC reports', 'A subtitle QC report is ready.', 4),
    ('backlot', 'redelivery-request', 'Redelivery requests', 'A delivered source failed QC and must be delivered again.', 5),
    ('backlot', 'due-date-reminder', 'Due-date reminders', 'A delivery is coming due or is overdue.', 6);

-- Seed 000: only Content Partner Operations turns Backlot's defaults on; a
-- user with only Master Content Partner Operations gets none by default.
INSERT INTO role_notification_defaults (application, role, notification_type) VALUES
    ('backlot', 'content-partner-operations', 'source-request'),
    ('backlot', 'content-partner-operations', 'source-delivered'),
    ('backlot', 'content-partner-operations', 'qc-report'),
    ('backlot', 'content-partner-operations', 'subtitle-qc-report'),
    ('backlot', 'content-partner-operations', 'redelivery-request'),
    ('backlot', 'content-partner-operations', 'due-date-reminder');

INSERT INTO metadata_fields (application, key, label, kind, required, position) VALUES
    ('production-academy', 'crew_department', 'Crew Department', 'enum', 1, 1),
    ('production-academy', 'country', 'Country', 'country', 1, 2),
    ('production-academy', 'courses', 'Courses', 'multi-select', 0, 3);

INSERT INTO metadata_field_options (application, field, value, name, description, position) VALUES
    ('production-academy', 'crew_department', 'production', 'Production', '', 1),
    ('production-academy', 'crew_department', 'post-production', 'Post-Production', '', 2),
    ('production-academy', 'crew_department', 'editorial', 'Editorial', '', 3),
    ('production-academy', 'crew_department', 'camera', 'Camera', '', 4),
    ('production-academy', 'crew_department', 'sound', 'Sound', '', 5),
    ('production-academy', 'crew_department', 'visual-effects', 'Visual Effects', '', 6),
    ('production-academy', 'crew_department', 'art', 'Art', '', 7),
    ('production-academy', 'crew_department', 'localization', 'Localization', '', 8),
    ('production-academy', 'crew_department', 'other', 'Other', '', 9),
    ('production-academy', 'courses', 'IMF101', 'Welcome to IMF', 'Learn, why we use IMF, what exactly goes into an IMF package and how using IMF benefits Netflix and its partners', 1),
    ('production-academy', 'courses', 'IMF102', 'Creating Your IMP', 'Learn how to create your IMP based on the Netflix guidelines and specifications.', 2),
    ('production-academy', 'courses', 'IMF103', 'Using Backlot to Fulfill IMF', 'Learn how to submit a complete and supplemental IMP using Backlot', 3),
    ('production-academy', 'courses', 'ECH_Overview', 'External Content Hub - Overview', 'Learn what is Content Hub and how you can access the app.', 4),
    ('production-academy', 'courses', 'ECH_DL', 'External Content Hub - Collaborating on the Delivery List', 'Learn what the Content Hub Delivery List is and how it is used at Netflix.', 5),
    ('production-academy', 'courses', 'ECH_Archival', 'External Content Hub - Delivering Archival Assets To Netflix', 'Learn the different ways to deliver your archival assets and how to monitor the status of your assets in Content Hub.', 6),
    ('production-academy', 'courses', 'ECH_LockedCut', 'External Content Hub - Delivering a Locked Cut', 'Learn how to upload your locked cut, required metadata tagging, and the release workflow.', 7),
    ('production-academy', 'courses', 'ECH_Sharing', 'External Content Hub - Storing and Sharing Media via Workspace and Assets', 'Learn the different ways to store and share your media in Content Hub.', 8),
    ('production-academy', 'courses', 'ECH_Download', 'External Content Hub - Downloading Media', 'Learn the different ways to download media that is stored in Content Hub.', 9);

INSERT INTO contact_roles (key, name, position) VALUES
    ('engineering', 'Engineering', 1),
    ('noc', 'NOC', 2),
    ('logistics', 'Logistics', 3),
    ('customs', 'Customs', 4),
    ('shipping', 'Shipping', 5),
    ('peering', 'Peering', 6),
    ('executive', 'Executive', 7);
