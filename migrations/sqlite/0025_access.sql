-- Who may use a node: the tenants it serves, their API tokens (stored hashed), the
-- dashboard's sessions, and the audit trail of every write (append-only). Times are
-- microseconds since the epoch.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- the domain of its employees' addresses; empty: the node's company domain
    domain TEXT NOT NULL DEFAULT '',
    -- active | suspended
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    -- admin | operator | viewer | agent
    role TEXT NOT NULL,
    -- SHA-256 of the secret, hex; the secret itself is shown once and never kept
    hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (tenant, name) WHERE revoked_at IS NULL;

CREATE TABLE ui_sessions (
    -- SHA-256 of the cookie's value, hex
    hash TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    -- the token logged in with; empty: the node admin's token
    token_id TEXT NOT NULL,
    role TEXT NOT NULL,
    actor TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    at BIGINT NOT NULL,
    -- the token's name (`node-admin` for the node's own token) and id
    actor TEXT NOT NULL,
    token_id TEXT NOT NULL,
    role TEXT NOT NULL,
    -- api | cli | ui | mcp | a2a
    face TEXT NOT NULL,
    -- e.g. `POST /api/v1/approvals/{id}/approve`
    action TEXT NOT NULL,
    -- the ids the request named, e.g. `id=...`
    target TEXT NOT NULL,
    status INTEGER NOT NULL
);
CREATE INDEX audit_tenant_at ON audit (tenant, at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
