-- The approval queue (actions and promotions waiting for a human) and the outbox
-- (actions persisted before their capability runs, marked done after). Both are
-- written in the same transaction as the decision that produced them.

CREATE TABLE approvals (
    tenant           TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    employee_id      TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    action           TEXT    NOT NULL,
    reason           TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    decided_at       BIGINT,
    decided_by       TEXT,
    decision_reason  TEXT,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX approvals_by_status ON approvals (tenant, status, created_at);
CREATE INDEX approvals_by_employee ON approvals (tenant, employee_id, created_at);

CREATE TABLE outbox (
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    employee_id  TEXT    NOT NULL,
    action_id    BIGINT  NOT NULL,
    kind         TEXT    NOT NULL,
    params       TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    result       TEXT,
    created_at   BIGINT  NOT NULL,
    done_at      BIGINT,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX outbox_pending ON outbox (tenant, employee_id) WHERE status = 'pending';

-- When an employee must next reason on its own (a wait's deadline, a message's SLA, a
-- calendar trigger), so a passivated employee is woken for it.
ALTER TABLE employee_state ADD COLUMN wake_at BIGINT;
CREATE INDEX employee_state_wake ON employee_state (tenant, wake_at) WHERE wake_at IS NOT NULL;
