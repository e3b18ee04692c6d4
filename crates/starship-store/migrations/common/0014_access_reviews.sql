-- Access reviews: a snapshot of one application's grants in one partner
-- (optionally one production), each kept or revoked by the partner's
-- admins before the due date. Portable SQL.

CREATE TABLE access_reviews (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    application TEXT NOT NULL REFERENCES applications (key),
    production_id BIGINT REFERENCES productions (id),
    due_at BIGINT NOT NULL,
    opened_by TEXT NOT NULL REFERENCES users (id),
    opened_at BIGINT NOT NULL,
    -- Set once, by whichever instance queues the reminder: it goes out once.
    reminded_at BIGINT,
    -- Set once, by whichever instance closes the review: the claim.
    closed_at BIGINT
);
-- What the background pass asks every tick: open reviews due (or due for
-- their reminder) before now.
CREATE INDEX access_reviews_open_due ON access_reviews (due_at) WHERE closed_at IS NULL;
CREATE INDEX access_reviews_partner ON access_reviews (partner_id, opened_at);

CREATE TABLE access_review_items (
    review_id TEXT NOT NULL REFERENCES access_reviews (id),
    -- No foreign key: the grant is deleted when it is revoked, the item stays.
    grant_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    production_id BIGINT,
    decision TEXT CHECK (decision IN ('keep', 'revoke')),
    decided_by TEXT REFERENCES users (id),
    decided_at BIGINT,
    note TEXT,
    PRIMARY KEY (review_id, grant_id)
);
