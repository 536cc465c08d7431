//! With the CalDAV driver, employees' calendars are read every `sync_every`, so a
//! meeting someone else put there is perceived too.

use super::*;

/// With the CalDAV driver: reads each employee's calendar every `sync_every` and tells
/// it of meetings it has not perceived yet (someone else booked, moved or cancelled
/// them in a calendar client).
pub(crate) fn start_sync(rt: Arc<Runtime>) -> Option<JoinHandle<()>> {
    if rt.hub.calendar_cfg.driver != CalendarDriverKind::Caldav {
        return None;
    }
    Some(tokio::spawn(async move {
        let cfg = rt.hub.calendar_cfg.clone();
        let mut told: HashSet<String> = HashSet::new();
        let mut every = tokio::time::interval(cfg.sync_every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = sync_once(&rt, &cfg, &mut told).await {
                tracing::warn!(error = %e, "calendar sync failed; retrying at the next interval");
            }
        }
    }))
}

pub(super) async fn sync_once(
    rt: &Arc<Runtime>,
    cfg: &CalendarConfig,
    told: &mut HashSet<String>,
) -> Result<(), CapabilityError> {
    let now = Utc::now();
    let ahead = Duration::from_std(cfg.look_ahead).unwrap_or(Duration::days(7));
    for address in rt.hub.calendar.owners() {
        let address = address.as_str();
        let Some(id) = rt.directory.resolve(address) else {
            continue;
        };
        if rt.directory.status(id) == Some(crate::model::EmployeeStatus::Offboarded) {
            continue;
        }
        for e in rt
            .hub
            .calendar
            .events(&rt.tenant, address, now, now + ahead)
            .await?
        {
            let key = format!("{id}:{}", version_key(&e));
            if told.contains(&key) {
                continue;
            }
            match tell(rt, id, &e).await {
                Ok(()) => {
                    told.insert(key);
                }
                Err(err) => {
                    tracing::warn!(employee = %id, error = %err, "a meeting could not be handed to the employee")
                }
            }
        }
    }
    Ok(())
}
