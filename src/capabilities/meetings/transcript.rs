//! A meeting transcript read into speaker turns, whichever of the three common shapes
//! it comes in: "Name: text" lines or paragraphs (as meeting tools export them, or as
//! someone types notes in Markdown), WebVTT cues (`00:01:02.000 --> 00:01:05.000`
//! with `<v Name>` voice tags or "Name:" prefixes), and timestamped lines such as
//! "[00:12] Name: text". Lines without a speaker continue the turn before them.
//!
//! Pure: text in, turns out. It never guesses a speaker it cannot read.

/// The shapes of transcript understood, as an error names them.
pub const FORMATS: &str = "\"Name: text\" speaker turns (one per line or paragraph), WebVTT cues (`00:01:02.000 --> 00:01:05.000` with `<v Name>` voice tags or \"Name:\" prefixes), or timestamped lines such as \"[00:12] Name: text\"";

/// One speaker's turn: who spoke (none for a tagged line standing alone, such as
/// "Action: send the deck") and what they said, lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// The speaker as written.
    pub speaker: Option<String>,
    /// What they said; each line of the transcript a line here.
    pub text: String,
}

/// Words that open a tagged line ("Action: ...") rather than name a speaker.
const TAGS: &[&str] = &[
    "action",
    "action item",
    "action items",
    "ai",
    "todo",
    "to do",
    "to-do",
    "decision",
    "decisions",
    "note",
    "notes",
    "agenda",
    "summary",
    "next steps",
    "subject",
    "re",
    "http",
    "https",
    "attendees",
    "date",
    "time",
    "owner",
];

/// Whether `line` opens with a tag such as "Action:" or "TODO:".
pub(super) fn is_tag(word: &str) -> bool {
    TAGS.contains(&word.trim().to_ascii_lowercase().as_str())
}

/// Reads `text` into speaker turns, in order; turns with no text are dropped.
pub fn turns(text: &str) -> Vec<Turn> {
    let text = text.trim_start_matches('\u{feff}');
    let vtt = text.trim_start().starts_with("WEBVTT") || text.lines().any(is_cue_timing);
    let mut out: Vec<Turn> = Vec::new();
    let mut in_header = vtt && text.trim_start().starts_with("WEBVTT");
    let mut skip_block = false;
    let lines: Vec<&str> = text.lines().collect();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        // A cue's identifier is the line right above its timing.
        let names_cue = lines.get(i + 1).is_some_and(|n| is_cue_timing(n.trim()));
        if vtt {
            if line.is_empty() {
                in_header = false;
                skip_block = false;
                continue;
            }
            if in_header || skip_block {
                continue;
            }
            if line.starts_with("NOTE") || line == "STYLE" || line == "REGION" {
                skip_block = true;
                continue;
            }
            if is_cue_timing(line) || names_cue {
                continue;
            }
        }
        let line = strip_timestamp(line);
        if line.is_empty() || line.chars().all(|c| "-=*_#".contains(c)) {
            continue;
        }
        let (speaker, said) = if vtt {
            match voice(line) {
                Some((name, said)) => (Some(name), said),
                None => speaker_prefix(&strip_tags(line)),
            }
        } else {
            speaker_prefix(line)
        };
        let said = if vtt { strip_tags(&said) } else { said };
        match speaker {
            Some(name) => {
                // A VTT export splits one person's words over many cues: one turn.
                match out.last_mut() {
                    Some(last) if vtt && last.speaker.as_deref() == Some(name.as_str()) => {
                        push_line(&mut last.text, &said)
                    }
                    _ => out.push(Turn {
                        speaker: Some(name),
                        text: said.trim().to_string(),
                    }),
                }
            }
            None => match out.last_mut() {
                Some(last) if !starts_with_tag(&said) => push_line(&mut last.text, &said),
                _ => out.push(Turn {
                    speaker: None,
                    text: said.trim().to_string(),
                }),
            },
        }
    }
    out.retain(|t| !t.text.trim().is_empty());
    out
}

fn push_line(text: &mut String, line: &str) {
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(line);
}

/// Whether a line opens with a tag ("Action: ...").
fn starts_with_tag(line: &str) -> bool {
    let l = line.trim_start_matches(['-', '*', ' ', '[', ']']);
    l.split_once(':').is_some_and(|(head, _)| is_tag(head))
}

/// `00:01:02.000 --> 00:01:05.000 align:start`.
fn is_cue_timing(line: &str) -> bool {
    line.split_once("-->").is_some_and(|(a, b)| {
        is_clock(a.trim()) && b.split_whitespace().next().is_some_and(is_clock)
    })
}

/// `hh:mm:ss.ttt`, `mm:ss.ttt`, `mm:ss` or `h:mm:ss`.
fn is_clock(s: &str) -> bool {
    let s = s.trim();
    let (main, frac) = match s.split_once(['.', ',']) {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    let parts: Vec<&str> = main.split(':').collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()))
        && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

/// The line without a leading timestamp: `[00:12]`, `(00:01:02)`, `00:12 -` or
/// `00:12`.
fn strip_timestamp(line: &str) -> &str {
    let l = line.trim_start_matches(['-', '*', '>', ' ']).trim_start();
    for (open, close) in [('[', ']'), ('(', ')')] {
        if let Some(rest) = l.strip_prefix(open)
            && let Some((inside, after)) = rest.split_once(close)
            && is_clock(inside)
        {
            return after.trim_start_matches([' ', '-', '–']).trim_start();
        }
    }
    if let Some((first, after)) = l.split_once(char::is_whitespace)
        && is_clock(first)
    {
        return after.trim_start_matches([' ', '-', '–']).trim_start();
    }
    l
}

/// `<v Name>text</v>` or `<v.loud Name>text`: the voice's name and the rest.
fn voice(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("<v")?;
    let (tag, said) = rest.split_once('>')?;
    if !tag.starts_with([' ', '.']) {
        return None;
    }
    // `<v.class Name>`: the classes come before the first space.
    let name = tag.split_once(' ').map(|(_, n)| n).unwrap_or("").trim();
    if name.is_empty() {
        return None;
    }
    Some((name.to_string(), said.replace("</v>", "")))
}

/// The text with VTT markup (`<c>`, `<i>`, `<b>`, `<00:00:01.000>`, `</v>`) removed.
fn strip_tags(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut depth = false;
    for c in line.chars() {
        match c {
            '<' => depth = true,
            '>' if depth => depth = false,
            _ if !depth => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
}

/// "Name: text" (also "**Name:** text", "**Name**: text"): the speaker and the rest;
/// no speaker when the head is no name (a tag such as "Action", a sentence, a URL).
fn speaker_prefix(line: &str) -> (Option<String>, String) {
    let l = line.trim();
    let Some((head, rest)) = l.split_once(':') else {
        return (None, l.to_string());
    };
    let rest = rest.trim_start_matches('*');
    let name = head.trim().trim_matches('*').trim();
    if looks_like_name(name) {
        (Some(name.to_string()), rest.trim().to_string())
    } else {
        (None, l.to_string())
    }
}

/// Whether `s` reads as a speaker's name: one to four words, the first capitalised
/// (or an address), no sentence punctuation, not a tag.
pub(super) fn looks_like_name(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 40 || is_tag(s) {
        return false;
    }
    if crate::model::is_address(s) {
        return true;
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.len() > 4 {
        return false;
    }
    let first = words[0].chars().next().unwrap_or(' ');
    first.is_uppercase()
        && s.chars()
            .all(|c| c.is_alphabetic() || " .-'’()".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(t: &[Turn]) -> Vec<(Option<&str>, &str)> {
        t.iter()
            .map(|t| (t.speaker.as_deref(), t.text.as_str()))
            .collect()
    }

    #[test]
    fn speaker_lines_and_paragraphs_are_turns() {
        let t = turns(
            "Alex Morgan: Let's start with the budget.\nIt is tight this quarter.\n\n**Sam:** I'll send the figures.\nPriya:\nAgreed.",
        );
        assert_eq!(
            said(&t),
            vec![
                (
                    Some("Alex Morgan"),
                    "Let's start with the budget.\nIt is tight this quarter."
                ),
                (Some("Sam"), "I'll send the figures."),
                (Some("Priya"), "Agreed."),
            ]
        );
    }

    #[test]
    fn webvtt_cues_with_voice_tags_or_prefixes_are_turns() {
        let t = turns(
            "WEBVTT\nKind: captions\n\nNOTE exported by a meeting tool\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Alex Morgan>Welcome everyone.</v>\n\nlaunch-date\n00:00:04.500 --> 00:00:06.000\n<v Alex Morgan>The launch moved.</v>\n\n00:00:07.000 --> 00:00:09.000 align:start\nSam: I will update the <b>plan</b>.\n",
        );
        assert_eq!(
            said(&t),
            vec![
                (Some("Alex Morgan"), "Welcome everyone.\nThe launch moved."),
                (Some("Sam"), "I will update the plan."),
            ]
        );
    }

    #[test]
    fn timestamped_lines_are_turns() {
        let t = turns(
            "[00:12] Alex: Hello.\n[01:02:03] Sam: Hi.\n(00:15) Priya: Hey.\n00:20 Alex: Go.",
        );
        assert_eq!(
            said(&t),
            vec![
                (Some("Alex"), "Hello."),
                (Some("Sam"), "Hi."),
                (Some("Priya"), "Hey."),
                (Some("Alex"), "Go."),
            ]
        );
    }

    #[test]
    fn tags_and_sentences_are_no_speakers() {
        let t =
            turns("Action: Sam to send the deck\nNote: the room changed\nso the thing is: nothing");
        assert!(t.iter().all(|t| t.speaker.is_none()), "{t:?}");
        assert!(
            turns("just some words with no speaker at all")
                .iter()
                .all(|t| t.speaker.is_none())
        );
    }
}
