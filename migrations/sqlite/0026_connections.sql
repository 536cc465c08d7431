-- Employees' connections to outside accounts (OAuth 2.0): the flows started and waiting
-- for the person's consent, and the connections made. Tokens and PKCE verifiers are
-- stored sealed (AES-256-GCM under EMPLA_SECRETS_KEY, `v1:...`), never in clear. Times
-- are microseconds since the epoch.
CREATE TABLE oauth_flows (
    -- SHA-256 of the `state` sent to the provider, hex; the state itself is not kept
    state_hash TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    -- the sealed PKCE verifier; empty without PKCE
    verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- set when the callback took it: a state is used once
    used_at BIGINT
);
CREATE INDEX oauth_flows_expires ON oauth_flows (expires_at);

CREATE TABLE connections (
    tenant TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    -- the account the provider named: Slack's workspace, HubSpot's portal
    account_id TEXT NOT NULL,
    account_name TEXT NOT NULL,
    -- space-separated
    scopes TEXT NOT NULL,
    -- sealed; the refresh token is empty when the provider gave none
    access_token TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at BIGINT,
    connected_at BIGINT NOT NULL,
    refreshed_at BIGINT,
    -- connected | reconnect (the provider refused a refresh)
    status TEXT NOT NULL,
    problem TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, employee_id, provider)
);
CREATE INDEX connections_expires ON connections (tenant, expires_at);
