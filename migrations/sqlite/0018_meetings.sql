-- Meetings at transcript level (seed 2.3).
--
-- Each transcript taken for a meeting, keyed by the calendar event's uid and the
-- transcript's SHA-256 (hex): the same transcript posted or mailed twice is one row.
CREATE TABLE meeting_transcripts (
    tenant       TEXT   NOT NULL,
    event_id     TEXT   NOT NULL,
    hash         TEXT   NOT NULL,
    employee_id  TEXT   NOT NULL,
    -- `api` or `email`, and the file's name when it came as one.
    source       TEXT   NOT NULL,
    name         TEXT,
    text         TEXT   NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, event_id, hash)
);

-- What the meeting came to, as the employee that owns it took it from the latest
-- transcript: notes, decisions and action items (JSON arrays). A new transcript
-- replaces them and counts up `revision`; `hash` names the transcript they came from.
CREATE TABLE meeting_notes (
    tenant        TEXT   NOT NULL,
    event_id      TEXT   NOT NULL,
    employee_id   TEXT   NOT NULL,
    title         TEXT   NOT NULL,
    starts_at     BIGINT NOT NULL,
    hash          TEXT   NOT NULL,
    source        TEXT   NOT NULL,
    name          TEXT,
    notes         TEXT   NOT NULL,
    decisions     TEXT   NOT NULL,
    action_items  TEXT   NOT NULL,
    revision      BIGINT NOT NULL,
    taken_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, event_id)
);
