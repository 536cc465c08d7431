-- Memory: searchable episodes (readable text, full-text terms, participants, channel,
-- vectors), the knowledge graph of facts, shared knowledge, and procedural statistics.
--
-- The full-text indexes hold a term string made by the node (lowercase alphanumeric
-- runs) under the 'simple' configuration, so SQLite and PostgreSQL match exactly the
-- same terms.

ALTER TABLE episodes ADD COLUMN channel TEXT;
ALTER TABLE episodes ADD COLUMN text TEXT NOT NULL DEFAULT '';
-- The text's terms, and the participants' names and addresses weighted A, so a
-- participant is a phrase match on A-weighted lexemes.
ALTER TABLE episodes ADD COLUMN terms TSVECTOR;
-- The sign bits the in-memory index scans, and (for a remote embedding provider,
-- whose vectors cannot be recomputed) one signed byte per dimension.
ALTER TABLE episodes ADD COLUMN vec BYTEA;
ALTER TABLE episodes ADD COLUMN sig BYTEA;
CREATE INDEX episodes_unembedded ON episodes (tenant, seq) WHERE sig IS NULL;
CREATE INDEX episodes_terms ON episodes USING GIN (terms);

-- Semantic memory: subject–predicate–object facts. Keys are the lowercase names the
-- graph is traversed by. `owner` is the employee that holds a private or team fact.
CREATE TABLE facts (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    predicate    TEXT    NOT NULL,
    object       TEXT    NOT NULL,
    subject_key  TEXT    NOT NULL,
    object_key   TEXT    NOT NULL,
    confidence   DOUBLE PRECISION NOT NULL,
    source       TEXT    NOT NULL,
    visibility   TEXT    NOT NULL,
    owner        TEXT,
    team         TEXT,
    at           BIGINT  NOT NULL
);
CREATE UNIQUE INDEX facts_id ON facts (tenant, id);
CREATE INDEX facts_subject ON facts (tenant, subject_key);
CREATE INDEX facts_object ON facts (tenant, object_key);

-- Shared knowledge: published or ingested documents, one row per chunk.
CREATE TABLE knowledge (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    doc          TEXT    NOT NULL,
    chunk        INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    visibility   TEXT    NOT NULL,
    owner        TEXT,
    team         TEXT,
    text         TEXT    NOT NULL,
    terms        TSVECTOR,
    at           BIGINT  NOT NULL,
    vec          BYTEA,
    sig          BYTEA
);
CREATE UNIQUE INDEX knowledge_id ON knowledge (tenant, id);
CREATE INDEX knowledge_doc ON knowledge (tenant, doc);
CREATE INDEX knowledge_terms ON knowledge USING GIN (terms);

-- Procedural memory: how each workflow (plan) fared for each kind of task, one row
-- per day (written by that day's consolidation, so writing it again changes nothing).
-- failure_reasons is a JSON object of reason → count.
CREATE TABLE procedures (
    tenant          TEXT    NOT NULL,
    employee_id     TEXT    NOT NULL,
    task            TEXT    NOT NULL,
    workflow        TEXT    NOT NULL,
    day             TEXT    NOT NULL,
    successes       BIGINT  NOT NULL,
    failures        BIGINT  NOT NULL,
    failure_reasons TEXT    NOT NULL,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (tenant, employee_id, task, workflow, day)
);
