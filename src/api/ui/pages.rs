//! The dashboard's templates, compiled once, and how a page is rendered: HTML escaped
//! everywhere (the `.html` names turn minijinja's auto-escaping on), with filters for
//! dates and percentages.

use super::Visitor;
use axum::response::Html;
use minijinja::{Environment, Value};
use std::sync::OnceLock;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("team.html", include_str!("templates/team.html")),
    ("employee.html", include_str!("templates/employee.html")),
    ("operator.html", include_str!("templates/operator.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("refused.html", include_str!("templates/refused.html")),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .expect("the dashboard's templates are checked by its tests");
        }
        env.add_filter("percent", |v: f64| {
            format!("{:.0}%", (v * 100.0).clamp(0.0, 999.0))
        });
        env.add_filter("figure", |v: Option<f64>| match v {
            None => "—".to_string(),
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
            Some(x) => format!("{x:.2}"),
        });
        env.add_filter("when", |v: String| {
            chrono::DateTime::parse_from_rfc3339(&v)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or(v)
        });
        env.add_filter("because", |v: Value| {
            because(&serde_json::to_value(&v).unwrap_or_default()).unwrap_or_default()
        });
        env.add_filter("pretty", |v: Value| {
            serde_json::to_string_pretty(&v).unwrap_or_default()
        });
        env
    })
}

/// Why an episode happened, when its payload says: a `reason` (a failure, a drop, a
/// block) or what stopped it, at the top or one level down (a tagged decision).
fn because(payload: &serde_json::Value) -> Option<String> {
    let pick = |o: &serde_json::Value| {
        ["reason", "stopped"]
            .iter()
            .find_map(|k| o.get(k).and_then(|r| r.as_str()).map(str::to_string))
    };
    pick(payload).or_else(|| payload.as_object()?.values().find_map(pick))
}

/// Renders template `name` with `ctx`. A template error is the dashboard's own fault:
/// logged, and answered with a plain page that says so.
pub(in crate::api) fn render(name: &str, ctx: Value) -> Html<String> {
    match environment().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html),
        Err(e) => {
            tracing::error!(template = name, error = %e, "a dashboard page could not be rendered");
            Html("<!doctype html><html lang=\"en\"><head><title>Error</title></head><body><main><h1>This page could not be shown</h1><p>The node's log says why.</p></main></body></html>".into())
        }
    }
}

/// What every signed-in page needs: who is looking, what they may do, the session's
/// CSRF token for its forms, and where the live stream is.
pub(super) fn frame(v: &Visitor, live: &str) -> Value {
    minijinja::context! {
        actor => v.who.actor.as_str(),
        role => v.who.role.to_string(),
        tenant => v.who.tenant.to_string(),
        may_write => v.may_write(),
        is_admin => v.who.role == crate::model::Role::Admin,
        csrf => v.session.csrf.as_str(),
        live => live,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_what_it_shows_is_escaped() {
        for (name, _) in TEMPLATES {
            assert!(environment().get_template(name).is_ok(), "{name}");
        }
        let html = render(
            "refused.html",
            minijinja::context! { title => "Forbidden", why => "<script>alert(1)</script>" },
        )
        .0;
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>alert"), "{html}");
    }

    #[test]
    fn an_episode_says_why_when_its_payload_does() {
        let failed = serde_json::json!({"fail": {"plan": "p", "reason": "rejected: too pushy"}});
        assert_eq!(because(&failed).as_deref(), Some("rejected: too pushy"));
        assert_eq!(
            because(&serde_json::json!({"reason": "blocked"})).as_deref(),
            Some("blocked")
        );
        assert_eq!(because(&serde_json::json!({"kind": "email.send"})), None);
    }
}
