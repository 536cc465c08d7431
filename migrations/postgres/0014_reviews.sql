-- Performance reviews: one per employee and period (`2026-11`), its figures as JSON (a
-- review run again for the same period is replaced; the manager's notes stay).
-- `mail_id` is the Message-ID of the mail that sent it to the manager, whose reply
-- adds a note.
CREATE TABLE reviews (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    period TEXT NOT NULL,
    figures TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '[]',
    mail_id TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX reviews_per_period ON reviews (tenant, employee_id, period);
CREATE INDEX reviews_newest ON reviews (tenant, employee_id, created_at);
CREATE INDEX reviews_by_mail ON reviews (tenant, mail_id);
