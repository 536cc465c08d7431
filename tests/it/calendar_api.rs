//! Calendars through the real binary — the calendar API and CLI and each bad input's
//! error — and the same booking and sync against a real CalDAV server (Radicale,
//! `tests/calendar/radicale.sh`).

use super::caldav_fixture::Radicale;
use super::calendar::{episode_kinds, meeting, next_weekday_at_ten};
use super::common::{self, eventually, start_binary};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use empla::lifecycle::HireRequest;
use empla::model::{EventStatus, SlotRequest};
use empla::node::Node;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_api_and_cli_book_show_and_refuse_bad_input() {
    let data = tempfile::tempdir().unwrap();
    let node = start_binary(data.path());
    let post = |path: &str, body: Value| {
        let req = node
            .client()
            .post(node.url(path))
            .bearer_auth(&node.token)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let at = next_weekday_at_ten();
    let (status, booked) = post(
        "/api/v1/employees/jordan.lee/calendar",
        json!({"title": "Demo", "attendees": ["sarah@acme.com"], "start": at, "duration_minutes": 30}),
    )
    .await;
    assert_eq!(status, 201, "{booked}");
    assert_eq!(
        booked["event"]["start"].as_str().unwrap(),
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let listed = node
        .get_json(&format!(
            "/api/v1/calendar?owner=sarah@acme.com&from={}",
            at.format("%Y-%m-%d")
        ))
        .await;
    assert_eq!(listed["items"][0]["title"], "Demo", "{listed}");
    // A client retrying with the same Idempotency-Key books once.
    let mut uids = Vec::new();
    for _ in 0..2 {
        let r = node
            .client()
            .post(node.url("/api/v1/employees/jordan.lee/calendar"))
            .bearer_auth(&node.token)
            .header("Idempotency-Key", "demo-follow-up-1")
            .json(&json!({"title": "Retry me", "attendees": ["sarah@acme.com"], "duration_minutes": 30}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        uids.push(r.json::<Value>().await.unwrap()["event"]["uid"].clone());
    }
    assert_eq!(uids[0], uids[1]);
    let sarah = node
        .get_json("/api/v1/calendar?owner=sarah@acme.com&to=2027-12-01")
        .await;
    let retried = sarah["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["title"] == "Retry me")
        .count();
    assert_eq!(retried, 1, "{sarah}");
    let shown = node.cli(&[
        "calendar",
        "show",
        "jordan.lee",
        "--from",
        &at.format("%Y-%m-%d").to_string(),
    ]);
    assert!(shown.contains("Demo"), "{shown}");
    let out = node.cli(&[
        "calendar",
        "book",
        "jordan.lee",
        "--title",
        "Follow-up",
        "--attendee",
        "sarah@acme.com",
        "--duration",
        "45",
    ]);
    assert!(out.starts_with("booked "), "{out}");
    let slots = node.cli(&[
        "calendar",
        "slots",
        "--attendee",
        "jordan.lee",
        "--attendee",
        "sarah@acme.com",
        "--between",
        "09:00-12:00",
    ]);
    assert_eq!(slots.lines().count(), 3, "{slots}");
    for line in slots.lines() {
        let start: DateTime<Utc> = line.split(' ').next().unwrap().parse().unwrap();
        assert!(
            start.time() >= NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            "{line}"
        );
        assert!(
            start.time() <= NaiveTime::from_hms_opt(11, 30, 0).unwrap(),
            "{line}"
        );
    }

    // Each bad input is refused, naming what to fix.
    for (body, field) in [
        (json!({"title": "", "duration_minutes": 30}), "title"),
        (
            json!({"title": "x", "duration_minutes": 2}),
            "duration_minutes",
        ),
        (
            json!({"title": "x", "duration_minutes": 30, "attendees": ["nobody"]}),
            "attendees[0]",
        ),
        (
            json!({"title": "x", "duration_minutes": 30, "start": "2020-01-01T00:00:00Z"}),
            "start",
        ),
        (
            json!({"title": "x", "duration_minutes": 30, "room": "B"}),
            "room",
        ),
        (
            json!({"title": "x", "duration_minutes": 30, "between": "afternoon"}),
            "between",
        ),
    ] {
        let (status, e) = post("/api/v1/employees/jordan.lee/calendar", body).await;
        assert_eq!(status, 400, "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(field),
            "{field}: {e}"
        );
    }
    let (status, _) = post(
        "/api/v1/employees/nobody/calendar",
        json!({"title": "x", "duration_minutes": 30}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, e) = post(
        "/api/v1/calendar/slots",
        json!({"attendees": [], "duration_minutes": 30}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("attendees"),
        "{e}"
    );
    let r = node
        .client()
        .get(node.url("/api/v1/calendar"))
        .bearer_auth(&node.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let bad = node.run_cli(&[
        "calendar",
        "book",
        "jordan.lee",
        "--title",
        "x",
        "--start",
        "tomorrow",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--start must be a time"));
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meetings_are_booked_on_and_perceived_from_a_caldav_server() {
    let riley = "riley.quinn@example.com";
    let alex = "alex.morgan@example.com";
    let dav = Radicale::start(&[riley, alex]);
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("calendar-credentials.toml"),
        format!(
            "[accounts.\"{riley}\"]\npassword = \"pw\"\n[accounts.\"{alex}\"]\npassword = \"pw\"\n"
        ),
    )
    .unwrap();
    let mut opts = common::options("caldav");
    opts.data_dir = data.path().to_path_buf();
    opts.calendar = empla::config::CalendarConfig {
        driver: empla::config::CalendarDriverKind::Caldav,
        url: dav.url.clone(),
        sync_every: std::time::Duration::from_secs(1),
        ..Default::default()
    };
    let store = common::sqlite().await;
    let node = Node::start_with_store(store.store.clone(), opts)
        .await
        .unwrap();
    let hired = node
        .hire(HireRequest::new("sales_ae", "Riley Quinn"))
        .await
        .unwrap();
    assert_eq!(hired.email, riley);

    // Alex is busy for the next two days, in a calendar client.
    let now = Utc::now();
    let f = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let busy_until = now + Duration::days(2);
    dav.put(
        alex,
        "trip",
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:trip\r\nDTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Trip\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            f(now),
            f(now - Duration::hours(1)),
            f(busy_until)
        ),
    )
    .await;
    let booked = node
        .book_meeting(
            hired.id,
            meeting(
                "Quarterly plan",
                &["Alex Morgan <alex.morgan@example.com>"],
                60,
            ),
        )
        .await
        .unwrap();
    assert!(booked.event.start >= busy_until, "{booked:?}");
    assert!(booked.unreached.is_empty(), "{booked:?}");
    // Both calendars on the server hold it.
    for user in [riley, alex] {
        let found = dav.report(user).await;
        assert!(
            found.contains(&booked.event.uid) && found.contains("Quarterly plan"),
            "{user}: {found}"
        );
    }
    // A meeting someone else puts in Riley's calendar is perceived by Riley.
    let start = now + Duration::hours(3);
    dav.put(
        riley,
        "standup",
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:standup-1\r\nDTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Team standup\r\nORGANIZER:mailto:{alex}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            f(now),
            f(start),
            f(start + Duration::minutes(15))
        ),
    )
    .await;
    eventually(20, "Riley perceives the standup", || async {
        episode_kinds(&node, hired.id)
            .await
            .iter()
            .any(|(_, p)| p["id"] == "standup-1" && p["title"] == "Team standup")
            .then_some(())
    })
    .await;
    // A series Alex keeps in a calendar client (all day, every day, from yesterday)
    // counts on every day it recurs: no time is left in the week.
    dav.put(
        alex,
        "daily",
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:daily\r\nDTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\nRRULE:FREQ=DAILY\r\nSUMMARY:Deep work\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            f(now),
            f(now - Duration::days(1) - Duration::hours(12)),
            f(now - Duration::days(1) + Duration::hours(12)),
        ),
    )
    .await;
    let ask = SlotRequest {
        attendees: vec![alex.into()],
        duration_minutes: 30,
        ..SlotRequest::default()
    };
    let free = node.free_times(ask).await.unwrap();
    assert!(free.items.is_empty(), "{free:?}");
    // Read back through the node, as the API does.
    let cal = node
        .calendar(riley, now, now + Duration::days(7))
        .await
        .unwrap();
    assert!(
        cal.iter()
            .any(|e| e.uid == "standup-1" && e.status == EventStatus::Confirmed)
    );
    node.shutdown().await;
}
