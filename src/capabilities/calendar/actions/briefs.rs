//! Meeting briefs: what to know before a meeting.

use super::*;

/// What to know before a meeting: when and with whom, the latest exchanges with each
/// participant, what the company knows about them, and what else the employee
/// remembers about the subject.
pub(crate) async fn brief(
    hands: &Hands,
    me: &Sender,
    e: &CalendarEvent,
) -> Result<String, CapabilityError> {
    brief_for(hands, me, e, &me.email).await
}

/// [`brief`] written for `reader` (the employee, or the executive its assistant
/// briefs): the participants described are the others.
pub(crate) async fn brief_for(
    hands: &Hands,
    me: &Sender,
    e: &CalendarEvent,
    reader: &str,
) -> Result<String, CapabilityError> {
    let tz = hands.calendar.config.hours_of(&me.email).tz;
    let team = hands
        .store
        .employee(&hands.tenant, me.id)
        .await?
        .map(|p| p.team)
        .unwrap_or_default();
    let viewer = Viewer {
        employee: me.id,
        team,
    };
    let mut out = format!(
        "Brief: {}\nWhen: {}\nOrganiser: {}\nWith: {}\n",
        e.title,
        span(e.start, e.end, tz),
        e.organizer,
        if e.attendees.is_empty() {
            "(no one else)".to_string()
        } else {
            e.attendees.join(", ")
        }
    );
    if !e.description.is_empty() {
        out.push_str(&format!("Agenda: {}\n", e.description));
    }
    let mut seen: HashSet<String> = HashSet::new();
    for who in std::iter::once(&e.organizer).chain(&e.attendees) {
        let address = bare_address(who);
        if address.eq_ignore_ascii_case(&me.email) || address.eq_ignore_ascii_case(reader) {
            continue;
        }
        let name = display_name(who).unwrap_or(address);
        out.push_str(&format!("\n{name}\n"));
        let r = Recall {
            with: Some(address.to_string()),
            limit: 3,
            ..Recall::default()
        };
        let items = hands.store.recall(&hands.tenant, &viewer, &r).await?;
        if items.is_empty() {
            out.push_str("- nothing in my memory with them yet\n");
        }
        for i in items {
            if seen.insert(i.id.clone()) {
                out.push_str(&format!(
                    "- {}: {}\n",
                    i.at.format("%-d %b"),
                    clip(&i.text, 200)
                ));
            }
        }
        let mut seeds = vec![crate::memory::text::term_string(name)];
        if let Some((_, domain)) = address.rsplit_once('@') {
            let org = domain.split('.').next().unwrap_or(domain);
            seeds.push(crate::memory::text::term_string(org));
        }
        seeds.retain(|s| !s.is_empty());
        for f in hands
            .store
            .facts(&hands.tenant, &viewer, &seeds, 1, 5, 0)
            .await?
        {
            out.push_str(&format!("- {}\n", f.sentence()));
        }
    }
    let r = Recall {
        q: e.title.clone(),
        limit: 5,
        ..Recall::default()
    };
    let related: Vec<_> = hands
        .store
        .recall(&hands.tenant, &viewer, &r)
        .await?
        .into_iter()
        .filter(|i| !seen.contains(&i.id))
        .take(3)
        .collect();
    if !related.is_empty() {
        out.push_str(&format!("\nAbout \"{}\"\n", e.title));
        for i in related {
            out.push_str(&format!("- {}\n", clip(&i.text, 200)));
        }
    }
    Ok(out)
}

pub(super) fn clip(s: &str, n: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}
