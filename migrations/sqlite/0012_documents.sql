-- Documents employees write (proposals, reports, QBR decks): each version its own row,
-- with the Markdown it was rendered from and the PDF as it was sent. `series` names
-- the document across its versions (kind, account and deal); `action_key` is the
-- action that wrote it, so a retried action answers the version it already wrote.
-- `contact` is who it was written for (`empla forget` removes it with them).
CREATE TABLE documents (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    series TEXT NOT NULL,
    version BIGINT NOT NULL,
    employee TEXT NOT NULL,
    account TEXT,
    deal TEXT,
    contact TEXT,
    action_key TEXT,
    markdown TEXT NOT NULL,
    pdf BLOB NOT NULL,
    facts TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX documents_by_action ON documents (tenant, action_key);
CREATE UNIQUE INDEX documents_by_series ON documents (tenant, series, version);
CREATE INDEX documents_newest ON documents (tenant, created_at, id);
CREATE INDEX documents_by_account ON documents (tenant, account, created_at, id);
CREATE INDEX documents_by_employee ON documents (tenant, employee, created_at, id);
