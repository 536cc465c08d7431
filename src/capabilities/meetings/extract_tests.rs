use super::*;

fn ctx() -> Context {
    Context {
        attendees: vec![
            Attendee::parse("Alex Morgan <alex@acme.com>"),
            Attendee::parse("Priya Shah <priya@acme.com>"),
            Attendee::parse("sam.rivera@example.com"),
        ],
        me: Attendee {
            name: Some("Jordan Lee".into()),
            address: "jordan.lee@example.com".into(),
            handle: Some("jordan.lee".into()),
        },
        // A Wednesday.
        day: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
    }
}

fn day(s: &str) -> Option<NaiveDate> {
    Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

/// (text, owner, mine, due) of each action item.
fn items(n: &MeetingNotes) -> Vec<(&str, Option<&str>, bool, Option<NaiveDate>)> {
    n.action_items
        .iter()
        .map(|i| (i.text.as_str(), i.owner.as_deref(), i.mine, i.due))
        .collect()
}

const SPEAKERS: &str = "\
Alex Morgan: Thanks for joining. The renewal is at risk because the rollout slipped two weeks.
Priya: The integration team is short of people until January. I'll send the revised rollout plan by Friday.
Jordan: Let's go with the phased rollout. I will draft the renewal proposal next week.
Alex: Sam will check the licence count by 2027-01-15.
Action: book the follow-up call (owner: Priya)
TODO: @Jordan share the pricing sheet
";

#[test]
fn speaker_lines_give_owners_due_dates_and_decisions() {
    let n = extract(SPEAKERS, &ctx()).unwrap();
    assert_eq!(
        items(&n),
        vec![
            (
                "Send the revised rollout plan by Friday",
                Some("Priya Shah"),
                false,
                day("2026-12-04")
            ),
            (
                "Draft the renewal proposal next week",
                Some("Jordan Lee"),
                true,
                day("2026-12-11")
            ),
            (
                "Check the licence count by 2027-01-15",
                Some("sam.rivera"),
                false,
                day("2027-01-15")
            ),
            ("Book the follow-up call", Some("Priya Shah"), false, None),
            ("Share the pricing sheet", Some("Jordan Lee"), true, None),
        ]
    );
    assert_eq!(
        n.action_items[0].owner_address.as_deref(),
        Some("priya@acme.com")
    );
    assert_eq!(n.action_items[0].due_said.as_deref(), Some("by friday"));
    assert_eq!(
        n.decisions,
        vec![Decision {
            text: "Let's go with the phased rollout".into(),
            by: Some("Jordan".into())
        }]
    );
    let notes: Vec<&str> = n.notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(
        notes,
        vec![
            "The renewal is at risk because the rollout slipped two weeks.",
            "The integration team is short of people until January.",
        ]
    );
    assert_eq!(n.notes[0].speaker.as_deref(), Some("Alex Morgan"));
}

#[test]
fn webvtt_voices_are_owners() {
    let vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\n<v Alex Morgan>We decided to move the launch to March.</v>\n\n00:00:05.000 --> 00:00:09.000\n<v Jordan Lee>I can take the customer announcement.</v>\n";
    let n = extract(vtt, &ctx()).unwrap();
    assert_eq!(
        items(&n),
        vec![(
            "Take the customer announcement",
            Some("Jordan Lee"),
            true,
            None
        )]
    );
    assert_eq!(
        n.decisions[0].text,
        "We decided to move the launch to March"
    );
    assert_eq!(n.decisions[0].by.as_deref(), Some("Alex Morgan"));
}

#[test]
fn timestamped_lines_are_read_too() {
    let t = "[00:12] Priya: Decision: the pilot stays at 40 seats.\n[00:40] jordan.lee@example.com: I'll update the CRM tomorrow.\n[01:05] Alex: Agreed, and Priya to confirm with legal by end of the week.";
    let n = extract(t, &ctx()).unwrap();
    assert_eq!(
        items(&n),
        vec![
            (
                "Update the CRM tomorrow",
                Some("Jordan Lee"),
                true,
                day("2026-12-03")
            ),
            (
                "Confirm with legal by end of the week",
                Some("Priya Shah"),
                false,
                day("2026-12-04")
            ),
        ]
    );
    let decisions: Vec<&str> = n.decisions.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(
        decisions,
        vec![
            "The pilot stays at 40 seats",
            "Agreed, and Priya to confirm with legal by end of the week"
        ]
    );
}

#[test]
fn a_name_nobody_in_the_meeting_has_stays_as_said() {
    let n = extract("Alex: Action item: Dana: renew the SSL certificate", &ctx()).unwrap();
    assert_eq!(
        items(&n),
        vec![("Renew the SSL certificate", Some("Dana"), false, None)]
    );
    assert_eq!(n.action_items[0].owner_address, None);
    assert_eq!(n.action_items[0].said_by.as_deref(), Some("Alex"));
}

#[test]
fn questions_and_vague_promises_are_no_action_items() {
    let n = extract(
        "Alex: Will you send it? I'll be out on Monday. I think it works well for everyone here.",
        &ctx(),
    )
    .unwrap();
    assert!(n.action_items.is_empty(), "{:?}", n.action_items);
    assert_eq!(n.notes.len(), 1, "{:?}", n.notes);
}

#[test]
fn empty_and_unreadable_transcripts_are_refused() {
    assert_eq!(extract("  \n ", &ctx()), Err(TranscriptError::Empty));
    assert_eq!(
        extract("we talked about the budget and went home", &ctx()),
        Err(TranscriptError::NoTurns)
    );
    assert!(
        TranscriptError::NoTurns.to_string().contains("WebVTT"),
        "the error names the formats understood"
    );
}

#[test]
fn the_same_transcript_gives_the_same_notes() {
    assert_eq!(extract(SPEAKERS, &ctx()), extract(SPEAKERS, &ctx()));
}

proptest::proptest! {
    /// Any text, in any script, with or without speaker turns, tags, addresses and
    /// dates: read without a panic, the same way twice, owners only from what was
    /// said.
    #[test]
    fn any_transcript_is_read_the_same_way_twice(
        lines in proptest::collection::vec(
            (
                proptest::option::of("(Alex|Priya|Jordan Lee|Zoë Ångström|sam.rivera@example.com|\\[00:1[0-9]\\] Dana)"),
                "(?s)(I'll |I will |Action: |TODO: @|@Priya |Priya to |we decided |by Friday |next week |É|ß|日本|, and |: )?.{0,60}",
            ),
            0..12,
        ),
    ) {
        let text: String = lines
            .iter()
            .map(|(who, said)| match who {
                Some(w) => format!("{w}: {said}\n"),
                None => format!("{said}\n"),
            })
            .collect();
        let a = extract(&text, &ctx());
        proptest::prop_assert_eq!(&a, &extract(&text, &ctx()));
        if let Ok(n) = a {
            proptest::prop_assert!(n.notes.len() <= MAX_NOTES);
            for i in &n.action_items {
                proptest::prop_assert!(!i.text.is_empty());
                if i.mine {
                    proptest::prop_assert_eq!(i.owner.as_deref(), Some("Jordan Lee"));
                }
            }
        }
    }
}
