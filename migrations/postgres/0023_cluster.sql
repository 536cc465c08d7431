-- A cluster of nodes on this database (issue: cluster). Times here are the database's
-- own clock (`now()`), never a node's, so nodes with skewed clocks agree on who is alive.
--
-- The database's mode: 'cluster' once a node with `[cluster] enabled = true` used it,
-- 'single' once a node without a cluster did. A node of the other mode refuses it.
CREATE TABLE store_mode (
    only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    mode TEXT NOT NULL,
    -- The cluster's own id: its notification channels are named after it, so two
    -- clusters in one PostgreSQL database (different schemas) never hear each other.
    cluster_id TEXT NOT NULL,
    since TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Members: each node registers itself and heartbeats; a node whose heartbeat is older
-- than the lease time is dead to the others.
CREATE TABLE cluster_nodes (
    id TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    version TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when the node stops gracefully (its leases are released).
    stopped_at TIMESTAMPTZ
);

-- Every hired employee is owned by at most one node through its lease. `epoch` grows at
-- each change of owner and is the fencing token: an employee's commits succeed only
-- while the epoch they were made under is still the lease's.
CREATE TABLE leases (
    tenant TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    owner TEXT,
    epoch BIGINT NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, employee_id)
);
CREATE INDEX leases_owner ON leases (owner, tenant, employee_id);
CREATE INDEX leases_expiry ON leases (expires_at);

-- Work done once cluster-wide (the scheduler, upkeep, stand-ups, workflow checks, A2A
-- follow-up) belongs to whichever node holds the `chores` lease.
CREATE TABLE cluster_singletons (
    name TEXT PRIMARY KEY,
    owner TEXT,
    epoch BIGINT NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The last tick of each cron expression fanned out, so a new scheduler fires the ticks
-- its predecessor missed (a tick is fanned out once per employee whoever fires it: its
-- inbox key is the schedule and the tick's time).
CREATE TABLE cron_ticks (
    tenant TEXT NOT NULL,
    cron TEXT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, cron)
);
