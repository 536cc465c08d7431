//! Calendars on the built-in driver: booking at the best time everyone is free and
//! inviting the humans, moving a lower-priority meeting out of a higher one's way, the
//! EA briefing its executive before a meeting, interview times offered and booked, bookings retried after a crash, focus time and
//! rescheduling. The calendar API and CLI, and a real CalDAV server, are in
//! `calendar_api.rs`.

use super::common::{self, eventually};
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc, Weekday};
use empla::bdi::Phase;
use empla::lifecycle::HireRequest;
use empla::model::{
    EmployeeId, EventStatus, Manager, NewMeeting, OutgoingMail, Priority, SlotRequest,
};
use empla::node::Node;
use serde_json::{Value, json};

/// 10:00 UTC on the next weekday at least a day away: inside everyone's default hours.
pub(super) fn next_weekday_at_ten() -> DateTime<Utc> {
    let mut d = (Utc::now() + Duration::days(1)).date_naive();
    while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d += Duration::days(1);
    }
    d.and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap())
        .and_utc()
}

/// A node on `store` for `tenant`, with Riley Quinn, a Sales AE, hired.
async fn with_riley(
    store: &common::TestStore,
    tenant: &str,
) -> (Node, empla::model::EmployeeProfile) {
    let node = Node::start_with_store(store.store.clone(), common::options(tenant))
        .await
        .unwrap();
    let riley = node
        .hire(HireRequest::new("sales_ae", "Riley Quinn"))
        .await
        .unwrap();
    (node, riley)
}

/// An autonomous `role` employee hired as `name`, reporting to Alex Morgan.
async fn autonomous_under_alex(
    node: &Node,
    role: &str,
    name: &str,
) -> empla::model::EmployeeProfile {
    let mut req = HireRequest::new(role, name);
    req.manager = Some(Manager::Human {
        name: "Alex Morgan".into(),
        email: "alex.morgan@example.com".into(),
    });
    let hired = node.hire(req).await.unwrap();
    node.set_phase(hired.id, Phase::Autonomous).await.unwrap();
    hired
}

pub(super) fn meeting(title: &str, attendees: &[&str], minutes: i64) -> NewMeeting {
    NewMeeting {
        title: title.into(),
        attendees: attendees.iter().map(|a| a.to_string()).collect(),
        duration_minutes: minutes,
        ..NewMeeting::default()
    }
}

pub(super) async fn episode_kinds(node: &Node, id: EmployeeId) -> Vec<(String, Value)> {
    node.episodes(id, 100, None)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| (e.summary, e.payload))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_is_booked_when_everyone_is_free_and_the_human_is_invited() {
    booked_when_everyone_is_free(common::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_is_booked_when_everyone_is_free_on_postgres() {
    if let Some(store) = common::postgres().await {
        booked_when_everyone_is_free(store).await;
    }
}

async fn booked_when_everyone_is_free(store: common::TestStore) {
    let (node, riley) = with_riley(&store, "cal").await;
    let sarah = "Sarah Chen <sarah@acme.com>";
    // Sarah is busy for the next two days (a meeting someone else organised).
    let casey = node
        .hire(HireRequest::new("ea", "Casey Park"))
        .await
        .unwrap();
    let blocker = node
        .book_meeting(
            casey.id,
            NewMeeting {
                start: Some(Utc::now() + Duration::minutes(1)),
                ..meeting("Offsite", &["sarah@acme.com"], 12 * 60)
            },
        )
        .await
        .unwrap();
    let busy_until = blocker.event.end;

    let booked = node
        .book_meeting(riley.id, meeting("Pricing call", &[sarah], 45))
        .await
        .unwrap();
    let e = &booked.event;
    assert_eq!(e.end - e.start, Duration::minutes(45));
    assert!(e.start >= busy_until, "{e:?} overlaps Sarah's offsite");
    // Within the default working hours (Monday to Friday, 09:00–17:00 UTC).
    assert!(
        !matches!(e.start.weekday(), Weekday::Sat | Weekday::Sun),
        "{e:?}"
    );
    assert!(
        e.start.time() >= NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        "{e:?}"
    );
    assert!(
        e.end.time() <= NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        "{e:?}"
    );
    assert!(booked.moved.is_empty());

    // A copy in both calendars, the invitation in Sarah's inbox, and Riley perceives it.
    for owner in ["riley.quinn@example.com", "sarah@acme.com"] {
        let cal = node
            .calendar(owner, Utc::now(), Utc::now() + Duration::days(30))
            .await
            .unwrap();
        assert!(cal.iter().any(|c| c.uid == e.uid), "{owner}: {cal:?}");
    }
    let inbox = node.mail_inbox("sarah@acme.com", 10).await.unwrap();
    assert!(
        inbox
            .iter()
            .any(|m| m.subject.starts_with("Invitation: Pricing call")
                && m.body.contains("Riley Quinn")),
        "{inbox:?}"
    );
    let kinds = eventually(10, "Riley perceives the meeting", || async {
        let k = episode_kinds(&node, riley.id).await;
        k.iter().any(|(_, p)| p["id"] == json!(e.uid)).then_some(k)
    })
    .await;
    assert!(!kinds.is_empty());

    // The free times Sarah and Riley share start after Sarah's offsite and never
    // overlap the call; asked for afternoons only, they fall between 13:00 and 17:00.
    let ask = SlotRequest {
        attendees: vec!["riley.quinn".into(), "sarah@acme.com".into()],
        duration_minutes: 30,
        between: Some("13:00-17:00".into()),
        ..SlotRequest::default()
    };
    let slots = node.free_times(ask).await.unwrap();
    assert_eq!(slots.items.len(), 3, "{slots:?}");
    for s in &slots.items {
        assert!(s.start >= busy_until, "{s:?}");
        assert!(s.end <= e.start || s.start >= e.end, "{s:?} overlaps {e:?}");
        assert!(
            s.start.time() >= NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
            "{s:?}"
        );
    }
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lower_priority_meeting_the_employee_organised_moves_for_a_higher_one() {
    lower_priority_moves(common::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lower_priority_meeting_moves_for_a_higher_one_on_postgres() {
    if let Some(store) = common::postgres().await {
        lower_priority_moves(store).await;
    }
}

async fn lower_priority_moves(store: common::TestStore) {
    let (node, riley) = with_riley(&store, "bump").await;
    let at = next_weekday_at_ten();
    let low = node
        .book_meeting(
            riley.id,
            NewMeeting {
                start: Some(at),
                priority: Some(Priority::Low),
                ..meeting("Pipeline review", &["alex.morgan@example.com"], 60)
            },
        )
        .await
        .unwrap();
    assert_eq!(low.event.start, at);

    let high = node
        .book_meeting(
            riley.id,
            NewMeeting {
                start: Some(at),
                priority: Some(Priority::High),
                ..meeting("Escalation call", &["sarah@acme.com"], 60)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        high.event.start, at,
        "the high-priority meeting takes its time"
    );
    assert_eq!(high.moved.len(), 1, "{high:?}");
    let moved = &high.moved[0];
    assert_eq!(moved.uid, low.event.uid);
    assert_eq!(moved.from, at);
    assert!(moved.to >= at + Duration::hours(1) || moved.to + Duration::hours(1) <= at);
    // Every copy moved, and Alex was told.
    let alex = node
        .calendar(
            "alex.morgan@example.com",
            Utc::now(),
            Utc::now() + Duration::days(30),
        )
        .await
        .unwrap();
    let copy = alex.iter().find(|c| c.uid == low.event.uid).unwrap();
    assert_eq!(copy.start, moved.to);
    assert_eq!(copy.sequence, 1);
    let inbox = node
        .mail_inbox("alex.morgan@example.com", 10)
        .await
        .unwrap();
    assert!(
        inbox
            .iter()
            .any(|m| m.subject.starts_with("Moved: Pipeline review")),
        "{inbox:?}"
    );

    // A meeting of the same priority as the one in the way does not move it: it goes
    // to the best free time instead.
    let same = node
        .book_meeting(
            riley.id,
            NewMeeting {
                start: Some(at),
                priority: Some(Priority::High),
                ..meeting("Another call", &[], 30)
            },
        )
        .await
        .unwrap();
    assert!(same.moved.is_empty());
    assert!(
        same.event.end <= at || same.event.start >= at + Duration::hours(1),
        "{same:?}"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ea_briefs_its_executive_before_a_meeting_with_what_it_knows() {
    let store = common::sqlite().await;
    let node = Node::start_with_store(store.store.clone(), common::options("brief"))
        .await
        .unwrap();
    let casey = autonomous_under_alex(&node, "ea", "Casey Park").await;
    // Something to remember about Sarah.
    node.send_mail(OutgoingMail {
        from: "Sarah Chen <sarah@acme.com>".into(),
        to: casey.email.clone(),
        subject: "Renewal terms".into(),
        body: "We need the renewal quote for 40 seats before Friday.".into(),
        in_reply_to: None,
    })
    .await
    .unwrap();
    // A meeting in 20 minutes: inside the EA's 30-minute `meeting_soon` trigger.
    let booked = node
        .book_meeting(
            casey.id,
            NewMeeting {
                start: Some(Utc::now() + Duration::minutes(20)),
                description: Some("Renewal for 40 seats".into()),
                ..meeting("Renewal with Acme", &["Sarah Chen <sarah@acme.com>"], 30)
            },
        )
        .await
        .unwrap();
    let brief = eventually(20, "the brief in Alex's inbox", || async {
        node.mail_inbox("alex.morgan@example.com", 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.subject == "Brief: Renewal with Acme")
    })
    .await;
    assert!(brief.body.contains("Sarah Chen"), "{}", brief.body);
    assert!(
        brief.body.contains("renewal quote for 40 seats"),
        "{}",
        brief.body
    );
    assert!(
        brief.body.contains("Renewal for 40 seats"),
        "{}",
        brief.body
    );
    // Cancelled, it is dropped from what the EA counts down to: no second brief.
    let _ = booked;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_is_offered_interview_times_and_the_one_picked_is_booked() {
    let store = common::sqlite().await;
    let node = Node::start_with_store(store.store.clone(), common::options("hiring"))
        .await
        .unwrap();
    let robin = autonomous_under_alex(&node, "recruiter", "Robin Hale").await;
    let dana = "dana@candidates.test";
    let first = node
        .send_mail(OutgoingMail {
            from: format!("Dana Fox <{dana}>"),
            to: robin.email.clone(),
            subject: "The position".into(),
            body: "Thanks for reaching out, I would love to interview for the role.".into(),
            in_reply_to: None,
        })
        .await
        .unwrap();
    // The offer comes back in the thread, numbered.
    let offer = eventually(20, "the interview times in Dana's inbox", || async {
        node.mail_inbox(dana, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.in_reply_to.as_deref() == Some(first.as_str()))
    })
    .await;
    let options: Vec<&str> = offer
        .body
        .lines()
        .filter(|l| l.starts_with(['1', '2', '3']) && l.contains(". "))
        .collect();
    assert_eq!(options.len(), 3, "{}", offer.body);
    // Dana picks the second.
    node.send_mail(OutgoingMail {
        from: format!("Dana Fox <{dana}>"),
        to: robin.email.clone(),
        subject: format!("Re: {}", offer.subject),
        body: format!("2 works for me.\n\n> {}", options[0]),
        in_reply_to: Some(offer.message_id.clone()),
    })
    .await
    .unwrap();
    let invitation = eventually(20, "the invitation", || async {
        node.mail_inbox(dana, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.subject.starts_with("Invitation: Interview: Dana Fox"))
    })
    .await;
    // Booked at the time Dana picked, in the hiring manager's calendar too.
    let alex = node
        .calendar(
            "alex.morgan@example.com",
            Utc::now(),
            Utc::now() + Duration::days(30),
        )
        .await
        .unwrap();
    assert_eq!(alex.len(), 1, "{alex:?}");
    let booked = &alex[0];
    let picked = booked.start.format("%a %-d %b %Y, %H:%M").to_string();
    assert!(
        options[1].contains(&picked),
        "{picked} is not {}",
        options[1]
    );
    assert_eq!(booked.end - booked.start, Duration::minutes(45));
    assert!(invitation.body.contains(&picked), "{}", invitation.body);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_retried_after_a_crash_books_the_meeting_once() {
    let store = common::sqlite().await;
    let (node, riley) = with_riley(&store, "retry").await;
    node.shutdown().await;
    // As if the node died while running a `calendar.schedule`: the action is stored
    // and not marked done, and the meeting it booked is already in Riley's calendar.
    let key = empla::model::OutboxEntry::key_for(riley.id, 7);
    let uid = format!(
        "{}@example.com",
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, key.as_bytes())
    );
    let at = next_weekday_at_ten();
    let first = empla::model::CalendarEvent {
        uid: uid.clone(),
        title: "Pricing call".into(),
        description: String::new(),
        start: at,
        end: at + Duration::minutes(30),
        organizer: format!("Riley Quinn <{}>", riley.email),
        attendees: vec!["sarah@acme.com".into()],
        priority: Priority::Medium,
        status: EventStatus::Confirmed,
        sequence: 0,
        focus: false,
        recurring: false,
        changed_by: None,
    };
    let tenant = empla::model::TenantId::new("retry");
    store
        .store
        .put_calendar_events(&tenant, std::slice::from_ref(&riley.email), &first)
        .await
        .unwrap();
    // Asked for no time: a second booking would land at the best free one, not `at`.
    stored_not_run(
        &store,
        &tenant,
        riley.id,
        7,
        "calendar.schedule",
        json!({"title": "Pricing call", "attendees": ["sarah@acme.com"], "duration_minutes": 30}),
    )
    .await;

    let node = Node::start_with_store(store.store.clone(), common::options("retry"))
        .await
        .unwrap();
    let done = done_action(&node, riley.id, 7).await;
    assert_eq!(done["event"]["uid"], json!(uid));
    let cal = node
        .calendar(
            "sarah@acme.com",
            Utc::now(),
            Utc::now() + Duration::days(30),
        )
        .await
        .unwrap();
    assert_eq!(cal.len(), 1, "booked once: {cal:?}");
    assert_eq!(cal[0].start, at);
    let invitations = node.mail_inbox("sarah@acme.com", 10).await.unwrap();
    assert_eq!(invitations.len(), 1, "{invitations:?}");
    node.shutdown().await;

    // A cancel that died after changing Riley's copy: the retry finishes Sarah's copy
    // and tells her once, without changing the meeting again.
    let key = empla::model::OutboxEntry::key_for(riley.id, 8);
    let cancelled = empla::model::CalendarEvent {
        status: EventStatus::Cancelled,
        sequence: 1,
        changed_by: Some(key),
        ..first
    };
    store
        .store
        .put_calendar_events(&tenant, std::slice::from_ref(&riley.email), &cancelled)
        .await
        .unwrap();
    stored_not_run(
        &store,
        &tenant,
        riley.id,
        8,
        "calendar.cancel",
        json!({"event_id": uid}),
    )
    .await;
    let node = Node::start_with_store(store.store.clone(), common::options("retry"))
        .await
        .unwrap();
    assert_eq!(done_action(&node, riley.id, 8).await["sequence"], 1);
    let sarah = node
        .calendar(
            "sarah@acme.com",
            Utc::now(),
            Utc::now() + Duration::days(30),
        )
        .await
        .unwrap();
    assert_eq!(
        (sarah[0].status, sarah[0].sequence),
        (EventStatus::Cancelled, 1)
    );
    let mails = node.mail_inbox("sarah@acme.com", 10).await.unwrap();
    let told: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.starts_with("Cancelled:"))
        .collect();
    assert_eq!(told.len(), 1, "{mails:?}");
    node.shutdown().await;
}

/// As if the node died right after committing a decision: action `id` of `employee`
/// is stored (and named in its snapshot) but never ran.
async fn stored_not_run(
    store: &common::TestStore,
    tenant: &empla::model::TenantId,
    employee: EmployeeId,
    id: u64,
    kind: &str,
    params: Value,
) {
    let (writer, _task) =
        empla::store::StoreWriter::start(store.store.clone(), &Default::default());
    writer
        .complete(
            empla::store::Completion {
                fence: None,
                tenant: tenant.clone(),
                employee,
                event_id: None,
                episodes: Vec::new(),
                snapshot: Some(
                    rmp_serde::to_vec_named(&empla::actors::Snapshot {
                        outbox: [id].into(),
                        ..Default::default()
                    })
                    .unwrap(),
                ),
                wake_at: None,
                approvals: Vec::new(),
                actions: vec![empla::model::OutboxEntry {
                    key: empla::model::OutboxEntry::key_for(employee, id),
                    employee_id: employee,
                    action_id: id,
                    kind: kind.into(),
                    params,
                }],
            },
            None,
        )
        .await
        .unwrap();
    writer.flush().await;
}

/// The result of action `id` once it ran (done).
async fn done_action(node: &Node, employee: EmployeeId, id: u64) -> Value {
    eventually(20, "the action done", || async {
        node.actions(employee, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.entry.action_id == id && r.status == empla::model::ActionStatus::Done)
            .and_then(|r| r.result)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ea_keeps_focus_time_in_its_executives_next_week_once_approved() {
    let store = common::sqlite().await;
    let node = Node::start_with_store(store.store.clone(), common::options("focus"))
        .await
        .unwrap();
    let casey = autonomous_under_alex(&node, "ea", "Casey Park").await;
    // Focus time fell below 10 h a week twice: the EA waits for a second sign before
    // acting on what it notices.
    for value in [6.0, 12.0, 5.5] {
        node.submit_event(
            casey.id,
            empla::model::NewEvent {
                kind: "metric".into(),
                source: "test".into(),
                payload: json!({"metric": "executive_focus_hours_per_week", "value": value}),
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    }
    // Changing the executive's calendar waits for approval, even for an autonomous EA.
    let pending = eventually(20, "the block waiting for approval", || async {
        let a = node
            .approvals(
                Some(casey.id),
                Some(empla::model::ApprovalStatus::Pending),
                10,
            )
            .await
            .unwrap();
        a.into_iter().find(|a| a.action["kind"] == "calendar.block")
    })
    .await;
    node.decide(pending.id, true, "alex", None).await.unwrap();
    eventually(20, "the block done", || async {
        node.actions(casey.id, 20)
            .await
            .unwrap()
            .into_iter()
            .find(|r| {
                r.entry.kind == "calendar.block" && r.status == empla::model::ActionStatus::Done
            })
    })
    .await;
    let blocks = node
        .calendar(
            "alex.morgan@example.com",
            Utc::now(),
            Utc::now() + Duration::days(15),
        )
        .await
        .unwrap();
    let total: Duration = blocks.iter().map(|b| b.end - b.start).sum();
    assert_eq!(total, Duration::hours(4), "{blocks:?}");
    let mut days: Vec<_> = blocks.iter().map(|b| b.start.date_naive()).collect();
    days.dedup();
    assert_eq!(days.len(), blocks.len(), "one block a day: {blocks:?}");
    let next_monday = {
        let today = Utc::now().date_naive();
        today + Duration::days(7 - today.weekday().num_days_from_monday() as i64)
    };
    for b in &blocks {
        assert!(b.focus && b.title == "Focus time", "{b:?}");
        assert!(b.end - b.start <= Duration::hours(2), "{b:?}");
        assert!(b.start.date_naive() >= next_monday, "next week: {b:?}");
        assert!(b.organizer.contains("casey.park@example.com"), "{b:?}");
    }
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rescheduled_meeting_moves_in_every_calendar_and_its_people_are_told() {
    let store = common::sqlite().await;
    let (node, riley) = with_riley(&store, "moves").await;
    let at = next_weekday_at_ten();
    let booked = node
        .book_meeting(
            riley.id,
            NewMeeting {
                start: Some(at),
                ..meeting("Pricing call", &["sarah@acme.com"], 30)
            },
        )
        .await
        .unwrap();
    node.shutdown().await;
    let later = at + Duration::days(1);
    stored_not_run(
        &store,
        &empla::model::TenantId::new("moves"),
        riley.id,
        3,
        "calendar.reschedule",
        json!({"event_id": booked.event.uid, "start": later}),
    )
    .await;
    let node = Node::start_with_store(store.store.clone(), common::options("moves"))
        .await
        .unwrap();
    assert_eq!(done_action(&node, riley.id, 3).await["start"], json!(later));
    for owner in [riley.email.as_str(), "sarah@acme.com"] {
        let cal = node
            .calendar(owner, Utc::now(), Utc::now() + Duration::days(30))
            .await
            .unwrap();
        assert_eq!(
            (cal[0].start, cal[0].sequence),
            (later, 1),
            "{owner}: {cal:?}"
        );
    }
    let mails = node.mail_inbox("sarah@acme.com", 10).await.unwrap();
    assert!(
        mails
            .iter()
            .any(|m| m.subject.starts_with("Moved: Pricing call")),
        "{mails:?}"
    );
    node.shutdown().await;
}
