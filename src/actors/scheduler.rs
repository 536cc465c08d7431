//! The Scheduler: one tokio-cron-scheduler job per distinct cron expression that any
//! employee subscribes to. Each tick is fanned out as a `cron.tick` event to every
//! subscriber, through the durable inbox, so a tick wakes a passivated employee and a
//! crash never loses or repeats one (the event id comes from schedule and tick time).
//! Subscriptions live in the store, not in employees' actors.

use super::runtime::Runtime;
use crate::model::{Event, NewEvent};
use chrono::{DateTime, SubsecRound, Utc};
use futures::StreamExt;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::collections::HashSet;
use std::sync::Arc;
use tokio_cron_scheduler::{Job, JobScheduler};

/// Messages to the Scheduler.
pub enum SchedulerMsg {
    /// Make sure a job runs for each of these (6-field) cron expressions.
    Ensure(Vec<String>),
    /// A cron expression fired at this time.
    Tick {
        /// The expression.
        cron: String,
        /// The tick's time (whole seconds).
        at: DateTime<Utc>,
    },
}

/// The Scheduler actor.
pub(crate) struct Scheduler;

/// Its state.
pub(crate) struct SchedulerState {
    rt: Arc<Runtime>,
    jobs: JobScheduler,
    crons: HashSet<String>,
}

impl Actor for Scheduler {
    type Msg = SchedulerMsg;
    type State = SchedulerState;
    type Arguments = Arc<Runtime>;

    async fn pre_start(
        &self,
        myself: ActorRef<SchedulerMsg>,
        rt: Arc<Runtime>,
    ) -> Result<SchedulerState, ActorProcessingErr> {
        rt.set_scheduler(myself.clone());
        let jobs = JobScheduler::new().await?;
        jobs.start().await?;
        let mut state = SchedulerState {
            rt,
            jobs,
            crons: HashSet::new(),
        };
        let crons = state.rt.store.subscribed_crons(&state.rt.tenant).await?;
        ensure(&myself, &mut state, crons).await?;
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<SchedulerMsg>,
        msg: SchedulerMsg,
        state: &mut SchedulerState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SchedulerMsg::Ensure(crons) => ensure(&myself, state, crons).await?,
            // In a cluster, the node doing the once-only work fans ticks out.
            SchedulerMsg::Tick { .. } if !state.rt.runs_chores() => {}
            SchedulerMsg::Tick { cron, at } => {
                let rt = state.rt.clone();
                // Fan out off the actor so a large fan-out never holds up the next tick.
                tokio::spawn(async move {
                    if let Err(e) = fan_out(&rt, &cron, at).await {
                        tracing::error!(cron, error = %e, "cron tick could not be fanned out");
                    }
                });
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _: ActorRef<SchedulerMsg>,
        state: &mut SchedulerState,
    ) -> Result<(), ActorProcessingErr> {
        state.jobs.shutdown().await?;
        Ok(())
    }
}

async fn ensure(
    myself: &ActorRef<SchedulerMsg>,
    state: &mut SchedulerState,
    crons: Vec<String>,
) -> Result<(), ActorProcessingErr> {
    for cron in crons {
        if state.crons.contains(&cron) {
            continue;
        }
        let me = myself.clone();
        let expr = cron.clone();
        let job = Job::new_async(cron.as_str(), move |_, _| {
            let me = me.clone();
            let cron = expr.clone();
            Box::pin(async move {
                let _ = me.send_message(SchedulerMsg::Tick {
                    cron,
                    at: Utc::now().trunc_subsecs(0),
                });
            })
        })?;
        state.jobs.add(job).await?;
        state.crons.insert(cron);
    }
    Ok(())
}

/// Commits one `cron.tick` event per subscriber of `cron` and delivers each.
pub(crate) async fn fan_out(
    rt: &Arc<Runtime>,
    cron: &str,
    at: DateTime<Utc>,
) -> Result<usize, crate::store::StoreError> {
    let subscribers = rt.store.subscribers(&rt.tenant, cron).await?;
    let n = subscribers.len();
    futures::stream::iter(subscribers)
        .for_each_concurrent(256, |(employee, name)| {
            let rt = rt.clone();
            async move {
                if rt.directory.status(employee) == Some(crate::model::EmployeeStatus::Offboarded) {
                    return;
                }
                let new = NewEvent {
                    kind: "cron.tick".into(),
                    source: "scheduler".into(),
                    payload: serde_json::json!({"schedule": name, "cron": cron, "at": at}),
                    idempotency_key: Some(format!("cron:{name}:{}", at.timestamp())),
                };
                let event = Event::accept(rt.tenant.clone(), employee, new, Utc::now());
                match rt.writer.accept(event.clone()).await {
                    Ok(a) if !a.duplicate => {
                        metrics::counter!("empla_events_accepted_total").increment(1);
                        super::registry::deliver(&rt, event);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(employee = %employee, error = %e, "cron tick not stored")
                    }
                }
            }
        })
        .await;
    if rt.cluster.is_some() {
        rt.store.record_tick(&rt.tenant, cron, at).await?;
    }
    Ok(n)
}

/// Most ticks of one expression fired late by a node that takes the once-only work
/// over (the others of a long outage are skipped, and logged).
const CATCH_UP_TICKS: usize = 100;

/// Fires the ticks the previous scheduler of the cluster missed: for each expression,
/// those after the last one fanned out, up to now (at most a day back). Whoever fires a
/// tick, it reaches each employee once: its inbox key is the schedule and the time.
pub(crate) async fn catch_up(rt: &Arc<Runtime>) -> Result<usize, crate::store::StoreError> {
    let now = Utc::now().trunc_subsecs(0);
    let mut fired = 0;
    for cron in rt.store.subscribed_crons(&rt.tenant).await? {
        let Some(last) = rt.store.last_tick(&rt.tenant, &cron).await? else {
            continue;
        };
        let Ok(parsed) = crate::config::parse_cron6(&cron) else {
            continue;
        };
        let from = last.max(now - chrono::Duration::days(1));
        let missed: Vec<DateTime<Utc>> = parsed
            .iter_after(from)
            .take_while(|t| *t <= now)
            .take(CATCH_UP_TICKS + 1)
            .collect();
        if missed.len() > CATCH_UP_TICKS {
            tracing::warn!(
                cron,
                "more ticks were missed than are caught up; the oldest are skipped"
            );
        }
        for at in missed.into_iter().rev().take(CATCH_UP_TICKS).rev() {
            fan_out(rt, &cron, at).await?;
            fired += 1;
        }
    }
    Ok(fired)
}
