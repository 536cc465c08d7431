-- A2A 1.0 (the agent protocol): each task an agent's message opened, as the protocol
-- shows it (`task`, the A2A Task as JSON; `state` its TASK_STATE_* for filtering), the
-- ordered updates a subscriber replays (`a2a_task_events`, numbered per task from 1;
-- `key` makes an update recorded twice by a retried action count once), the webhooks
-- callers registered for a task, and the push notifications still to deliver (each
-- update to each webhook, retried with backoff until delivered or given up on).
-- `ord` is the outbox action id of the latest employee action that changed the task:
-- actions of different cycles run side by side, so an older one arriving later is
-- ignored.
CREATE TABLE a2a_tasks (
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    employee_id  TEXT    NOT NULL,
    agent        TEXT    NOT NULL,
    context_id   TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    task         TEXT    NOT NULL,
    seq          BIGINT  NOT NULL,
    ord          BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX a2a_tasks_by_time ON a2a_tasks (tenant, created_at, id);
CREATE INDEX a2a_tasks_by_context ON a2a_tasks (tenant, context_id);

CREATE TABLE a2a_task_events (
    tenant   TEXT    NOT NULL,
    task_id  TEXT    NOT NULL,
    seq      BIGINT  NOT NULL,
    event    TEXT    NOT NULL,
    key      TEXT,
    at       BIGINT  NOT NULL,
    PRIMARY KEY (tenant, task_id, seq)
);
CREATE UNIQUE INDEX a2a_task_events_key ON a2a_task_events (tenant, key);

CREATE TABLE a2a_push_configs (
    tenant      TEXT    NOT NULL,
    task_id     TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    config      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (tenant, task_id, id)
);

CREATE TABLE a2a_push_deliveries (
    tenant        TEXT    NOT NULL,
    task_id       TEXT    NOT NULL,
    config_id     TEXT    NOT NULL,
    seq           BIGINT  NOT NULL,
    attempts      BIGINT  NOT NULL,
    next_at       BIGINT  NOT NULL,
    delivered_at  BIGINT,
    gave_up       BIGINT  NOT NULL,
    last_error    TEXT,
    PRIMARY KEY (tenant, task_id, config_id, seq)
);
CREATE INDEX a2a_push_due ON a2a_push_deliveries (delivered_at, gave_up, next_at);
