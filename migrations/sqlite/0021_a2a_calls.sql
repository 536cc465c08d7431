-- The messages employees send to other agents (`a2a.send`): one row per send action
-- (`id`, the action's outbox key), naming the caller, whom it addressed (`agent` as
-- written: a colleague's handle or an outside agent), the A2A task the message opened
-- and whether that task lives on this node (`remote` 0) or at an outside agent. The
-- caller is told (`a2a.reply` in its inbox) when the task ends or needs input;
-- `told_at` is set once the end was told, so after a restart the open calls are
-- followed again and no end is told twice (the inbox event's key sees to that too).
CREATE TABLE a2a_calls (
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    employee_id  TEXT    NOT NULL,
    action_id    BIGINT  NOT NULL,
    agent        TEXT    NOT NULL,
    task_id      TEXT    NOT NULL,
    remote       BIGINT  NOT NULL,
    state        TEXT    NOT NULL,
    told_at      BIGINT,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX a2a_calls_by_task ON a2a_calls (tenant, task_id);
CREATE INDEX a2a_calls_open ON a2a_calls (tenant, told_at);
