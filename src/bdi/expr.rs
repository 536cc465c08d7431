//! Conditions: CEL expressions over what the employee knows, compiled once when plans
//! load and evaluated every cycle.
//!
//! An expression sees `event` (`kind`, `source`, `payload`), `beliefs` (key →
//! `{value, confidence, source}`), `goals` (id → `{progress, current, target, gap,
//! priority, blocked}`), `metrics` (name → latest value), `persona` (trait → 0..1) and,
//! in policies, `action` (`{kind, params}`).
//! Only the beliefs, goals and metrics an expression names are handed to it, so an
//! employee with ten thousand beliefs pays for the two a condition reads. CEL compares
//! ints with doubles but does not mix them in arithmetic: write `100.0`, not `100`.

use cel::common::ast::{Expr, IdedExpr, LiteralValue, operators};
use cel::objects::Key;
use cel::{Context, Program, Value};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

/// CEL's standard library, built once: building it is most of the cost of a context.
static STDLIB: std::sync::LazyLock<Arc<cel::Env>> =
    std::sync::LazyLock::new(|| Arc::new(cel::Env::stdlib()));

/// The roots an expression may read keys of.
const KEYED: [&str; 3] = ["beliefs", "goals", "metrics"];

/// Which keys of a keyed root an expression reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Keys {
    /// It does not read the root.
    #[default]
    None,
    /// It reads these keys only.
    Some(BTreeSet<String>),
    /// It iterates or indexes the root dynamically: it gets all of it.
    All,
}

impl Keys {
    fn add(&mut self, key: &str) {
        match self {
            Keys::None => *self = Keys::Some(BTreeSet::from([key.to_string()])),
            Keys::Some(set) => {
                set.insert(key.to_string());
            }
            Keys::All => {}
        }
    }
}

/// A compiled condition.
#[derive(Clone)]
pub struct Condition {
    source: String,
    program: Arc<Program>,
    uses: [Keys; 3],
    /// Whether the source mentions `event`, `persona`, `action`, `memory`, `trigger`: CEL converts
    /// every variable it is given on each evaluation, so the others are not given. (A
    /// mention in a string literal only costs a conversion; an identifier is never
    /// missed.)
    mentions: [bool; 5],
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Condition({:?})", self.source)
    }
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// What a condition is evaluated against. Build the parts once per cycle.
pub struct Scope<'a> {
    /// The event being handled, as a CEL map, or null.
    pub event: Value,
    /// The event that started the intention a wait belongs to, as a CEL map, or null.
    pub trigger: Value,
    /// The persona's traits, as a CEL map.
    pub persona: Value,
    /// The action a policy is judging (`{kind, params}`), or null.
    pub action: Value,
    /// Beliefs, already converted to CEL values.
    pub beliefs: &'a dyn Lookup,
    /// Goals, already converted to CEL values.
    pub goals: &'a dyn Lookup,
    /// Metrics' latest values.
    pub metrics: &'a dyn Lookup,
    /// Working memory (`{tasks, recent, retrieved, tokens, budget}`), made only for a
    /// condition that reads it.
    pub memory: &'a dyn Lazy,
}

/// A value made only when asked for (and then kept).
pub trait Lazy {
    /// The value.
    fn value(&self) -> Value;
}

impl<F: Fn() -> Value> Lazy for F {
    fn value(&self) -> Value {
        self()
    }
}

/// Something keyed a condition can read.
pub trait Lookup {
    /// The value of `key`, if present.
    fn get(&self, key: &str) -> Option<Value>;
    /// Every key with its value (for conditions that iterate).
    fn all(&self) -> Vec<(String, Value)>;
}

impl Condition {
    /// Compiles `source`; the error names the position and what was expected.
    pub fn compile(source: &str) -> Result<Condition, String> {
        let program = Program::compile(source).map_err(|e| e.to_string().trim().to_string())?;
        let mut uses: [Keys; 3] = Default::default();
        collect(program.expression(), &mut uses);
        Ok(Condition {
            source: source.to_string(),
            program: Arc::new(program),
            uses,
            mentions: ["event", "persona", "action", "memory", "trigger"]
                .map(|name| source.contains(name)),
        })
    }

    /// Compiles an optional expression; the error says it is not valid CEL and why.
    pub fn compile_optional(source: Option<&str>) -> Result<Option<Condition>, String> {
        source
            .map(|s| {
                Condition::compile(s).map_err(|e| format!("is not a valid CEL expression: {e}"))
            })
            .transpose()
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates to a boolean; anything else, or a failed evaluation (a missing key, a
    /// type mismatch), is an error naming the expression.
    pub fn eval(&self, scope: &Scope<'_>) -> Result<bool, String> {
        let mut ctx = Context::with_env(STDLIB.clone());
        let [event, persona, action, memory, trigger] = self.mentions;
        if trigger {
            ctx.add_variable_from_value("trigger", scope.trigger.clone());
        }
        if memory {
            ctx.add_variable_from_value("memory", scope.memory.value());
        }
        if event {
            ctx.add_variable_from_value("event", scope.event.clone());
        }
        if persona {
            ctx.add_variable_from_value("persona", scope.persona.clone());
        }
        if action {
            ctx.add_variable_from_value("action", scope.action.clone());
        }
        let lookups: [&dyn Lookup; 3] = [scope.beliefs, scope.goals, scope.metrics];
        for ((name, keys), lookup) in KEYED.iter().zip(&self.uses).zip(lookups) {
            let map: HashMap<Key, Value> = match keys {
                Keys::None => continue,
                Keys::Some(keys) => keys
                    .iter()
                    .filter_map(|k| lookup.get(k).map(|v| (Key::from(k.as_str()), v)))
                    .collect(),
                Keys::All => lookup
                    .all()
                    .into_iter()
                    .map(|(k, v)| (Key::from(k), v))
                    .collect(),
            };
            ctx.add_variable_from_value(*name, Value::Map(map.into()));
        }
        match self.program.execute(&ctx) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!(
                "`{}` gave {other:?}, not true or false",
                self.source
            )),
            Err(e) => Err(format!("`{}` failed: {e}", self.source)),
        }
    }
}

/// Records which keys of `beliefs`, `goals` and `metrics` an expression reads.
fn collect(e: &IdedExpr, uses: &mut [Keys; 3]) {
    let root = |e: &IdedExpr| match &e.expr {
        Expr::Ident(name) => KEYED.iter().position(|k| k == name),
        _ => None,
    };
    match &e.expr {
        Expr::Select(s) => match root(&s.operand) {
            Some(i) => uses[i].add(&s.field),
            None => collect(&s.operand, uses),
        },
        Expr::Call(c) => {
            let indexed = c.func_name == operators::INDEX || c.func_name == operators::OPT_INDEX;
            let literal_key = match c.args.get(1).map(|a| &a.expr) {
                Some(Expr::Literal(LiteralValue::String(s))) => Some(s.inner().to_string()),
                _ => None,
            };
            match (indexed, c.args.first().and_then(root), literal_key) {
                (true, Some(i), Some(key)) => uses[i].add(&key),
                _ => {
                    if let Some(t) = &c.target {
                        collect(t, uses);
                    }
                    for a in &c.args {
                        collect(a, uses);
                    }
                }
            }
        }
        Expr::Ident(_) => {
            if let Some(i) = root(e) {
                uses[i] = Keys::All;
            }
        }
        Expr::Comprehension(c) => {
            for part in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                collect(part, uses);
            }
        }
        Expr::List(l) => l.elements.iter().for_each(|x| collect(x, uses)),
        Expr::Map(m) => {
            for entry in &m.entries {
                match &entry.expr {
                    cel::common::ast::EntryExpr::MapEntry(me) => {
                        collect(&me.key, uses);
                        collect(&me.value, uses);
                    }
                    cel::common::ast::EntryExpr::StructField(f) => collect(&f.value, uses),
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &s.entries {
                if let cel::common::ast::EntryExpr::StructField(f) = &entry.expr {
                    collect(&f.value, uses);
                }
            }
        }
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// Converts JSON to a CEL value (whole numbers become ints, others doubles).
pub fn json_to_cel(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(a) => Value::List(Arc::new(a.iter().map(json_to_cel).collect())),
        serde_json::Value::Object(o) => {
            let map: HashMap<Key, Value> = o
                .iter()
                .map(|(k, v)| (Key::from(k.as_str()), json_to_cel(v)))
                .collect();
            Value::Map(map.into())
        }
    }
}

/// A CEL map from string keys.
pub fn cel_map<'a>(entries: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    let map: HashMap<Key, Value> = entries
        .into_iter()
        .map(|(k, v)| (Key::from(k), v))
        .collect();
    Value::Map(map.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Table(BTreeMap<String, f64>);
    impl Lookup for Table {
        fn get(&self, key: &str) -> Option<Value> {
            self.0.get(key).map(|v| Value::Float(*v))
        }
        fn all(&self) -> Vec<(String, Value)> {
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::Float(*v)))
                .collect()
        }
    }

    fn scope<'a>(t: &'a Table, empty: &'a Table) -> Scope<'a> {
        Scope {
            event: cel_map([("kind", Value::String(Arc::new("metric".into())))]),
            trigger: Value::Null,
            persona: Value::Null,
            action: Value::Null,
            beliefs: empty,
            goals: empty,
            metrics: t,
            memory: &|| Value::Null,
        }
    }

    #[test]
    fn only_the_named_keys_are_read() {
        let c =
            Condition::compile("metrics.coverage < 3.0 && has(beliefs.x) || goals['rev'] > 1.0")
                .unwrap();
        assert_eq!(c.uses[0], Keys::Some(BTreeSet::from(["x".to_string()])));
        assert_eq!(c.uses[1], Keys::Some(BTreeSet::from(["rev".to_string()])));
        assert_eq!(
            c.uses[2],
            Keys::Some(BTreeSet::from(["coverage".to_string()]))
        );
        let all = Condition::compile("beliefs.exists(k, k == 'a')").unwrap();
        assert_eq!(all.uses[0], Keys::All);
    }

    #[test]
    fn evaluates_against_the_scope() {
        let t = Table(BTreeMap::from([("coverage".to_string(), 2.1)]));
        let empty = Table(BTreeMap::new());
        let s = scope(&t, &empty);
        assert!(
            Condition::compile("metrics.coverage < 3.0 && event.kind == 'metric'")
                .unwrap()
                .eval(&s)
                .unwrap()
        );
        assert!(
            !Condition::compile("has(metrics.other)")
                .unwrap()
                .eval(&s)
                .unwrap()
        );
        let missing = Condition::compile("metrics.other > 1.0").unwrap().eval(&s);
        assert!(missing.unwrap_err().contains("other"));
        let not_bool = Condition::compile("metrics.coverage").unwrap().eval(&s);
        assert!(not_bool.unwrap_err().contains("not true or false"));
    }

    #[test]
    fn a_syntax_error_names_the_position() {
        let e = Condition::compile("beliefs.x >").unwrap_err();
        assert!(e.contains("1:12"), "{e}");
    }
}
