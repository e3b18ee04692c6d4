-- Addresses each account has signed in from: the per-address sign-in limit
-- counts volume from one address (a NAT, a proxy) and must never refuse an
-- account where it has signed in before.
CREATE TABLE sign_in_clients (
    email TEXT NOT NULL,
    client TEXT NOT NULL,
    last_success_at BIGINT NOT NULL,
    PRIMARY KEY (email, client)
);
