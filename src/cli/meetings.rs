//! `empla meetings transcript|notes`: hand a meeting's transcript to the employee that
//! owns the meeting, and read the notes taken from it, through the node's API.

use super::NodeArgs;
use super::client::{Client, print, read};
use crate::capabilities::meetings::{MeetingNotes, MeetingRecord, TranscriptBody, TranscriptTaken};
use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;
use std::path::PathBuf;

/// `empla meetings ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum MeetingsAction {
    /// Hand a meeting's transcript (a "Name: text", WebVTT or "[00:12] Name: text"
    /// file) to the employee that owns the meeting: it takes the notes, decisions and
    /// action items, mails them to the attendees and takes its own items as tasks.
    Transcript {
        /// The meeting: its calendar event's uid (as `empla calendar show EMPLOYEE` lists it).
        event_id: String,
        /// The transcript file (.txt, .vtt or .md).
        file: PathBuf,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The notes of a meeting: what was discussed, decided, and who does what by when.
    Notes {
        /// The meeting: its calendar event's uid.
        event_id: String,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// The path segment of a meeting's id (uids hold `@` and may hold `/`).
fn segment(event_id: &str) -> String {
    event_id
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn print_notes(n: &MeetingNotes) -> anyhow::Result<()> {
    outln!("Notes:");
    for note in &n.notes {
        match &note.speaker {
            Some(s) => outln!("  - {s}: {}", note.text),
            None => outln!("  - {}", note.text),
        }
    }
    outln!("Decisions:");
    for d in &n.decisions {
        outln!("  - {}", d.text);
    }
    outln!("Action items:");
    for a in &n.action_items {
        let due = a.due.map(|d| format!(" (due {d})")).unwrap_or_default();
        let mine = if a.mine { " [mine: a task]" } else { "" };
        outln!(
            "  - {}: {}{due}{mine}",
            a.owner.as_deref().unwrap_or("unassigned"),
            a.text
        );
    }
    Ok(())
}

pub(super) async fn run(action: MeetingsAction) -> anyhow::Result<()> {
    match action {
        MeetingsAction::Transcript {
            event_id,
            file,
            json,
            node,
        } => {
            let transcript = std::fs::read_to_string(&file).with_context(|| {
                format!(
                    "cannot read the transcript {} as UTF-8 text",
                    file.display()
                )
            })?;
            let body = TranscriptBody {
                transcript,
                name: file.file_name().map(|n| n.to_string_lossy().into_owned()),
            };
            let v: Value = Client::new(&node)?
                .post(&format!("/meetings/{}/transcript", segment(&event_id)))
                .json(&body)
                .answer()
                .await?;
            if json {
                return print(&v);
            }
            let t: TranscriptTaken = read(v)?;
            match (t.status.as_str(), t.replaces) {
                ("unchanged", _) => outln!(
                    "unchanged: the notes of \"{}\" already come from this transcript; nothing was done again",
                    t.title
                ),
                (_, true) => outln!(
                    "taken: {} replaces the notes of \"{}\" with these, and mails the attendees",
                    t.employee_id,
                    t.title
                ),
                _ => outln!(
                    "taken: {} stores the notes of \"{}\" and mails the attendees",
                    t.employee_id,
                    t.title
                ),
            }
            print_notes(&t.notes)
        }
        MeetingsAction::Notes {
            event_id,
            json,
            node,
        } => {
            let v: Value = Client::new(&node)?
                .get(&format!("/meetings/{}/notes", segment(&event_id)))
                .answer()
                .await?;
            if json {
                return print(&v);
            }
            let r: MeetingRecord = read(v)?;
            outln!(
                "{} ({}), revision {}, from the {} transcript{}",
                r.title,
                r.start.format("%Y-%m-%d %H:%M UTC"),
                r.revision,
                r.source,
                r.name.map(|n| format!(" {n}")).unwrap_or_default()
            );
            print_notes(&r.notes)
        }
    }
}
