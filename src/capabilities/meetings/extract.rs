//! What a meeting came to, read from its transcript by rules: the notes (the first
//! substantive sentence of each speaker's turn), the decisions ("we decided…",
//! "decision:", "agreed…", "let's go with…") and the action items with their owners
//! ("I will…", "I'll…", "I can take…" by the speaker; "Name will…", "Name to…",
//! "@Name…"; lines tagged `action:`, `action item:`, `AI:` or `TODO:`) and due dates
//! ("by Friday", "next week"), resolved from the meeting's day. Owners are resolved
//! to the attendees by first name, full name or address; the employee itself is an
//! owner like anyone else.
//!
//! [`extract`] is the one seam: pure and deterministic, so the same transcript always
//! gives the same notes. A language model may later take its place behind the same
//! signature; nothing here may invent what was not said.

use super::due;
use super::transcript::{self, FORMATS, Turn};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most notes kept.
pub(super) const MAX_NOTES: usize = 12;

/// Someone in the meeting: as the calendar names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    /// Display name, when the calendar has one ("Sarah Chen").
    pub name: Option<String>,
    /// Mail address.
    pub address: String,
    /// Chat handle (employees have one).
    pub handle: Option<String>,
}

impl Attendee {
    /// From `Name <address>` or an address.
    pub fn parse(s: &str) -> Attendee {
        Attendee {
            name: crate::model::display_name(s).map(str::to_string),
            address: crate::model::bare_address(s).to_ascii_lowercase(),
            handle: None,
        }
    }

    /// `Name <address>`, or the address.
    pub fn mailbox(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} <{}>", self.address),
            None => self.address.clone(),
        }
    }

    /// The name to show: the display name, else the address's local part.
    pub fn shown(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.address.split('@').next().unwrap_or("").to_string())
    }

    /// Whether `said` names this person: the full name, the first name, the handle,
    /// the address or its local part, without case.
    fn named_by(&self, said: &str) -> bool {
        let s = said.trim().trim_start_matches('@').to_lowercase();
        if s.is_empty() {
            return false;
        }
        let local = self.address.split('@').next().unwrap_or("");
        let name = self.name.as_deref().unwrap_or("").to_lowercase();
        s == self.address
            || s == local
            || self
                .handle
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(&s))
            || (!name.is_empty()
                && (s == name || name.split_whitespace().next() == Some(s.as_str())))
            || local.split(['.', '_', '-']).next() == Some(s.as_str()) && self.name.is_none()
    }
}

/// Who the notes are for and when the meeting was.
#[derive(Debug, Clone)]
pub struct Context {
    /// Everyone in the meeting (the employee too, or not: it is added).
    pub attendees: Vec<Attendee>,
    /// The employee taking the notes.
    pub me: Attendee,
    /// The meeting's day, which due dates are resolved from.
    pub day: NaiveDate,
}

/// A line of what was discussed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Note {
    /// Who said it, as the transcript names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// What they said.
    pub text: String,
}

/// Something the meeting decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    /// The decision, as said.
    pub text: String,
    /// Who said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Something someone is to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionItem {
    /// What to do.
    pub text: String,
    /// Who: the attendee's name when resolved, else the name as said; none when
    /// nobody was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The owner's address, when they are an attendee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_address: Option<String>,
    /// Whether the owner is the employee taking the notes.
    #[serde(default)]
    pub mine: bool,
    /// When it is due, resolved from the meeting's day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    /// The words that set the due date ("by Friday").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_said: Option<String>,
    /// Who said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub said_by: Option<String>,
}

/// What a meeting came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MeetingNotes {
    /// What was discussed, in the order it was.
    pub notes: Vec<Note>,
    /// What was decided.
    pub decisions: Vec<Decision>,
    /// Who is to do what, by when.
    pub action_items: Vec<ActionItem>,
}

/// Why a transcript cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptError {
    /// Nothing but white space.
    #[error("the transcript is empty; send the meeting's transcript text")]
    Empty,
    /// No line names its speaker.
    #[error(
        "no speaker turns were recognised in the transcript; the formats understood are {FORMATS}"
    )]
    NoTurns,
}

/// The notes, decisions and action items of `transcript`, or why it cannot be read.
pub fn extract(transcript: &str, ctx: &Context) -> Result<MeetingNotes, TranscriptError> {
    if transcript.trim().is_empty() {
        return Err(TranscriptError::Empty);
    }
    let turns = transcript::turns(transcript);
    if !turns.iter().any(|t| t.speaker.is_some()) {
        return Err(TranscriptError::NoTurns);
    }
    let mut out = MeetingNotes::default();
    // Items said twice (a tagged line repeating a promise) are listed once.
    let mut seen = std::collections::HashSet::new();
    for turn in &turns {
        let mut noted = false;
        for sentence in sentences(&turn.text) {
            let spoken = sentence.trim_end_matches(['.', '!', ';']).trim();
            let mut used = false;
            if let Some(d) = decision(spoken) {
                out.decisions.push(Decision {
                    text: d,
                    by: turn.speaker.clone(),
                });
                used = true;
            }
            if let Some(item) = action(spoken, turn, ctx) {
                if seen.insert((item.text.clone(), item.owner.clone())) {
                    out.action_items.push(item);
                }
                used = true;
            }
            if !used && !noted && substantive(&sentence) {
                let note = Note {
                    speaker: turn.speaker.clone(),
                    text: sentence.clone(),
                };
                if out.notes.len() < MAX_NOTES && !out.notes.iter().any(|n| n.text == note.text) {
                    out.notes.push(note);
                }
                noted = true;
            }
        }
    }
    Ok(out)
}

/// The sentences of a turn: each line, split after `.`, `?` or `!` followed by a
/// space.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches(['-', '*', '•']).trim();
        let mut start = 0;
        let bytes: Vec<(usize, char)> = line.char_indices().collect();
        for (k, &(i, c)) in bytes.iter().enumerate() {
            let next_is_space = bytes.get(k + 1).is_some_and(|(_, n)| *n == ' ');
            if matches!(c, '.' | '?' | '!') && next_is_space {
                // "e.g. " and "Mr. " do not end a sentence; a single capital before
                // the dot (an initial) neither.
                let word = line[start..i].rsplit(' ').next().unwrap_or("");
                if ["e.g", "i.e", "mr", "ms", "mrs", "dr", "vs", "etc"]
                    .contains(&word.to_lowercase().as_str())
                    || word.chars().count() == 1
                {
                    continue;
                }
                out.push(line[start..=i].trim().to_string());
                start = i + 1;
            }
        }
        let rest = line[start..].trim();
        if !rest.is_empty() {
            out.push(rest.to_string());
        }
    }
    out
}

/// Whether a sentence says something worth a note: five words or more, not a question,
/// not a pleasantry.
fn substantive(s: &str) -> bool {
    let words = s.split_whitespace().count();
    let lower = s.to_lowercase();
    words >= 5
        && !s.ends_with('?')
        && ![
            "thanks",
            "thank you",
            "hi ",
            "hello",
            "good morning",
            "welcome",
            "bye",
            "see you",
            "can you hear",
            "let's get started",
            "let's start",
        ]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// The decision a sentence states, if it states one.
fn decision(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let lower = strip_fillers(&lower);
    let offset = s.len() - lower.len();
    for tag in ["decision:", "decided:", "agreed:"] {
        if let Some(rest) = lower.strip_prefix(tag) {
            let text = s[offset + tag.len()..].trim();
            return (!rest.trim().is_empty()).then(|| capitalise(text));
        }
    }
    let starts = [
        "agreed",
        "we agreed",
        "we all agreed",
        "it's agreed",
        "we decided",
        "we've decided",
        "we have decided",
        "let's go with",
        "let us go with",
        "we'll go with",
        "we will go with",
        "we're going with",
        "we are going with",
    ];
    let anywhere = [
        "we decided",
        "we've decided",
        "we have decided",
        "decided to",
    ];
    let hit = starts
        .iter()
        .any(|p| lower.starts_with(p) && boundary(lower, p.len()))
        || anywhere.iter().any(|p| lower.contains(p));
    (hit && !s.ends_with('?')).then(|| capitalise(&s[offset..]))
}

/// Whether the text after `at` starts a new word.
fn boundary(s: &str, at: usize) -> bool {
    s[at..].chars().next().is_none_or(|c| !c.is_alphanumeric())
}

/// The sentence without leading fillers ("ok, so", "yes,", "great —").
fn strip_fillers(s: &str) -> &str {
    let mut s = s.trim_start();
    loop {
        let before = s;
        for f in [
            "ok", "okay", "so", "and", "then", "yes", "yeah", "sure", "great", "right", "alright",
            "fine", "good", "well", "also", "cool", "perfect",
        ] {
            if let Some(rest) = s.strip_prefix(f)
                && rest.starts_with([',', ' ', '-', '—', '–'])
            {
                s = rest.trim_start_matches([',', ' ', '-', '—', '–']);
            }
        }
        if s == before {
            return s;
        }
    }
}

fn capitalise(s: &str) -> String {
    let s = s.trim();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The action item a sentence states, if it states one.
fn action(s: &str, turn: &Turn, ctx: &Context) -> Option<ActionItem> {
    if s.ends_with('?') || s.is_empty() {
        return None;
    }
    let lower_full = s.to_ascii_lowercase();
    let lower = strip_fillers(&lower_full);
    let body = &s[s.len() - lower.len()..];
    // A tagged line: "Action: …", "Action item: …", "AI: …", "TODO: …".
    for tag in [
        "action item:",
        "action items:",
        "action:",
        "ai:",
        "todo:",
        "to do:",
        "to-do:",
    ] {
        if lower.starts_with(tag) {
            let rest = body[tag.len()..].trim();
            return tagged(rest, turn, ctx);
        }
    }
    // "@Name …" anywhere.
    if let Some(at) = body.find('@')
        && (at == 0 || body[..at].ends_with(' '))
    {
        let name: String = body[at + 1..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || "._-".contains(*c))
            .collect();
        let name = name.trim_end_matches(['.', '_', '-']);
        if !name.is_empty() && !name.contains('@') {
            let text = format!("{}{}", &body[..at], &body[at + 1 + name.len()..]);
            let text = text.trim().trim_start_matches([',', ':']).trim();
            if !text.is_empty() {
                return Some(item(text, Some(name), turn, ctx));
            }
        }
    }
    // The speaker's own commitment.
    for p in [
        "i will ",
        "i'll ",
        "i’ll ",
        "i can take ",
        "i'm going to ",
        "i am going to ",
        "let me ",
    ] {
        if let Some(at) = lower.find(p)
            && (at == 0 || lower[..at].ends_with([' ', ',']))
            && turn.speaker.is_some()
        {
            let rest = &body[at + p.len()..];
            let rest = if p == "i can take " {
                format!("take {rest}")
            } else {
                rest.to_string()
            };
            if rest.split_whitespace().count() < 2 || skip_commitment(&rest) {
                continue;
            }
            return Some(item(&rest, turn.speaker.as_deref(), turn, ctx));
        }
    }
    // "Name will …", "Name to …", "Name can take …" for someone in the meeting.
    named(body, turn, ctx)
}

/// "I'll be out", "I will say" and the like commit to nothing.
fn skip_commitment(rest: &str) -> bool {
    let first = rest.split_whitespace().next().unwrap_or("").to_lowercase();
    [
        "be", "say", "admit", "try", "just", "have", "need", "think", "let", "see",
    ]
    .contains(&first.as_str())
}

/// A tagged line's item: the owner from "(owner: Name)", a leading "Name:", a leading
/// "Name will/to …", else the speaker.
fn tagged(rest: &str, turn: &Turn, ctx: &Context) -> Option<ActionItem> {
    let mut text = rest.to_string();
    let mut owner: Option<String> = None;
    let lower = text.to_ascii_lowercase();
    if let Some(at) = lower.find("(owner:")
        && let Some(end) = lower[at..].find(')')
    {
        owner = Some(text[at + 7..at + end].trim().to_string());
        text = format!("{}{}", &text[..at], &text[at + end + 1..]);
    } else if let Some((head, tail)) = text.split_once(':')
        && transcript::looks_like_name(head.trim())
    {
        owner = Some(head.trim().to_string());
        text = tail.to_string();
    } else if let Some(found) = named(&text, turn, ctx) {
        return Some(found);
    } else if let Some(at) = text.find('@')
        && at == 0
    {
        let name: String = text[1..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || "._-".contains(*c))
            .collect();
        owner = Some(name.clone());
        text = text[1 + name.len()..].to_string();
    }
    let text = text.trim().trim_start_matches([',', ':', '-']).trim();
    if text.is_empty() {
        return None;
    }
    let owner = owner.or_else(|| turn.speaker.clone());
    Some(item(text, owner.as_deref(), turn, ctx))
}

/// "Name will …", "Name to …", "Name's going to …", "Name can take …", where the name
/// is someone in the meeting (or the employee).
fn named(s: &str, turn: &Turn, ctx: &Context) -> Option<ActionItem> {
    let s = s
        .replacen("'ll ", " will ", 1)
        .replacen("’ll ", " will ", 1);
    // Each clause may name someone: "Agreed, and Priya to confirm with legal".
    let lower = s.to_ascii_lowercase();
    let mut starts = vec![0];
    for sep in [", ", "; ", " and ", " then ", " so "] {
        starts.extend(lower.match_indices(sep).map(|(i, m)| i + m.len()));
    }
    starts.sort_unstable();
    starts.dedup();
    starts.into_iter().find_map(|at| {
        let clause = strip_fillers(&lower[at..]);
        named_at(&s[s.len() - clause.len()..], turn, ctx)
    })
}

/// As [`named`], for a name opening `s`.
fn named_at(s: &str, turn: &Turn, ctx: &Context) -> Option<ActionItem> {
    let words: Vec<&str> = s.split_whitespace().collect();
    for n in (1..=3).rev() {
        if words.len() <= n {
            continue;
        }
        let name = words[..n].join(" ");
        let name = name.trim_end_matches([',', ':']);
        if resolve(name, ctx).is_none() {
            continue;
        }
        let after = words[n..].join(" ");
        let after_lower = after.to_ascii_lowercase();
        for verb in ["will ", "to ", "is going to ", "can take ", "is to "] {
            if let Some(rest) = after_lower.strip_prefix(verb) {
                let rest = &after[after.len() - rest.len()..];
                let rest = if verb == "can take " {
                    format!("take {rest}")
                } else {
                    rest.to_string()
                };
                if rest.split_whitespace().count() < 2 || skip_commitment(&rest) {
                    return None;
                }
                return Some(item(&rest, Some(name), turn, ctx));
            }
        }
    }
    None
}

/// The attendee (or the employee, answered `true`) `said` names.
fn resolve<'a>(said: &str, ctx: &'a Context) -> Option<(&'a Attendee, bool)> {
    if ctx.me.named_by(said) {
        return Some((&ctx.me, true));
    }
    let found: Vec<&Attendee> = ctx.attendees.iter().filter(|a| a.named_by(said)).collect();
    match found[..] {
        [one] => Some((one, one.address == ctx.me.address)),
        _ => None,
    }
}

/// An item for `text`, owned by whoever `owner` names.
fn item(text: &str, owner: Option<&str>, turn: &Turn, ctx: &Context) -> ActionItem {
    assigned(text, owner, turn.speaker.clone(), ctx)
}

/// An item for `text`, owned by whoever `owner` names (an attendee, the employee, or a
/// name as said), said by `said_by`; due when its words say.
pub(super) fn assigned(
    text: &str,
    owner: Option<&str>,
    said_by: Option<String>,
    ctx: &Context,
) -> ActionItem {
    let text = capitalise(text.trim().trim_end_matches(['.', '!', ';']));
    let due = due::find(&text, ctx.day);
    let (owner, owner_address, mine) = match owner {
        Some(o) => match resolve(o, ctx) {
            Some((a, mine)) => (Some(a.shown()), Some(a.address.clone()), mine),
            None => (Some(o.trim().to_string()), None, false),
        },
        None => (None, None, false),
    };
    ActionItem {
        text,
        owner,
        owner_address,
        mine,
        due_said: due.as_ref().map(|d| d.said.clone()),
        due: due.map(|d| d.day),
        said_by,
    }
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
