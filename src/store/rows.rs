//! Row shapes read from the store and their conversion into model types. The same
//! structs decode from SQLite and PostgreSQL rows.

use super::{StoreError, from_micros};
use crate::model::{Episode, EpisodeKind, Event, TenantId};

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub(crate) id: String,
    pub(crate) employee_id: String,
    pub(crate) kind: String,
    pub(crate) source: String,
    pub(crate) payload: String,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) received_at: i64,
}

impl EventRow {
    pub(crate) fn into_event(self, tenant: &TenantId) -> Result<Event, StoreError> {
        Ok(Event {
            id: parse_id(&self.id)?,
            tenant: tenant.clone(),
            employee: parse_id(&self.employee_id)?,
            kind: self.kind,
            source: self.source,
            payload: parse_json(&self.payload)?,
            idempotency_key: self.idempotency_key,
            received_at: from_micros(self.received_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EpisodeRow {
    pub(crate) id: String,
    pub(crate) employee_id: String,
    pub(crate) kind: String,
    pub(crate) event_id: Option<String>,
    pub(crate) cause_id: Option<String>,
    pub(crate) channel: Option<String>,
    pub(crate) summary: String,
    pub(crate) payload: String,
    pub(crate) at: i64,
}

impl EpisodeRow {
    pub(crate) fn into_episode(self, tenant: &TenantId) -> Result<Episode, StoreError> {
        Ok(Episode {
            id: parse_id(&self.id)?,
            tenant: tenant.clone(),
            employee_id: parse_id(&self.employee_id)?,
            kind: EpisodeKind::parse(&self.kind).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown episode kind {:?}", self.kind))
            })?,
            event_id: self.event_id.as_deref().map(parse_id).transpose()?,
            cause_id: self.cause_id.as_deref().map(parse_id).transpose()?,
            channel: self.channel,
            summary: self.summary,
            payload: parse_json(&self.payload)?,
            at: from_micros(self.at),
        })
    }
}

pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("malformed id {s:?}")))
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Corrupt(format!("malformed JSON in store: {e}")))
}
