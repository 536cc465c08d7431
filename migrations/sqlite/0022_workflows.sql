-- Collaborative workflows (seed 7.3): a run of a configured workflow, with the
-- definition it started from (so a run follows the steps it began with even when the
-- file changes), its inputs and where it stands (`running`, `completed`, `failed`).
-- Times are microseconds since the epoch.
CREATE TABLE workflow_runs (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    workflow TEXT NOT NULL,
    definition TEXT NOT NULL,
    inputs TEXT NOT NULL,
    status TEXT NOT NULL,
    started_by TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    ended_at BIGINT,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX workflow_runs_newest ON workflow_runs (tenant, created_at, id);
CREATE INDEX workflow_runs_open ON workflow_runs (tenant, status);

-- Each step of a run: `waiting` for the steps it comes after, `assigned` (a delegated
-- task `task_id` of employee `employee_id`), `done`, `failed` or `canceled` (its run
-- failed first). `escalation_id` is set once when the step stayed open past its
-- `stuck_after`: it is then stuck until its task ends.
CREATE TABLE workflow_steps (
    tenant TEXT NOT NULL,
    run_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    employee_id TEXT,
    task_id TEXT,
    result TEXT,
    escalation_id TEXT,
    assigned_at BIGINT,
    stuck_at BIGINT,
    ended_at BIGINT,
    PRIMARY KEY (tenant, run_id, step_id)
);
CREATE INDEX workflow_steps_by_task ON workflow_steps (tenant, task_id);

-- Team stand-ups (seed 7.5): one row per team, tick and employee member once its update
-- was posted to the team's channel and handed to the employee to remember; a tick with
-- a row for every member is done.
CREATE TABLE team_standups (
    tenant TEXT NOT NULL,
    team TEXT NOT NULL,
    tick_at BIGINT NOT NULL,
    employee_id TEXT NOT NULL,
    text TEXT NOT NULL,
    posted_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, team, tick_at, employee_id)
);
CREATE INDEX team_standups_by_employee ON team_standups (tenant, employee_id, tick_at);
