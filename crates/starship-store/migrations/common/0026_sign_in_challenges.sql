-- A right password of an account with two-step sign-in, waiting for its
-- code: the sign-in page then asks for the code alone instead of the
-- password again. Only the hash of the challenge's secret is kept; it is
-- spent by the sign-in it completes, ended with the account's sign-ins,
-- and lasts minutes.
CREATE TABLE sign_in_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sign_in_challenges_user ON sign_in_challenges (user_id);
CREATE INDEX sign_in_challenges_expiry ON sign_in_challenges (expires_at);
