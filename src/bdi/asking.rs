//! Goal questions in words: which of the employee's goals a question names ("how's the
//! pipeline looking?", "what's our NPS?", "how's hiring going?"), and the answer — the
//! goal's figure in its unit, the target, whether it is met, on track or at risk, and
//! what the employee is doing about it (its intentions serving the goal, in the plans'
//! own words) or why it is doing nothing.
//!
//! The words come from the role's own goals — ids, metric names, descriptions — and a
//! small table of common synonyms, so any role written in config is understood. Pure.

use super::*;
use crate::model::{Comparison, Tone};

/// Words too common in goal descriptions to name one by themselves.
const GENERIC: &[&str] = &[
    "a",
    "an",
    "the",
    "of",
    "in",
    "to",
    "for",
    "by",
    "and",
    "at",
    "our",
    "up",
    "it",
    "its",
    "on",
    "per",
    "every",
    "each",
    "all",
    "any",
    "keep",
    "make",
    "maintain",
    "achieve",
    "reduce",
    "improve",
    "increase",
    "decrease",
    "lower",
    "raise",
    "grow",
    "hit",
    "get",
    "below",
    "above",
    "under",
    "over",
    "within",
    "least",
    "most",
    "than",
    "new",
    "high",
    "time",
    "rate",
    "score",
    "day",
    "hour",
    "week",
    "month",
    "quarter",
    "quarterly",
    "year",
    "ratio",
    "change",
    "date",
    "role",
    "usd",
    "pct",
    "percent",
    "their",
    "is",
    "be",
    "with",
    "from",
    "open",
    "qualified",
    "impact",
    "target",
    "goal",
    "number",
    "count",
    "total",
];

/// Common words for what goals measure: a word in a question → words of goals it means.
const SYNONYMS: &[(&str, &[&str])] = &[
    ("quota", &["revenue"]),
    ("bookings", &["revenue"]),
    ("sales", &["revenue"]),
    ("closed", &["revenue", "close"]),
    ("close rate", &["win"]),
    ("conversion", &["win"]),
    ("churn", &["retention"]),
    ("renewals", &["retention"]),
    ("renewal", &["retention"]),
    ("retain", &["retention"]),
    ("satisfaction", &["nps", "satisfaction"]),
    ("csat", &["satisfaction", "nps"]),
    ("promoter", &["nps"]),
    ("promoters", &["nps"]),
    ("happy", &["satisfaction", "nps"]),
    ("usage", &["adoption"]),
    ("adopt", &["adoption"]),
    ("adopting", &["adoption"]),
    ("hiring", &["hire", "candidates"]),
    ("recruiting", &["hire", "candidates"]),
    ("recruitment", &["hire", "candidates"]),
    ("focus time", &["focus"]),
    ("focus hours", &["focus"]),
    ("inbox", &["triage"]),
    ("briefing", &["brief"]),
    ("briefings", &["brief"]),
    ("prep", &["brief"]),
    ("response", &["respond"]),
    ("respond", &["response"]),
    ("responsiveness", &["response", "respond"]),
    ("shipping", &["feature", "ship"]),
    ("releases", &["ship", "feature"]),
    ("features", &["ship"]),
];

/// A light stem, the same for both sides: "hiring", "hire" and "hires" meet.
pub(super) fn stem(w: &str) -> String {
    let mut w = w.to_lowercase();
    for suffix in ["ing", "ed", "es", "s"] {
        let keep = suffix == "s" && (w.ends_with("us") || w.ends_with("ss"));
        if !keep && w.len() > suffix.len() + 2 && w.ends_with(suffix) {
            w.truncate(w.len() - suffix.len());
            break;
        }
    }
    let b = w.as_bytes();
    if b.len() > 3 && b[b.len() - 1] == b[b.len() - 2] && !w.ends_with("ss") {
        w.pop();
    }
    if w.len() > 3 && w.ends_with('e') {
        w.pop();
    }
    w
}

fn raw_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.trim_matches('\'').to_lowercase())
        .map(|w| w.strip_suffix("'s").map(str::to_string).unwrap_or(w))
        .filter(|w| !w.is_empty())
        .collect()
}

fn stems(text: &str) -> Vec<String> {
    raw_words(text).iter().map(|w| stem(w)).collect()
}

/// Distinctive words of a goal (stems), and its multi-word names (id, metric).
fn vocabulary(g: &GoalState) -> (Vec<String>, Vec<Vec<String>>) {
    let generic: Vec<String> = GENERIC.iter().map(|w| stem(w)).collect();
    let mut single: Vec<String> = Vec::new();
    for source in [&g.spec.id, &g.spec.metric, &g.spec.description] {
        for w in stems(&source.replace('_', " ")) {
            if !generic.contains(&w)
                && !w.chars().any(|c| c.is_ascii_digit())
                && w.len() > 1
                && !single.contains(&w)
            {
                single.push(w);
            }
        }
    }
    let mut phrases = Vec::new();
    for source in [&g.spec.id, &g.spec.metric] {
        let mut p = stems(&source.replace('_', " "));
        while p.last().is_some_and(|w| {
            ["usd", "day", "hour", "minut", "week", "ratio", "pct"].contains(&w.as_str())
        }) {
            p.pop();
        }
        if p.len() >= 2 && !phrases.contains(&p) {
            phrases.push(p);
        }
    }
    (single, phrases)
}

/// The goals `text` names in words: those scoring best on their distinctive words
/// (one point each) and multi-word names (two), after common synonyms are added.
pub(super) fn named_goals<'a>(goals: &'a GoalBook, text: &str) -> Vec<&'a GoalState> {
    let q = stems(text);
    let mut heard: Vec<String> = q.clone();
    for (phrase, means) in SYNONYMS {
        let want: Vec<String> = phrase.split(' ').map(stem).collect();
        if q.windows(want.len()).any(|w| w == want.as_slice()) {
            heard.extend(means.iter().map(|m| stem(m)));
        }
    }
    let scored: Vec<(usize, &GoalState)> = goals
        .iter()
        .map(|g| {
            let (single, phrases) = vocabulary(g);
            let words = single.iter().filter(|w| heard.contains(w)).count();
            let names = phrases
                .iter()
                .filter(|p| q.windows(p.len()).any(|w| w == p.as_slice()))
                .count();
            (words + 2 * names, g)
        })
        .collect();
    let best = scored.iter().map(|(n, _)| *n).max().unwrap_or(0);
    if best == 0 {
        return Vec::new();
    }
    scored
        .into_iter()
        .filter(|(n, _)| *n == best)
        .map(|(_, g)| g)
        .collect()
}

/// Whether `text` asks something (rather than tells).
pub(super) fn asks(text: &str) -> bool {
    let w = raw_words(text);
    text.contains('?')
        || w.iter().any(|x| {
            [
                "how", "how's", "what", "what's", "where", "status", "update", "looking", "going",
                "doing", "tell", "numbers", "track",
            ]
            .contains(&x.as_str())
        })
}

/// `x` with at most `decimals` decimals, trailing zeros dropped, thousands separated.
fn num(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn money(symbol: &str, x: f64) -> String {
    let a = x.abs();
    if a >= 1e6 {
        format!("{symbol}{}M", num(x / 1e6, 2))
    } else if a >= 1e3 {
        format!("{symbol}{}K", num(x / 1e3, 1))
    } else {
        format!("{symbol}{}", num(x, 2))
    }
}

/// A goal's figure in its unit: a coverage ratio as "2.1x", a share as "25%", money as
/// "$412K", "3.5 hours", a bare number as it is.
pub(super) fn figure(x: f64, unit: Option<&str>, target: f64) -> String {
    let plural = |one: &str, many: &str| {
        format!(
            "{} {}",
            num(x, 1),
            if (x - 1.0).abs() < 1e-9 { one } else { many }
        )
    };
    match unit.map(str::to_lowercase).as_deref() {
        Some("ratio") if target > 1.0 => format!("{}x", num(x, 2)),
        Some("ratio" | "share" | "fraction") => format!("{}%", num(x * 100.0, 1)),
        Some("percent" | "%" | "pct") => format!("{}%", num(x, 1)),
        Some("usd" | "$" | "dollars") => money("$", x),
        Some("eur" | "€" | "euros") => money("€", x),
        Some("gbp" | "£" | "pounds") => money("£", x),
        Some("hours" | "hour" | "h") => plural("hour", "hours"),
        Some("days" | "day" | "d") => plural("day", "days"),
        Some("weeks" | "week") => plural("week", "weeks"),
        Some("minutes" | "minute" | "min") => plural("minute", "minutes"),
        Some(other) => format!("{} {other}", num(x, 2)),
        None => num(x, 2),
    }
}

/// What the goal measures, as a name: its metric without a trailing unit word.
fn label(g: &GoalState) -> String {
    let mut words: Vec<&str> = g.spec.metric.split('_').filter(|w| !w.is_empty()).collect();
    while words.len() > 1
        && words.last().is_some_and(|w| {
            [
                "usd", "hours", "days", "minutes", "weeks", "ratio", "pct", "percent", "count",
            ]
            .contains(w)
        })
    {
        words.pop();
    }
    let text = words
        .iter()
        .map(|w| {
            let acronym = [
                "nps", "csat", "arr", "mrr", "kpi", "sla", "roi", "ltv", "cac", "okr",
            ]
            .contains(w)
                || !w.chars().any(|c| "aeiouy".contains(c));
            if acronym {
                w.to_uppercase()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut c = text.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => text,
    }
}

/// A name inside a sentence: its first letter lower case, unless it is an acronym.
fn in_sentence(name: &str) -> String {
    let first = name.split(' ').next().unwrap_or("");
    if first.len() > 1 && first.chars().all(|c| !c.is_lowercase()) {
        return name.to_string();
    }
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "Absolutely!", "Of course.", ...: how the persona agrees.
pub(super) fn affirm(p: &Persona) -> &'static str {
    match p.communication.tone {
        Tone::Enthusiastic => "Absolutely!",
        Tone::Supportive => "Of course.",
        Tone::Casual => "Sure!",
        Tone::Professional | Tone::Analytical => "Understood.",
    }
}

/// How the persona ends its sentences when it speaks up.
pub(super) fn stop(p: &Persona) -> &'static str {
    if p.communication.tone == Tone::Enthusiastic {
        "!"
    } else {
        "."
    }
}

fn waiting_for(event: &str) -> String {
    match event {
        "email.reply" | "email.received" | "email.*" => "waiting for a reply".into(),
        "escalation.decided" => "waiting for my manager's decision".into(),
        "empla.outcome" => "waiting for a result".into(),
        "calendar.event" => "waiting for the meeting".into(),
        "time" => "waiting for the right time".into(),
        directives::PAUSE_LIFTED => "held by a pause on contact".into(),
        other => format!("waiting for {}", other.replace(['.', '_'], " ")),
    }
}

/// What one plan does, in its own words: its description after the situation.
fn plan_words(s: &Situation<'_>, plan: &str) -> String {
    let d = s
        .playbook
        .plans
        .get(plan)
        .map(|p| p.spec.description.as_str())
        .filter(|d| !d.is_empty());
    let text = match d {
        Some(d) => d.split_once(": ").map_or(d, |(_, what)| what).to_string(),
        None => plan.replace('_', " "),
    };
    if text.len() <= 110 {
        return text;
    }
    let cut = text[..110].rfind(' ').unwrap_or(110);
    format!("{}…", &text[..cut])
}

/// What a plan's `per` counts, plural: "payload.contact" → "contacts".
fn per_words(s: &Situation<'_>, plan: &str) -> &'static str {
    let per = s
        .playbook
        .plans
        .get(plan)
        .and_then(|p| p.spec.per.as_deref())
        .unwrap_or("");
    let last = per.rsplit('.').next().unwrap_or("");
    match last {
        "contact" | "lead" | "email" => "leads",
        "deal" => "deals",
        "account" | "company" => "accounts",
        "candidate" | "application" => "candidates",
        "from" | "from_address" => "people",
        _ => "cases",
    }
}

impl Mind {
    /// The answer to a question naming `goals`.
    pub(super) fn goal_answer(&self, s: &Situation<'_>, goals: &[&GoalState]) -> String {
        let st = style::style(s.persona, self.style_shift);
        let at_most = match st["verbosity"].as_str() {
            Some("concise") => 2,
            Some("detailed") => 5,
            _ => 3,
        };
        goals
            .iter()
            .take(4)
            .map(|g| self.goal_line(s, g, at_most))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn goal_line(&self, s: &Situation<'_>, g: &GoalState, at_most: usize) -> String {
        let unit = g.spec.unit.as_deref();
        let fig = |x: f64| figure(x, unit, g.spec.target);
        let target = fig(g.spec.target);
        let name = label(g);
        let (under, over) = match g.spec.comparison {
            Comparison::AtLeast => ("at least", "below"),
            Comparison::Above => ("above", "below"),
            Comparison::AtMost => ("at most", "above"),
            Comparison::Below => ("under", "above"),
        };
        let mut line = match g.current {
            None => format!(
                "I have no figure for {} yet (the target is {under} {target})",
                in_sentence(&name)
            ),
            Some(c) if g.met() => format!(
                "{name} is at {} right now, meeting our target of {under} {target}",
                fig(c)
            ),
            Some(c) => match g.spec.comparison {
                Comparison::AtLeast | Comparison::Above => {
                    format!(
                        "{name} is at {} right now — {over} our {target} target",
                        fig(c)
                    )
                }
                _ => format!(
                    "{name} is at {} right now — {over} our target of {under} {target}",
                    fig(c)
                ),
            },
        };
        let by = g
            .deadline
            .map(|d| format!(" by {}", d.format("%Y-%m-%d")))
            .unwrap_or_default();
        if let Some(why) = &g.blocked {
            line.push_str(&format!(", and blocked: {why}"));
        } else if g.at_risk() {
            let projected = g
                .projected
                .map(|p| format!(" (heading for {}{by})", fig(p)));
            line.push_str(&format!(", and at risk{}", projected.unwrap_or_default()));
        } else if !g.met() && g.projected.is_some() && g.deadline.is_some() {
            line.push_str(&format!(", but on track to get there{by}"));
        }
        line.push('.');
        let doing = self.doing_about(s, g, at_most);
        line.push(' ');
        line.push_str(&doing);
        line
    }

    /// What the employee does for `g`: its intentions by plan, with counts and where
    /// they stand; or why nothing.
    fn doing_about(&self, s: &Situation<'_>, g: &GoalState, at_most: usize) -> String {
        let id = g.spec.id.as_str();
        // Its own intentions, and its sub-goals' (pipeline work serves revenue).
        let serves = |goal: &str| {
            goal == id
                || self
                    .goals
                    .get(goal)
                    .is_some_and(|x| x.spec.parent.as_deref() == Some(id))
        };
        let serving: Vec<&Intention> = self
            .intentions
            .iter()
            .filter(|i| i.goal.as_deref().is_some_and(serves))
            .collect();
        if serving.is_empty() {
            return self.why_idle(s, g);
        }
        let mut plans: Vec<(&str, Vec<&Intention>)> = Vec::new();
        for i in &serving {
            match plans.iter_mut().find(|(p, _)| *p == i.plan) {
                Some((_, v)) => v.push(i),
                None => plans.push((&i.plan, vec![i])),
            }
        }
        let shown: Vec<String> = plans
            .iter()
            .take(at_most)
            .map(|(plan, its)| {
                let mut states: Vec<(String, usize)> = Vec::new();
                for i in its {
                    let w = self.state_words(s, i);
                    match states.iter_mut().find(|(x, _)| *x == w) {
                        Some((_, n)) => *n += 1,
                        None => states.push((w, 1)),
                    }
                }
                let what = plan_words(s, plan);
                if its.len() == 1 {
                    format!("{what} ({})", states[0].0)
                } else {
                    let how: Vec<String> = states.iter().map(|(w, n)| format!("{n} {w}")).collect();
                    format!(
                        "{what} — for {} {}: {}",
                        its.len(),
                        per_words(s, plan),
                        how.join(", ")
                    )
                }
            })
            .collect();
        let more = plans.len().saturating_sub(at_most);
        let mut text = format!("What I'm doing about it: {}", shown.join("; "));
        if more > 0 {
            text.push_str(&format!("; and {more} more"));
        }
        text.push('.');
        if !g.met() {
            match s.persona.communication.tone {
                Tone::Enthusiastic => text.push_str(" I'm on it!"),
                Tone::Supportive => text.push_str(" I'll keep you posted."),
                _ => {}
            }
        }
        text
    }

    fn state_words(&self, s: &Situation<'_>, i: &Intention) -> String {
        match &i.state {
            IntentionState::Ready => "in progress".into(),
            IntentionState::Waiting { event, .. } => waiting_for(event),
            IntentionState::AwaitingApproval { action } => {
                format!("waiting for approval of {}", action.kind)
            }
            IntentionState::AwaitingSubgoal { .. } => "on a sub-goal".into(),
            IntentionState::AwaitingOutcome { .. } if i.pending => "waiting for its result".into(),
            IntentionState::AwaitingOutcome { .. } => {
                match s
                    .playbook
                    .plans
                    .get(&i.plan)
                    .and_then(|p| p.spec.success.as_ref())
                {
                    Some(succ) => waiting_for(&succ.event),
                    None => "waiting to see how it lands".into(),
                }
            }
        }
    }

    /// Why nothing serves `g` now.
    fn why_idle(&self, s: &Situation<'_>, g: &GoalState) -> String {
        if g.met() {
            return "It's met, so nothing needs doing now.".into();
        }
        if let Some(why) = &g.blocked {
            return format!("I'm not working on it right now: it is blocked ({why}).");
        }
        let plans: Vec<&Plan> = s.playbook.plans.serving(&g.spec.id).collect();
        if plans.is_empty() {
            return "I'm not working on it: none of my plans serves it. Assign me a task for it, or add a plan for it to my role.".into();
        }
        let starts: Vec<String> = plans
            .iter()
            .take(3)
            .map(|p| {
                format!(
                    "{} {}",
                    p.spec.name.replace('_', " "),
                    self.trigger_words(s, &p.spec.trigger.event)
                )
            })
            .collect();
        format!(
            "I'm not working on it right now: none of my plans for it has been triggered yet ({}).",
            starts.join("; ")
        )
    }

    fn trigger_words(&self, s: &Situation<'_>, event: &str) -> String {
        use super::signals::SignalKind;
        if let Some(name) = event.strip_prefix("signal.")
            && let Some(sig) = s.playbook.signals.iter().find(|x| x.name == name)
        {
            let metric = sig.metric.as_deref().unwrap_or(name).replace('_', " ");
            return match (sig.kind, sig.below, sig.above) {
                (SignalKind::Threshold, Some(b), _) => {
                    format!("starts when {metric} falls below {}", num(b, 2))
                }
                (SignalKind::Threshold, _, Some(a)) => {
                    format!("starts when {metric} rises above {}", num(a, 2))
                }
                (SignalKind::GoalAtRisk, ..) => "starts when the goal is at risk".into(),
                (SignalKind::InboxSla, ..) => "starts when a message waits too long".into(),
                _ => format!("starts when {} fires", name.replace('_', " ")),
            };
        }
        match event {
            "cron.tick" => "runs on its schedule".into(),
            e if e.starts_with("email.") => "starts when mail comes".into(),
            e if e.starts_with("manual.") => "starts when my manager asks".into(),
            e => format!("starts on {}", e.replace(['.', '_'], " ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_in_their_unit() {
        assert_eq!(figure(2.1, Some("ratio"), 3.0), "2.1x");
        assert_eq!(figure(3.0, Some("ratio"), 3.0), "3x");
        assert_eq!(figure(0.25, Some("ratio"), 0.25), "25%");
        assert_eq!(figure(0.912, Some("ratio"), 0.95), "91.2%");
        assert_eq!(figure(412_500.0, Some("usd"), 500_000.0), "$412.5K");
        assert_eq!(figure(1_250_000.0, Some("usd"), 500_000.0), "$1.25M");
        assert_eq!(figure(3.5, Some("hours"), 4.0), "3.5 hours");
        assert_eq!(figure(1.0, Some("days"), 5.0), "1 day");
        assert_eq!(figure(42.0, None, 50.0), "42");
        assert_eq!(figure(12_345.0, None, 50.0), "12,345");
    }

    #[test]
    fn stems_meet() {
        assert_eq!(stem("hiring"), stem("hire"));
        assert_eq!(stem("hires"), stem("hire"));
        assert_eq!(stem("closed"), stem("close"));
        assert_eq!(stem("candidates"), stem("candidate"));
        assert_eq!(stem("shipped"), stem("ship"));
        assert_eq!(stem("focus"), "focus");
        assert_eq!(stem("nps"), "nps");
    }
}
