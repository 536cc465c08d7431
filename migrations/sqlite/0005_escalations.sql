-- Escalations: cases employees hand to humans, with context and a recommendation, and
-- the decisions taken on them; a decided case is the precedent for the next of its kind.
CREATE TABLE escalations (
    tenant          TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    employee_id     TEXT    NOT NULL,
    case_key        TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    recommendation  TEXT    NOT NULL,
    context         TEXT    NOT NULL,
    manager         TEXT    NOT NULL,
    mail_id         TEXT,
    intention       BIGINT,
    status          TEXT    NOT NULL,
    decision        TEXT,
    reason          TEXT,
    decided_by      TEXT,
    precedent       TEXT,
    created_at      BIGINT  NOT NULL,
    decided_at      BIGINT,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX escalations_by_case ON escalations (tenant, employee_id, case_key, decided_at);
CREATE INDEX escalations_by_mail ON escalations (tenant, mail_id);
