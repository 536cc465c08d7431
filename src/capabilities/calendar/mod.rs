//! Calendars: read someone's meetings, put a meeting in their calendar, and find the
//! best time for several people ([`slots`]). The built-in driver of the embedded
//! default keeps every calendar in the store; the CalDAV driver keeps them on a
//! calendar server (one collection per person, reached with that person's login).
//!
//! A driver only stores and reads copies; deciding when to meet, what to move and whom
//! to tell is the calendar actions' ([`actions`]). With the CalDAV driver, [`sync`]
//! reads employees' calendars every `calendar.sync_every`, so a meeting someone else
//! put there is perceived too.

pub(crate) mod actions;
pub mod caldav;
mod config;
pub mod ics;
pub mod slots;
pub(crate) mod sync;

pub use actions::{Booked, CalendarError, Moved, Slots};

pub use caldav::CalDav;
pub use config::{CalendarConfig, CalendarDriverKind, PersonHours};

use super::{CapabilityError, Hands};
use crate::model::{CalendarEvent, TenantId};
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::path::Path;
use std::sync::Arc;

/// The node's calendars: where they are kept, when people work, and where the node's
/// bookings queue for their turn.
pub struct Calendars {
    /// Where calendars are kept.
    pub driver: Arc<dyn CalendarDriver>,
    /// `[calendar]`: working hours, sync, look-ahead.
    pub config: CalendarConfig,
    /// The node's bookings queue here before they take the store's booking lock (see
    /// `one_booking_at_a_time`), so at most one of them holds a connection waiting
    /// for it.
    pub booking: tokio::sync::Mutex<()>,
}

/// A booking's turn: while it lives, no other booking of the tenant runs, on this node
/// or on any other node of the cluster.
pub(crate) struct BookingTurn<'a> {
    // Fields drop in order: the store's lock is released before the node's queue
    // moves on.
    _store: crate::store::BookingGuard,
    _node: tokio::sync::MutexGuard<'a, ()>,
}

/// Waits for the booking's turn: first among the node's bookings, then through the
/// store among the cluster's (an advisory lock on PostgreSQL), and holds it from
/// reading calendars to writing the events, so two bookings never take the same free
/// time. A store that cannot be reached fails the booking before anything is booked.
pub(crate) async fn one_booking_at_a_time(
    hands: &Hands,
) -> Result<BookingTurn<'_>, CapabilityError> {
    let node = hands.calendar.booking.lock().await;
    let store = hands.store.booking_lock(&hands.tenant).await.map_err(|e| {
        CapabilityError::Service(format!(
            "cannot take the calendar booking lock, so nothing was booked: {e}"
        ))
    })?;
    Ok(BookingTurn {
        _store: store,
        _node: node,
    })
}

impl Calendars {
    /// The driver `[calendar]` names.
    pub fn from_config(
        cfg: &CalendarConfig,
        data_dir: &Path,
        store: &Store,
    ) -> Result<Calendars, String> {
        let driver: Arc<dyn CalendarDriver> = match cfg.driver {
            CalendarDriverKind::Builtin => Arc::new(LocalCalendar::new(store.clone())),
            CalendarDriverKind::Caldav => {
                let logins = crate::capabilities::email::Logins::open(
                    crate::capabilities::email::MailConfig::resolve(
                        data_dir,
                        &cfg.credentials_file,
                    ),
                )?;
                let zones = cfg.clone();
                Arc::new(
                    CalDav::new(&cfg.url, &cfg.collection, logins)?
                        .with_zones(Arc::new(move |owner| zones.hours_of(owner).tz)),
                )
            }
        };
        Ok(Calendars {
            driver,
            config: cfg.clone(),
            booking: tokio::sync::Mutex::new(()),
        })
    }

    /// Calendars kept in the store, with default working hours.
    pub fn local(store: &Store) -> Calendars {
        Calendars {
            driver: Arc::new(LocalCalendar::new(store.clone())),
            config: CalendarConfig::default(),
            booking: tokio::sync::Mutex::new(()),
        }
    }
}

/// Where calendars are kept.
#[async_trait::async_trait]
pub trait CalendarDriver: Send + Sync {
    /// Whether the node can read and write `owner`'s calendar.
    fn reaches(&self, owner: &str) -> bool;

    /// The calendars kept elsewhere that the node should watch for meetings others put
    /// there (re-reading its logins first); none for calendars the node keeps itself.
    fn owners(&self) -> Vec<String> {
        Vec::new()
    }

    /// The events of `owner`'s calendar overlapping `[from, to)`, by start; cancelled
    /// ones too.
    async fn events(
        &self,
        tenant: &TenantId,
        owner: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CalendarEvent>, CapabilityError>;

    /// One event of `owner`'s calendar.
    async fn event(
        &self,
        tenant: &TenantId,
        owner: &str,
        uid: &str,
    ) -> Result<Option<CalendarEvent>, CapabilityError>;

    /// Puts `e` in `owner`'s calendar, replacing an older copy with the same uid.
    /// Putting the same copy twice changes nothing.
    async fn put(
        &self,
        tenant: &TenantId,
        owner: &str,
        e: &CalendarEvent,
    ) -> Result<(), CapabilityError>;

    /// Puts `e` in each of `owners`' calendars, all at once; answers each one's outcome
    /// in order.
    async fn put_all(
        &self,
        tenant: &TenantId,
        owners: &[String],
        e: &CalendarEvent,
    ) -> Vec<Result<(), CapabilityError>> {
        futures::future::join_all(owners.iter().map(|o| self.put(tenant, o, e))).await
    }
}

/// The built-in driver: every address's calendar is kept in the store.
pub struct LocalCalendar {
    store: Store,
}

impl LocalCalendar {
    /// A driver storing into `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait::async_trait]
impl CalendarDriver for LocalCalendar {
    fn reaches(&self, _owner: &str) -> bool {
        true
    }

    async fn events(
        &self,
        tenant: &TenantId,
        owner: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CalendarEvent>, CapabilityError> {
        Ok(self.store.calendar_events(tenant, owner, from, to).await?)
    }

    async fn event(
        &self,
        tenant: &TenantId,
        owner: &str,
        uid: &str,
    ) -> Result<Option<CalendarEvent>, CapabilityError> {
        Ok(self.store.calendar_event(tenant, owner, uid).await?)
    }

    async fn put(
        &self,
        tenant: &TenantId,
        owner: &str,
        e: &CalendarEvent,
    ) -> Result<(), CapabilityError> {
        self.store
            .put_calendar_events(tenant, &[owner.to_string()], e)
            .await?;
        Ok(())
    }

    /// Every copy in one transaction.
    async fn put_all(
        &self,
        tenant: &TenantId,
        owners: &[String],
        e: &CalendarEvent,
    ) -> Vec<Result<(), CapabilityError>> {
        match self.store.put_calendar_events(tenant, owners, e).await {
            Ok(()) => owners.iter().map(|_| Ok(())).collect(),
            Err(err) => owners
                .iter()
                .map(|_| Err(CapabilityError::Service(format!("the store failed: {err}"))))
                .collect(),
        }
    }
}
