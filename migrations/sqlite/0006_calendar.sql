-- Calendars on the built-in driver: each participant's copy of a meeting or block of
-- time, keyed by the calendar's owner (a mail address) and the event's uid. A copy is
-- replaced only by one with the same or a higher sequence.
CREATE TABLE calendar_events (
    tenant       TEXT    NOT NULL,
    owner        TEXT    NOT NULL,
    uid          TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    starts_at    BIGINT  NOT NULL,
    ends_at      BIGINT  NOT NULL,
    organizer    TEXT    NOT NULL,
    attendees    TEXT    NOT NULL,
    priority     TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    sequence     BIGINT  NOT NULL,
    -- Time kept free for focused work, not a meeting.
    focus        BOOLEAN NOT NULL,
    -- The action (outbox key) that made this version, for its retries.
    changed_by   TEXT,
    PRIMARY KEY (tenant, owner, uid)
);
CREATE INDEX calendar_by_start ON calendar_events (tenant, owner, starts_at);

-- Times an employee offered by mail ("reply with the number that suits you"), keyed by
-- the Message-ID of the offer, so the reply that picks one can be booked.
CREATE TABLE calendar_proposals (
    tenant            TEXT    NOT NULL,
    message_id        TEXT    NOT NULL,
    employee_id       TEXT    NOT NULL,
    title             TEXT    NOT NULL,
    attendees         TEXT    NOT NULL,
    duration_minutes  BIGINT  NOT NULL,
    priority          TEXT    NOT NULL,
    slots             TEXT    NOT NULL,
    created_at        BIGINT  NOT NULL,
    PRIMARY KEY (tenant, message_id)
);
