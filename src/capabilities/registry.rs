//! The actions employees take, declared rather than string-matched. Each capability
//! registers the kinds it executes — their parameters (name, type, required or not)
//! and whether they reach outside the node — in one [`ActionRegistry`]. One executor
//! looks an outbox entry's kind up and runs it; `empla config check` and node start
//! check every plan step against the same declarations, so a typo in a kind or a
//! parameter is found before anything runs.
//!
//! A kind may be declared before its driver exists, and a role may declare kinds of its
//! own (`[[actions]]` in its template): their parameters are checked, but a plan step
//! naming a kind without a driver is a configuration error, since the node could only
//! record it `unsupported`, never carry it out.

use super::{CapabilityError, Hands, Sender};
use crate::model::{ActionStatus, Manager, OutboxEntry};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

/// What a parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    /// Text.
    Text,
    /// A whole number (text holding one is taken too).
    Integer,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// Who it goes to: mail addresses (`Name <address>`), comma-separated text or a
    /// list of them.
    Recipients,
    /// A list.
    List,
    /// Any JSON value.
    Any,
}

impl ParamType {
    fn describe(self) -> &'static str {
        match self {
            ParamType::Text => "text",
            ParamType::Integer => "a whole number",
            ParamType::Number => "a number",
            ParamType::Boolean => "true or false",
            ParamType::Recipients => "addresses (text or a list)",
            ParamType::List => "a list",
            ParamType::Any => "any value",
        }
    }

    /// Whether a literal (non-template) value fits. Text is a template and may render
    /// into anything, so it always fits.
    fn fits(self, v: &Json) -> bool {
        match (self, v) {
            (_, Json::String(_)) | (ParamType::Any, _) => true,
            (ParamType::Text, Json::Number(_) | Json::Bool(_)) => true,
            (ParamType::Integer, Json::Number(n)) => n.is_i64() || n.is_u64(),
            (ParamType::Number, Json::Number(_)) => true,
            (ParamType::Boolean, Json::Bool(_)) => true,
            (ParamType::Recipients | ParamType::List, Json::Array(_)) => true,
            _ => false,
        }
    }
}

/// One parameter of an action kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Its name in a step's `params`.
    pub name: String,
    /// What it holds.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// Whether the action cannot run without it.
    #[serde(default)]
    pub required: bool,
}

impl Param {
    /// A parameter the action needs.
    pub fn required(name: &str, ty: ParamType) -> Param {
        Param {
            name: name.into(),
            ty,
            required: true,
        }
    }

    /// A parameter the action can do without.
    pub fn optional(name: &str, ty: ParamType) -> Param {
        Param {
            name: name.into(),
            ty,
            required: false,
        }
    }
}

/// What an action is run with: the node's hands, who acts, and the outbox entry.
pub struct Act<'a> {
    /// The node's capabilities and the port to its employees.
    pub hands: &'a Hands,
    /// The employee acting.
    pub me: &'a Sender,
    /// Its manager.
    pub manager: Option<&'a Manager>,
    /// The action, as stored in the outbox.
    pub entry: &'a OutboxEntry,
}

/// Runs one action: what it did (the outcome's `result`), or why it could not.
pub type RunAction = for<'a> fn(&'a Act<'a>) -> BoxFuture<'a, Result<Json, CapabilityError>>;

/// One declared action kind.
#[derive(Clone)]
pub struct ActionKind {
    /// The kind, `capability.verb`, e.g. `email.send`.
    pub kind: String,
    /// What it does, in a sentence.
    pub summary: String,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Groups of parameters of which at least one must be set (e.g. `in_reply_to` or
    /// `follows`).
    pub one_of: Vec<Vec<String>>,
    /// Whether it changes anything outside the node (sends, posts, books, writes to a
    /// system of record); reading and deciding inside the node do not.
    pub side_effect: bool,
    /// Its driver; none while the kind is declared ahead of one.
    pub run: Option<RunAction>,
    /// A role declared it (in its template's `[[actions]]`).
    pub custom: bool,
}

impl std::fmt::Debug for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionKind")
            .field("kind", &self.kind)
            .field("params", &self.params)
            .field("side_effect", &self.side_effect)
            .field("driver", &self.run.is_some())
            .finish()
    }
}

impl ActionKind {
    /// A kind with a driver.
    pub fn new(kind: &str, summary: &str, side_effect: bool, run: RunAction) -> Self {
        ActionKind {
            kind: kind.into(),
            summary: summary.into(),
            params: Vec::new(),
            one_of: Vec::new(),
            side_effect,
            run: Some(run),
            custom: false,
        }
    }

    /// A kind declared ahead of its driver: plans may name it; it is recorded
    /// `unsupported`.
    pub fn without_driver(kind: &str, summary: &str, side_effect: bool) -> Self {
        ActionKind {
            kind: kind.into(),
            summary: summary.into(),
            params: Vec::new(),
            one_of: Vec::new(),
            side_effect,
            run: None,
            custom: false,
        }
    }

    /// With these parameters.
    pub fn params(mut self, params: Vec<Param>) -> Self {
        self.params = params;
        self
    }

    /// At least one of `names` must be set.
    pub fn one_of(mut self, names: &[&str]) -> Self {
        self.one_of
            .push(names.iter().map(|n| n.to_string()).collect());
        self
    }

    fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Whether the node can carry it out.
    pub fn has_driver(&self) -> bool {
        self.run.is_some()
    }
}

/// A kind a role declares for its own plans (`[[actions]]` in its template).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomAction {
    /// The kind, `namespace.verb`, e.g. `acme.open_ticket`.
    pub kind: String,
    /// What it does.
    #[serde(default)]
    pub summary: String,
    /// Its parameters.
    #[serde(default)]
    pub params: Vec<Param>,
    /// Whether it changes anything outside the node.
    #[serde(default = "yes")]
    pub side_effect: bool,
}

fn yes() -> bool {
    true
}

/// Every action kind the node knows.
#[derive(Debug, Clone, Default)]
pub struct ActionRegistry {
    kinds: BTreeMap<String, ActionKind>,
    /// MCP servers whose tools (`mcp.SERVER.TOOL`) are actions, listed or not.
    mcp: BTreeSet<String>,
}

impl ActionRegistry {
    /// The kinds every node has: each capability's, escalations' and tasks'.
    pub fn builtin() -> ActionRegistry {
        let mut r = ActionRegistry::default();
        for k in super::email::actions::kinds()
            .into_iter()
            .chain(super::chat::actions::kinds())
            .chain(super::calendar::actions::kinds())
            .chain(super::tasks::kinds())
            .chain(super::crm::actions::kinds())
            .chain(super::documents::kinds())
            .chain(super::research::kinds())
            .chain(super::recruiting::actions::kinds())
            .chain(super::assistant::kinds())
            .chain(super::product::kinds())
            .chain(super::language::kinds())
            .chain(super::meetings::kinds())
            .chain(super::agents::kinds())
            .chain(crate::lifecycle::escalations::kinds())
        {
            r.add(k);
        }
        r
    }

    /// This registry knowing the tools of MCP servers `names` as actions: a plan may
    /// name `mcp.SERVER.TOOL` whatever the server lists (its tools are checked when the
    /// node lists them, and at each call).
    pub fn with_mcp_servers<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        self.mcp.extend(names.into_iter().map(str::to_string));
        self
    }

    /// Whether `kind` names a tool of a configured MCP server.
    fn mcp_tool(&self, kind: &str) -> bool {
        crate::mcp::client::parse_kind(kind).is_some_and(|(server, _)| self.mcp.contains(server))
    }

    /// Adds a kind. Declaring one twice is a bug in the node.
    pub fn add(&mut self, kind: ActionKind) {
        let previous = self.kinds.insert(kind.kind.clone(), kind);
        assert!(
            previous.is_none(),
            "action kind {:?} declared twice",
            previous.map(|k| k.kind)
        );
    }

    /// This registry with a role's own kinds added, and what is wrong with any of them
    /// (each message naming the kind's index in `actions`; the well-formed ones are
    /// added all the same).
    pub fn with_custom(&self, custom: &[CustomAction]) -> (Self, Vec<(usize, String)>) {
        let mut r = self.clone();
        let mut errors = Vec::new();
        for (i, c) in custom.iter().enumerate() {
            let well_formed = c.kind.split_once('.').is_some_and(|(ns, verb)| {
                !ns.is_empty()
                    && !verb.is_empty()
                    && c.kind
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch))
            });
            if !well_formed {
                errors.push((
                    i,
                    format!(
                        "`kind` must be `namespace.verb` in letters, digits, `_` or `-`, e.g. `acme.open_ticket`; got {:?}",
                        c.kind
                    ),
                ));
            } else if r.kinds.get(&c.kind).is_some_and(|k| k.custom) {
                errors.push((
                    i,
                    format!(
                        "`{}` is declared twice; keep one `[[actions]]` table for it",
                        c.kind
                    ),
                ));
            } else if r.kinds.contains_key(&c.kind) {
                errors.push((
                    i,
                    format!(
                        "`{}` is a built-in action; use it in plans as it is, or name your own kind differently",
                        c.kind
                    ),
                ));
            } else {
                r.kinds.insert(
                    c.kind.clone(),
                    ActionKind {
                        kind: c.kind.clone(),
                        summary: c.summary.clone(),
                        params: c.params.clone(),
                        one_of: Vec::new(),
                        side_effect: c.side_effect,
                        run: None,
                        custom: true,
                    },
                );
            }
        }
        (r, errors)
    }

    /// The declaration of `kind`.
    pub fn get(&self, kind: &str) -> Option<&ActionKind> {
        self.kinds.get(kind)
    }

    /// Every kind, by name.
    pub fn kinds(&self) -> impl Iterator<Item = &ActionKind> {
        self.kinds.values()
    }

    /// Checks a plan step naming `kind` with each of its parameter sets (the step's own,
    /// then each variant merged over it): every problem, each saying what to do.
    pub fn check_step(&self, kind: &str, param_sets: &[BTreeMap<String, Json>]) -> Vec<String> {
        let Some(k) = self.get(kind) else {
            if self.mcp_tool(kind) {
                return Vec::new();
            }
            return vec![self.unknown(kind)];
        };
        let mut found = Vec::new();
        let mut seen = BTreeSet::new();
        for params in param_sets {
            for f in check_params(k, params) {
                if seen.insert(f.clone()) {
                    found.push(f);
                }
            }
        }
        if !k.has_driver() {
            found.push(if k.custom {
                format!(
                    "no driver: `{kind}` is the role's own action and nothing on this node carries it out; the step would be recorded, never done. Name a kind with a driver instead"
                )
            } else {
                format!(
                    "no driver: nothing on this node carries out `{kind}`; the step would be recorded, never done. Name a kind with a driver instead"
                )
            });
        }
        found
    }

    /// A message for a kind nobody declared, suggesting the nearest one.
    pub fn unknown(&self, kind: &str) -> String {
        let near = nearest(kind, self.kinds.keys().map(String::as_str));
        let capability = kind.split('.').next().unwrap_or(kind);
        let same: Vec<&str> = self
            .kinds
            .keys()
            .filter(|k| k.split('.').next() == Some(capability))
            .map(String::as_str)
            .collect();
        let mut m = format!("`{kind}` is not an action this node knows");
        match near {
            Some(n) => m.push_str(&format!("; did you mean `{n}`?")),
            None if !same.is_empty() => {
                m.push_str(&format!("; `{capability}` actions are {}", same.join(", ")))
            }
            None => m.push('.'),
        }
        m.push_str(" To give the role an action of its own, declare it under `[[actions]]` in its template.");
        m
    }

    /// `params` of `kind` with every team named in a recipients parameter replaced by
    /// its members (`None` when none is named): what the action reaches, for running it
    /// and for showing an approval where it would go.
    pub async fn with_teams(
        &self,
        hands: &Hands,
        kind: &str,
        params: &Json,
    ) -> Result<Option<Json>, CapabilityError> {
        let Some(k) = self.get(kind) else {
            return Ok(None);
        };
        let recipients = k
            .params
            .iter()
            .filter(|p| p.ty == ParamType::Recipients)
            .map(|p| p.name.as_str());
        crate::capabilities::teams::expand_params(hands, params, recipients).await
    }

    /// Runs one outbox action: its status and result. A kind nobody declared, or one
    /// without a driver, is `unsupported`; a required parameter missing after the
    /// templates were rendered fails it, naming the parameter.
    pub async fn execute(&self, act: &Act<'_>) -> (ActionStatus, Json) {
        let kind = act.entry.kind.as_str();
        if self.get(kind).is_none() && self.mcp_tool(kind) {
            // A tool the server did not list when the node started: asked all the same.
            return match super::mcp::run(act).await {
                Ok(result) => (ActionStatus::Done, result),
                Err(e) => (ActionStatus::Failed, json!({"error": e.to_string()})),
            };
        }
        let Some(k) = self.get(kind) else {
            return (
                ActionStatus::Unsupported,
                json!({"error": format!("{}; the action was recorded, not carried out", self.unknown(kind))}),
            );
        };
        let Some(run) = k.run else {
            let capability = kind.split('.').next().unwrap_or(kind);
            return (
                ActionStatus::Unsupported,
                json!({"error": format!("this node has no driver for the `{capability}` capability; the action was recorded, not carried out")}),
            );
        };
        if let Some(missing) = missing_at_run(k, &act.entry.params) {
            return (ActionStatus::Failed, json!({"error": missing}));
        }
        let expanded = match self.with_teams(act.hands, kind, &act.entry.params).await {
            Ok(e) => e,
            Err(e) => return (ActionStatus::Failed, json!({"error": e.to_string()})),
        };
        let entry;
        let with_teams;
        let act = match expanded {
            Some(params) => {
                entry = OutboxEntry {
                    params,
                    ..act.entry.clone()
                };
                with_teams = Act {
                    entry: &entry,
                    ..*act
                };
                &with_teams
            }
            None => act,
        };
        match run(act).await {
            Ok(result) => (ActionStatus::Done, result),
            Err(e) => (ActionStatus::Failed, json!({"error": e.to_string()})),
        }
    }
}

/// Problems with one parameter set of a step naming `k`.
fn check_params(k: &ActionKind, params: &BTreeMap<String, Json>) -> Vec<String> {
    let mut found = Vec::new();
    let kind = &k.kind;
    for p in &k.params {
        match params.get(&p.name) {
            None if p.required => found.push(format!(
                "`{kind}` needs `{}` ({}); add it to the step's `params`",
                p.name,
                p.ty.describe()
            )),
            Some(v) if !p.ty.fits(v) => found.push(format!(
                "`{}` of `{kind}` must be {}, got {v}",
                p.name,
                p.ty.describe()
            )),
            Some(v) if p.ty == ParamType::Recipients => {
                if let Some(placeholder) = placeholder(v) {
                    found.push(format!(
                        "placeholder: `{}` of `{kind}` is {placeholder:?}, which is not an address, a team (`team:<id>`) or a template naming someone; the action would reach no one",
                        p.name
                    ));
                }
            }
            _ => {}
        }
    }
    for group in &k.one_of {
        if !group.iter().any(|n| params.contains_key(n)) {
            found.push(format!(
                "`{kind}` needs one of {}; add it to the step's `params`",
                group
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
    }
    // The parameters of a kind declared ahead of its driver are settled with the
    // driver; until then a step may pass any.
    if k.has_driver() || k.custom {
        for name in params.keys() {
            if k.param(name).is_none() {
                let known: Vec<&str> = k.params.iter().map(|p| p.name.as_str()).collect();
                let hint = match nearest(name, known.iter().copied()) {
                    Some(n) => format!("; did you mean `{n}`?"),
                    None => format!("; its parameters are {}", known.join(", ")),
                };
                found.push(format!("`{kind}` has no parameter `{name}`{hint}"));
            }
        }
    }
    found
}

/// The first required parameter missing or blank in rendered `params`, as an error.
fn missing_at_run(k: &ActionKind, params: &Json) -> Option<String> {
    let blank = |v: &Json| match v {
        Json::Null => true,
        Json::String(s) => s.trim().is_empty(),
        Json::Array(a) => a.is_empty(),
        _ => false,
    };
    for p in k.params.iter().filter(|p| p.required) {
        if blank(&params[p.name.as_str()]) {
            return Some(format!("`{}` needs `{}`", k.kind, p.name));
        }
    }
    for group in &k.one_of {
        if group.iter().all(|n| blank(&params[n.as_str()])) {
            return Some(format!(
                "`{}` needs {}",
                k.kind,
                group
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
    }
    None
}

/// The literal text in a recipients value that is no address: plain text such as
/// `"product team"`, or a template's fallback such as `default('prospects')`. A
/// template with no literal fallback names someone at run time and is no placeholder.
pub fn placeholder(v: &Json) -> Option<String> {
    match v {
        Json::Array(items) => items.iter().find_map(placeholder),
        Json::String(s) => {
            let literals: Vec<String> = if s.contains("{{") {
                // Quoted strings inside the template's expressions: its fallbacks.
                let mut out = Vec::new();
                for expr in s.split("{{").skip(1) {
                    let expr = expr.split("}}").next().unwrap_or("");
                    let mut rest = expr;
                    while let Some(start) = rest.find(['\'', '"']) {
                        let quote = rest[start..].chars().next().unwrap_or('\'');
                        let after = &rest[start + 1..];
                        let Some(end) = after.find(quote) else { break };
                        out.push(after[..end].to_string());
                        rest = &after[end + 1..];
                    }
                }
                out
            } else {
                s.split(',').map(|x| x.trim().to_string()).collect()
            };
            literals.into_iter().find(|l| {
                let l = l.trim();
                !l.is_empty()
                    && !l.starts_with(crate::config::teams::PREFIX)
                    && !crate::model::is_address(crate::model::bare_address(l))
            })
        }
        _ => None,
    }
}

/// The candidate closest to `word` by edit distance, if close enough to be a typo.
fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (distance(word, c), c))
        .filter(|(d, c)| *d > 0 && *d <= 2.max(c.len() / 5))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests;
