//! The tools empla's MCP server offers, each one call of the node's HTTP API — so a tool
//! passes exactly the API's auth and gates (an approval asked for by a policy is asked
//! for, whoever calls) and answers what the API answers. This file is the table: each
//! tool's name, what it does, its parameters as a JSON schema, and the API call its
//! arguments make.

use serde_json::{Map, Value as Json, json};

/// A parameter of a tool.
pub(crate) struct Param {
    pub(crate) name: &'static str,
    /// JSON schema type: `string`, `integer` or `boolean`.
    pub(crate) ty: &'static str,
    pub(crate) required: bool,
    pub(crate) about: &'static str,
}

const fn p(name: &'static str, ty: &'static str, required: bool, about: &'static str) -> Param {
    Param {
        name,
        ty,
        required,
        about,
    }
}

/// A tool.
pub(crate) struct ToolDef {
    pub(crate) name: &'static str,
    pub(crate) about: &'static str,
    pub(crate) params: &'static [Param],
    /// Whether it only reads.
    pub(crate) read_only: bool,
}

const EMPLOYEE: Param = p(
    "employee",
    "string",
    true,
    "The employee: its id or handle (e.g. `jordan.lee`).",
);

/// Every tool, in the order they are listed.
pub(crate) const TOOLS: &[ToolDef] = &[
    ToolDef {
        name: "list_employees",
        about: "Lists the node's employees: handle, name, role and onboarding phase.",
        params: &[],
        read_only: true,
    },
    ToolDef {
        name: "employee_status",
        about: "An employee's status: phase, intentions and what each waits for, goals with their figures, pending approvals, directives and today's counts.",
        params: &[EMPLOYEE],
        read_only: true,
    },
    ToolDef {
        name: "ask_employee",
        about: "Asks an employee something in chat and returns its answer (how its goals are going, what it is working on), or gives it a directive (\"focus on enterprise deals\").",
        params: &[
            EMPLOYEE,
            p("question", "string", true, "What to ask or tell it."),
            p(
                "from",
                "string",
                false,
                "Who asks, as `Name <address>`; default `MCP client`.",
            ),
        ],
        read_only: false,
    },
    ToolDef {
        name: "assign_task",
        about: "Assigns a task to an employee, which tracks it to done and reports back; returns the task with its id.",
        params: &[
            EMPLOYEE,
            p("description", "string", true, "What to do."),
            p("priority", "string", false, "low, medium, high or urgent."),
            p("deadline", "string", false, "When it is due (RFC 3339)."),
            p(
                "requester",
                "string",
                false,
                "Who asks; progress notices go to them.",
            ),
        ],
        read_only: false,
    },
    ToolDef {
        name: "task_status",
        about: "A task's status, progress notes and result.",
        params: &[EMPLOYEE, p("task_id", "string", true, "The task's id.")],
        read_only: true,
    },
    ToolDef {
        name: "recall_memories",
        about: "What an employee remembers about a subject (episodes and knowledge), best match first.",
        params: &[
            EMPLOYEE,
            p("query", "string", true, "What to recall."),
            p("limit", "integer", false, "How many, 1 to 100; default 10."),
        ],
        read_only: true,
    },
    ToolDef {
        name: "list_approvals",
        about: "Actions waiting for a human's approval, with the exact mail or action that would go out.",
        params: &[p(
            "employee",
            "string",
            false,
            "Only this employee's: id or handle.",
        )],
        read_only: true,
    },
    ToolDef {
        name: "approve_action",
        about: "Approves a pending action (operators): it is carried out.",
        params: &[
            p("approval", "string", true, "The approval's id."),
            p("reason", "string", false, "Why, for the record."),
        ],
        read_only: false,
    },
    ToolDef {
        name: "reject_action",
        about: "Rejects a pending action (operators): it is not carried out, and the employee learns from the reason.",
        params: &[
            p("approval", "string", true, "The approval's id."),
            p("reason", "string", true, "Why."),
        ],
        read_only: false,
    },
];

/// The JSON schema of `t`'s arguments.
pub(crate) fn schema(t: &ToolDef) -> Json {
    let mut properties = Map::new();
    for p in t.params {
        properties.insert(p.name.into(), json!({"type": p.ty, "description": p.about}));
    }
    let required: Vec<&str> = t
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// One call of the node's API: method, path under `/api/v1` (with its query) and body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path under `/api/v1`, with its query string.
    pub path: String,
    /// JSON body, for a `POST`.
    pub body: Option<Json>,
}

/// A path segment from an id or handle, refused unless it is one.
fn segment(what: &str, v: &str) -> Result<String, String> {
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!(
            "`{what}` must be an id or a handle (letters, digits, `.`, `_`, `-`); got {v:?}"
        ))
    }
}

fn query(pairs: &[(&str, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The API call tool `name` makes with `args`, or what is wrong with them.
pub fn call(name: &str, args: &Map<String, Json>) -> Result<ApiCall, String> {
    let t = TOOLS
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| format!("no tool named {name:?}; list the tools to see them"))?;
    for k in args.keys() {
        if !t.params.iter().any(|p| p.name == k) {
            let known: Vec<&str> = t.params.iter().map(|p| p.name).collect();
            return Err(format!(
                "{name} takes no argument {k:?}; it takes {}",
                known.join(", ")
            ));
        }
    }
    let text = |k: &str| -> Result<Option<String>, String> {
        match args.get(k) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("`{k}` must be a string, not {other}")),
        }
    };
    for p in t.params.iter().filter(|p| p.required) {
        let given = match p.ty {
            "string" => text(p.name)?.is_some_and(|s| !s.trim().is_empty()),
            _ => args.get(p.name).is_some_and(|v| !v.is_null()),
        };
        if !given {
            return Err(format!("{name} needs `{}`: {}", p.name, p.about));
        }
    }
    let employee = || segment("employee", &text("employee")?.unwrap_or_default());
    let get = |path: String| ApiCall {
        method: "GET",
        path,
        body: None,
    };
    let post = |path: String, body: Json| ApiCall {
        method: "POST",
        path,
        body: Some(body),
    };
    Ok(match name {
        "list_employees" => get("/employees".into()),
        "employee_status" => get(format!("/employees/{}/status", employee()?)),
        "ask_employee" => post(
            format!("/employees/{}/chat", employee()?),
            json!({"from": text("from")?.unwrap_or_else(|| "MCP client".into()), "text": text("question")?}),
        ),
        "assign_task" => {
            let mut body = json!({"description": text("description")?});
            for k in ["priority", "deadline", "requester"] {
                if let Some(v) = text(k)? {
                    body[k] = json!(v);
                }
            }
            post(format!("/employees/{}/tasks", employee()?), body)
        }
        "task_status" => get(format!(
            "/employees/{}/tasks/{}",
            employee()?,
            segment("task_id", &text("task_id")?.unwrap_or_default())?
        )),
        "recall_memories" => {
            let limit = match args.get("limit") {
                None | Some(Json::Null) => 10,
                Some(v) => v
                    .as_i64()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| {
                        format!("`limit` must be a whole number from 1 to 100, not {v}")
                    })?,
            };
            let q = query(&[
                ("q", text("query")?.unwrap_or_default()),
                ("limit", limit.to_string()),
            ]);
            get(format!("/employees/{}/memory/search?{q}", employee()?))
        }
        "list_approvals" => {
            let mut pairs = vec![("status", "pending".to_string())];
            if let Some(e) = text("employee")? {
                pairs.push(("employee", segment("employee", &e)?));
            }
            get(format!("/approvals?{}", query(&pairs)))
        }
        "approve_action" | "reject_action" => {
            let verb = if name == "approve_action" {
                "approve"
            } else {
                "reject"
            };
            let id = segment("approval", &text("approval")?.unwrap_or_default())?;
            let mut body = json!({});
            if let Some(r) = text("reason")? {
                body["reason"] = json!(r);
            }
            post(format!("/approvals/{id}/{verb}"), body)
        }
        other => unreachable!("tool {other} is in the table but has no call"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn each_tool_is_one_api_call_and_bad_arguments_say_what_is_wrong() {
        assert_eq!(
            call(
                "ask_employee",
                &args(json!({"employee": "jordan.lee", "question": "How's the pipeline?"}))
            ),
            Ok(ApiCall {
                method: "POST",
                path: "/employees/jordan.lee/chat".into(),
                body: Some(json!({"from": "MCP client", "text": "How's the pipeline?"})),
            })
        );
        assert_eq!(
            call(
                "recall_memories",
                &args(json!({"employee": "jordan.lee", "query": "Acme & co", "limit": 5}))
            )
            .unwrap()
            .path,
            "/employees/jordan.lee/memory/search?q=Acme+%26+co&limit=5"
        );
        assert_eq!(
            call(
                "reject_action",
                &args(json!({"approval": "a1", "reason": "too pushy"}))
            )
            .unwrap(),
            ApiCall {
                method: "POST",
                path: "/approvals/a1/reject".into(),
                body: Some(json!({"reason": "too pushy"})),
            }
        );
        for (tool, a, why) in [
            ("fly", json!({}), "no tool named \"fly\""),
            ("employee_status", json!({}), "needs `employee`"),
            (
                "employee_status",
                json!({"employee": "../approvals"}),
                "must be an id or a handle",
            ),
            (
                "employee_status",
                json!({"employee": "x", "extra": 1}),
                "takes no argument \"extra\"",
            ),
            (
                "recall_memories",
                json!({"employee": "x", "query": "q", "limit": 1000}),
                "from 1 to 100",
            ),
            ("reject_action", json!({"approval": "a1"}), "needs `reason`"),
            (
                "ask_employee",
                json!({"employee": "x", "question": 7}),
                "`question` must be a string",
            ),
        ] {
            let e = call(tool, &args(a)).expect_err(tool);
            assert!(e.contains(why), "{tool}: {e}");
        }
        // Every tool's schema lists its required parameters.
        for t in TOOLS {
            let s = schema(t);
            let req = s["required"].as_array().unwrap().len();
            assert_eq!(
                req,
                t.params.iter().filter(|p| p.required).count(),
                "{}",
                t.name
            );
        }
    }
}
