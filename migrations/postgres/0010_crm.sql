-- The built-in CRM (seed 2.8): accounts, contacts, deals and the activities (mail,
-- meetings, calls, tasks, notes, issues) logged against them. Times are microseconds
-- since the epoch; `owner` and `employee` are employee ids. A contact's email is unique
-- per tenant, compared without case. Each list's index also holds its order (newest
-- first), so a list by owner or account reads only its own rows.
CREATE TABLE crm_accounts (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    domain TEXT,
    industry TEXT,
    employees BIGINT,
    region TEXT,
    plan TEXT,
    owner TEXT,
    health DOUBLE PRECISION,
    signals TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX crm_accounts_newest ON crm_accounts (tenant, created_at, id);
CREATE INDEX crm_accounts_by_owner ON crm_accounts (tenant, owner, created_at, id);
CREATE INDEX crm_accounts_by_domain ON crm_accounts (tenant, domain);
-- Lead searches narrow by head count first.
CREATE INDEX crm_accounts_by_size ON crm_accounts (tenant, employees);

CREATE TABLE crm_contacts (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    title TEXT,
    account TEXT,
    role TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, email_key)
);
CREATE INDEX crm_contacts_newest ON crm_contacts (tenant, created_at, id);
CREATE INDEX crm_contacts_by_account ON crm_contacts (tenant, account, created_at, id);

CREATE TABLE crm_deals (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    account TEXT,
    amount DOUBLE PRECISION NOT NULL,
    stage TEXT NOT NULL,
    close_date TEXT,
    owner TEXT,
    next_step TEXT,
    closed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX crm_deals_newest ON crm_deals (tenant, created_at, id);
CREATE INDEX crm_deals_by_account ON crm_deals (tenant, account, created_at, id);
CREATE INDEX crm_deals_by_owner ON crm_deals (tenant, owner, created_at, id);

-- `key` makes logging idempotent: the same mail (by Message-ID and direction) or the
-- same action is logged once.
CREATE TABLE crm_activities (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    account TEXT,
    contact TEXT,
    deal TEXT,
    employee TEXT,
    logged_by TEXT NOT NULL,
    key TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX crm_activities_by_key ON crm_activities (tenant, key);
CREATE INDEX crm_activities_by_account ON crm_activities (tenant, account, at, id);
CREATE INDEX crm_activities_by_contact ON crm_activities (tenant, contact, at, id);
CREATE INDEX crm_activities_by_deal ON crm_activities (tenant, deal, at, id);
