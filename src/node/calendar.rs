//! Calendars through the node: a calendar's meetings, booking a meeting for a human at
//! the best time, and the best free times for a group.

use super::Node;
use crate::capabilities::CapabilityError;
use crate::capabilities::calendar::actions::{availability, book, day_window};
use crate::capabilities::calendar::slots::{self, Query};
use crate::capabilities::calendar::{Booked, CalendarError, Slots};
use crate::model::{
    CalendarEvent, EmployeeId, FieldError, NewMeeting, SlotRequest, bare_address, is_address,
};
use chrono::{DateTime, Duration, Utc};

impl Node {
    /// The events of a calendar (an employee's, or any address's) overlapping
    /// `[from, to)`, by start.
    pub async fn calendar(
        &self,
        owner: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CalendarEvent>, CalendarError> {
        let owner = self.calendar_owner(owner).await?;
        if to <= from || to - from > Duration::days(366) {
            return Err(CalendarError::Invalid(vec![FieldError::new(
                "to",
                "must be after `from`, and at most a year after it",
            )]));
        }
        Ok(self
            .rt
            .hands
            .calendar
            .driver
            .events(&self.rt.hands.tenant, &owner, from, to)
            .await?)
    }

    /// A meeting an employee books for a human: at `m.start`, or the best free time.
    pub async fn book_meeting(
        &self,
        id: EmployeeId,
        m: NewMeeting,
    ) -> Result<Booked, CalendarError> {
        self.book_meeting_once(id, m, None).await
    }

    /// As [`Node::book_meeting`]; a request repeated with the same `idempotency_key`
    /// (a client retrying) answers the meeting the first one booked, and books nothing
    /// new.
    pub async fn book_meeting_once(
        &self,
        id: EmployeeId,
        m: NewMeeting,
        idempotency_key: Option<&str>,
    ) -> Result<Booked, CalendarError> {
        let now = Utc::now();
        if let Some(k) = idempotency_key
            && (k.trim().is_empty() || k.len() > 200)
        {
            return Err(CalendarError::Invalid(vec![FieldError::new(
                "Idempotency-Key",
                "must be 1 to 200 characters",
            )]));
        }
        let errors = m.validate(now);
        if !errors.is_empty() {
            return Err(CalendarError::Invalid(errors));
        }
        let (me, _) = self
            .rt
            .hands
            .sender(id)
            .await
            .map_err(CapabilityError::from)?
            .ok_or(CalendarError::NotFound)?;
        let uid = match idempotency_key {
            Some(k) => uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!(
                    "{}:{id}:meeting:{}",
                    self.rt.hands.tenant.as_str(),
                    k.trim()
                )
                .as_bytes(),
            ),
            None => uuid::Uuid::now_v7(),
        };
        let uid = format!("{uid}@{}", self.rt.hands.domain);
        Ok(book(&self.rt.hands, &me, &m, uid, "api", now).await?)
    }

    /// The best free times for a group (employees or addresses), within the request's
    /// constraints.
    pub async fn free_times(&self, r: SlotRequest) -> Result<Slots, CalendarError> {
        let mut errors = r.validate();
        let mut owners = Vec::new();
        for (i, p) in r.attendees.iter().enumerate() {
            match self.calendar_owner(p).await {
                Ok(o) if !owners.contains(&o) => owners.push(o),
                Ok(_) => {}
                Err(CalendarError::Invalid(_)) => errors.push(FieldError::new(
                    format!("attendees[{i}]"),
                    format!("must be a mail address or an employee, got {p:?}"),
                )),
                Err(other) => return Err(other),
            }
        }
        if !errors.is_empty() {
            return Err(CalendarError::Invalid(errors));
        }
        let from = r.after.unwrap_or_else(Utc::now).max(Utc::now());
        let mut q = Query::new(
            from,
            from + Duration::days(r.within_days.unwrap_or(7)),
            Duration::minutes(r.duration_minutes),
            r.count.unwrap_or(3),
        );
        let tz = self.rt.hands.calendar.config.hours_of(&owners[0]).tz;
        q.window = day_window(r.between.as_deref(), tz)?;
        let (people, unreached) = availability(&self.rt.hands, &owners, q.from, q.to, "").await?;
        Ok(Slots {
            items: slots::find(&people, &q),
            unreached,
        })
    }

    /// The calendar owner `key` names: an employee (id, address or handle) or an address.
    async fn calendar_owner(&self, key: &str) -> Result<String, CalendarError> {
        let key = key.trim();
        if let Some(id) = self.resolve(key)
            && let Some(p) = self
                .rt
                .hands
                .store
                .employee(&self.rt.hands.tenant, id)
                .await
                .map_err(CapabilityError::from)?
        {
            return Ok(p.email);
        }
        let a = bare_address(key).to_ascii_lowercase();
        if is_address(&a) {
            Ok(a)
        } else {
            Err(CalendarError::Invalid(vec![FieldError::new(
                "owner",
                format!("{key:?} is neither an employee nor a mail address"),
            )]))
        }
    }
}
