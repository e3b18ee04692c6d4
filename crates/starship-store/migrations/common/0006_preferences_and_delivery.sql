-- Notification choices, application metadata, and outbox delivery state.
-- Portable SQL.

-- Only choices the user made; defaults come from roles and are computed.
CREATE TABLE notification_preferences (
    user_id TEXT NOT NULL REFERENCES users (id),
    application TEXT NOT NULL,
    notification_type TEXT NOT NULL,
    enabled BIGINT NOT NULL CHECK (enabled IN (0, 1)),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, application, notification_type),
    FOREIGN KEY (application, notification_type) REFERENCES notification_types (application, key)
);

CREATE TABLE user_metadata (
    user_id TEXT NOT NULL REFERENCES users (id),
    application TEXT NOT NULL REFERENCES applications (key),
    data TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, application)
);

-- A dispatcher claims a message for a while (lease) before sending it, so
-- two instances never send the same message; a crashed one's lease runs out.
ALTER TABLE outbox ADD COLUMN locked_until BIGINT;
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
ALTER TABLE outbox ADD COLUMN failed_at BIGINT;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
