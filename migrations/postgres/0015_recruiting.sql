-- The Recruiter's candidate pipeline (seed 4.4): requisitions with their requirements,
-- the candidates for each, every stage a candidate moved through, interviews and the
-- panel's feedback. Times are microseconds since the epoch. Requirements and a
-- screening's explanation are JSON text. A candidate is one row per requisition and
-- address (compared without case), so an application taken in twice is stored once.
CREATE TABLE recruiting_requisitions (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    requirements TEXT NOT NULL DEFAULT '[]',
    hiring_manager TEXT NOT NULL,
    panel TEXT,
    pass_score DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    closed_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX recruiting_requisitions_newest ON recruiting_requisitions (tenant, opened_at, id);
CREATE INDEX recruiting_requisitions_by_status ON recruiting_requisitions (tenant, status, opened_at, id);

CREATE TABLE recruiting_candidates (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    requisition TEXT NOT NULL,
    source TEXT NOT NULL,
    stage TEXT NOT NULL,
    score DOUBLE PRECISION,
    screening TEXT,
    cv_path TEXT,
    cv_text TEXT,
    recruiter TEXT,
    thread TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, requisition, email_key)
);
CREATE INDEX recruiting_candidates_newest ON recruiting_candidates (tenant, created_at, id);
CREATE INDEX recruiting_candidates_by_requisition ON recruiting_candidates (tenant, requisition, created_at, id);
CREATE INDEX recruiting_candidates_by_email ON recruiting_candidates (tenant, email_key);

CREATE TABLE recruiting_stages (
    tenant TEXT NOT NULL,
    candidate TEXT NOT NULL,
    seq BIGINT NOT NULL,
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    reason TEXT NOT NULL,
    moved_by TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (tenant, candidate, seq)
);

CREATE TABLE recruiting_interviews (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    candidate TEXT NOT NULL,
    starts_at BIGINT,
    calendar_event TEXT,
    proposal TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX recruiting_interviews_by_candidate ON recruiting_interviews (tenant, candidate, created_at);

-- `key` makes recording idempotent: the same reply is feedback once.
CREATE TABLE recruiting_feedback (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    candidate TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    recommendation TEXT NOT NULL,
    key TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX recruiting_feedback_by_key ON recruiting_feedback (tenant, key);
CREATE INDEX recruiting_feedback_by_candidate ON recruiting_feedback (tenant, candidate, at);
