-- Issue #14: a History that proves itself. Every entry joins a hash chain:
-- one per partner (chain = the partner id of the account the entry is
-- about, at write time) and one for accounts of no partner (chain = '').
-- seq counts 1, 2, 3 … within a chain; hash = SHA-256 over the entry's
-- canonical encoding and prev_hash (ARCHITECTURE.md, "History chains").
-- The columns are NULL only until the first start of this version has
-- chained the rows that existed before it (history::chain_unchained).
ALTER TABLE history ADD COLUMN chain TEXT;
ALTER TABLE history ADD COLUMN seq BIGINT;
ALTER TABLE history ADD COLUMN prev_hash TEXT;
ALTER TABLE history ADD COLUMN hash TEXT;
-- Two writers can never fork a chain: a second seq n is refused.
CREATE UNIQUE INDEX history_chain_seq ON history (chain, seq);
-- Finds the rows still to be chained without reading the whole History.
CREATE INDEX history_unchained ON history (at) WHERE hash IS NULL;

-- The head of each chain: its last seq and hash. Appending locks this row
-- for the rest of the transaction, which serializes the writers of one
-- chain across instances.
CREATE TABLE history_chain_heads (
    chain TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

-- An entry never changes, except that a row written before the chain
-- existed gets its chain columns once (hash still NULL), and nothing else.
DROP TRIGGER history_no_update;
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
WHEN OLD.hash IS NOT NULL
    OR NEW.id IS NOT OLD.id OR NEW.user_id IS NOT OLD.user_id OR NEW.at IS NOT OLD.at
    OR NEW.actor_id IS NOT OLD.actor_id OR NEW.actor IS NOT OLD.actor OR NEW.source IS NOT OLD.source
    OR NEW.action IS NOT OLD.action OR NEW.details IS NOT OLD.details
BEGIN
    SELECT RAISE(ABORT, 'history is append-only');
END;
