-- Employees, their durable inbox, episodic memory, runtime state snapshots and cron
-- subscriptions. Every row carries a tenant id; every query filters by it.

CREATE TABLE employees (
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    chat_handle  TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    profile      TEXT    NOT NULL,
    config_key   TEXT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX employees_email ON employees (tenant, email);
CREATE UNIQUE INDEX employees_handle ON employees (tenant, chat_handle);
CREATE UNIQUE INDEX employees_config_key ON employees (tenant, config_key);
-- Covers the directory load at start, so it never reads the profiles.
CREATE INDEX employees_directory ON employees (tenant, id, email, chat_handle, status);

CREATE TABLE employee_state (
    tenant       TEXT    NOT NULL,
    employee_id  TEXT    NOT NULL,
    snapshot     BLOB    NOT NULL,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (tenant, employee_id)
);

CREATE TABLE inbox (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant           TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    employee_id      TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    idempotency_key  TEXT,
    received_at      BIGINT  NOT NULL,
    processed_at     BIGINT
);
CREATE UNIQUE INDEX inbox_id ON inbox (tenant, id);
CREATE INDEX inbox_pending ON inbox (tenant, employee_id, seq) WHERE processed_at IS NULL;

CREATE TABLE episodes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    employee_id  TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    event_id     TEXT,
    cause_id     TEXT,
    summary      TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    at           BIGINT  NOT NULL
);
CREATE UNIQUE INDEX episodes_id ON episodes (tenant, id);
CREATE UNIQUE INDEX episodes_one_per_event ON episodes (tenant, event_id) WHERE kind = 'event';
CREATE INDEX episodes_by_employee ON episodes (tenant, employee_id, seq);

CREATE TABLE cron_subscriptions (
    tenant       TEXT    NOT NULL,
    employee_id  TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    cron         TEXT    NOT NULL,
    PRIMARY KEY (tenant, employee_id, name)
);
CREATE INDEX cron_subscriptions_by_cron ON cron_subscriptions (tenant, cron);
