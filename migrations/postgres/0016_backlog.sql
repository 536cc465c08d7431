-- The product backlog (seed 4.3): feature requests filed by mail, chat, task or API,
-- each with who asked (`requester`: an address or a chat handle) and the CRM account
-- the address belongs to, its votes, RICE inputs and score, status, and its rank and
-- status at the last roadmap (so the next one can tell what moved). `filed_key` is the
-- action or call that filed it, so filing again after a crash finds it. Times are
-- microseconds since the epoch.
CREATE TABLE product_requests (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    requester TEXT,
    account TEXT,
    votes BIGINT NOT NULL DEFAULT 0,
    reach DOUBLE PRECISION,
    impact DOUBLE PRECISION,
    confidence DOUBLE PRECISION,
    effort DOUBLE PRECISION,
    score DOUBLE PRECISION,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    roadmap_rank BIGINT,
    roadmap_status TEXT,
    filed_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX product_requests_by_key ON product_requests (tenant, filed_key);
CREATE INDEX product_requests_newest ON product_requests (tenant, created_at, id);
CREATE INDEX product_requests_by_status ON product_requests (tenant, status, created_at, id);
CREATE INDEX product_requests_by_account ON product_requests (tenant, account, created_at, id);

-- Who voted for a request: one vote per person (address or handle, lower case), with
-- the channel it came by and the action or call that cast it.
CREATE TABLE product_votes (
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    voter TEXT NOT NULL,
    source TEXT NOT NULL,
    filed_key TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (tenant, request_id, voter)
);
CREATE INDEX product_votes_by_voter ON product_votes (tenant, voter);
