//! Calendars on the built-in driver: each participant's copy of a meeting, keyed by the
//! owner's address and the event's uid. Storing a copy again with the same sequence
//! (an action retried after a crash) changes nothing new; an older sequence never
//! overwrites a newer one. Also, on every driver, the times an employee offered by
//! mail, keyed by the offer's Message-ID.

use super::rows::parse_json;
use super::{Store, StoreError, with_pool};
use super::{from_micros, to_micros};
use crate::model::{CalendarEvent, EventStatus, Priority, Proposal, TenantId};
use chrono::{DateTime, Utc};

/// The longest an event in a calendar is taken to last (a month-long leave at most).
pub(crate) const LONGEST: chrono::Duration = chrono::Duration::days(32);

#[derive(sqlx::FromRow)]
struct EventRow {
    uid: String,
    title: String,
    description: String,
    starts_at: i64,
    ends_at: i64,
    organizer: String,
    attendees: String,
    priority: String,
    status: String,
    sequence: i64,
    focus: bool,
    changed_by: Option<String>,
}

impl EventRow {
    fn into_event(self) -> Result<CalendarEvent, StoreError> {
        Ok(CalendarEvent {
            uid: self.uid,
            title: self.title,
            description: self.description,
            start: from_micros(self.starts_at),
            end: from_micros(self.ends_at),
            organizer: self.organizer,
            attendees: serde_json::from_value(parse_json(&self.attendees)?)
                .map_err(|e| StoreError::Corrupt(format!("calendar attendees: {e}")))?,
            priority: Priority::parse(&self.priority).unwrap_or(Priority::Medium),
            status: EventStatus::parse(&self.status).unwrap_or(EventStatus::Confirmed),
            sequence: u32::try_from(self.sequence).unwrap_or(0),
            focus: self.focus,
            recurring: false,
            changed_by: self.changed_by,
        })
    }
}

/// `SELECT <event columns> FROM calendar_events <rest>`.
macro_rules! select_events {
    ($rest:literal) => {
        concat!(
            "SELECT uid, title, description, starts_at, ends_at, organizer, attendees, \
             priority, status, sequence, focus, changed_by FROM calendar_events ",
            $rest
        )
    };
}

impl Store {
    /// Puts `e` in each of `owners`' calendars in one transaction, except where a newer
    /// copy is there.
    pub async fn put_calendar_events(
        &self,
        tenant: &TenantId,
        owners: &[String],
        e: &CalendarEvent,
    ) -> Result<(), StoreError> {
        let attendees = serde_json::to_string(&e.attendees).expect("strings serialise");
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            for owner in owners {
                sqlx::query(
                    "INSERT INTO calendar_events (tenant, owner, uid, title, description, starts_at, \
                     ends_at, organizer, attendees, priority, status, sequence, focus, changed_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                     ON CONFLICT (tenant, owner, uid) DO UPDATE SET title = excluded.title, \
                     description = excluded.description, starts_at = excluded.starts_at, \
                     ends_at = excluded.ends_at, organizer = excluded.organizer, \
                     attendees = excluded.attendees, priority = excluded.priority, \
                     status = excluded.status, sequence = excluded.sequence, focus = excluded.focus, \
                     changed_by = excluded.changed_by \
                     WHERE calendar_events.sequence <= excluded.sequence",
                )
                .bind(tenant.as_str())
                .bind(owner.to_ascii_lowercase())
                .bind(&e.uid)
                .bind(&e.title)
                .bind(&e.description)
                .bind(to_micros(e.start))
                .bind(to_micros(e.end))
                .bind(&e.organizer)
                .bind(&attendees)
                .bind(e.priority.as_str())
                .bind(e.status.as_str())
                .bind(i64::from(e.sequence))
                .bind(e.focus)
                .bind(e.changed_by.as_deref())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// The events of `owner`'s calendar overlapping `[from, to)`, cancelled ones too,
    /// by start. Only events that start at most [`LONGEST`] before `from` are looked
    /// at, so the index on the start bounds the read on both sides.
    pub async fn calendar_events(
        &self,
        tenant: &TenantId,
        owner: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CalendarEvent>, StoreError> {
        let rows: Vec<EventRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_events!(
                "WHERE tenant = $1 AND owner = $2 AND starts_at < $3 AND starts_at > $5 \
                 AND ends_at > $4 ORDER BY starts_at, uid"
            ))
            .bind(tenant.as_str())
            .bind(owner.to_ascii_lowercase())
            .bind(to_micros(to))
            .bind(to_micros(from))
            .bind(to_micros(from - LONGEST))
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// One event of `owner`'s calendar.
    pub async fn calendar_event(
        &self,
        tenant: &TenantId,
        owner: &str,
        uid: &str,
    ) -> Result<Option<CalendarEvent>, StoreError> {
        let row: Option<EventRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_events!(
                "WHERE tenant = $1 AND owner = $2 AND uid = $3"
            ))
            .bind(tenant.as_str())
            .bind(owner.to_ascii_lowercase())
            .bind(uid)
            .fetch_optional(pool)
            .await
        })?;
        row.map(EventRow::into_event).transpose()
    }
}

#[derive(sqlx::FromRow)]
struct ProposalRow {
    message_id: String,
    employee_id: String,
    title: String,
    attendees: String,
    duration_minutes: i64,
    priority: String,
    slots: String,
    created_at: i64,
}

impl Store {
    /// Keeps the times offered in a mail (once: storing the same offer again, as a
    /// retried action does, changes nothing).
    pub async fn put_proposal(&self, tenant: &TenantId, p: &Proposal) -> Result<(), StoreError> {
        let attendees = serde_json::to_string(&p.attendees).expect("strings serialise");
        let slots = serde_json::to_string(&p.slots).expect("times serialise");
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO calendar_proposals (tenant, message_id, employee_id, title, attendees, \
                 duration_minutes, priority, slots, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&p.message_id)
            .bind(p.employee_id.to_string())
            .bind(&p.title)
            .bind(&attendees)
            .bind(p.duration_minutes)
            .bind(p.priority.as_str())
            .bind(&slots)
            .bind(to_micros(p.created_at))
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The times offered in the mail `message_id`, if it was an offer.
    pub async fn proposal(
        &self,
        tenant: &TenantId,
        message_id: &str,
    ) -> Result<Option<Proposal>, StoreError> {
        let row: Option<ProposalRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT message_id, employee_id, title, attendees, duration_minutes, priority, \
                 slots, created_at FROM calendar_proposals WHERE tenant = $1 AND message_id = $2",
            )
            .bind(tenant.as_str())
            .bind(message_id)
            .fetch_optional(pool)
            .await
        })?;
        row.map(|r| {
            Ok(Proposal {
                message_id: r.message_id,
                employee_id: super::rows::parse_id(&r.employee_id)?,
                title: r.title,
                attendees: serde_json::from_value(parse_json(&r.attendees)?)
                    .map_err(|e| StoreError::Corrupt(format!("proposal attendees: {e}")))?,
                duration_minutes: r.duration_minutes,
                priority: Priority::parse(&r.priority).unwrap_or(Priority::Medium),
                slots: serde_json::from_value(parse_json(&r.slots)?)
                    .map_err(|e| StoreError::Corrupt(format!("proposal times: {e}")))?,
                created_at: from_micros(r.created_at),
            })
        })
        .transpose()
    }
}
