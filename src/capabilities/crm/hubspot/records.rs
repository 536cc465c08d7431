//! HubSpot's objects as the CRM's records, and the CRM's records as HubSpot's
//! properties.

use super::{HubSpot, associated, prop, text, time};
use crate::capabilities::crm::records::tidy;
use crate::capabilities::crm::{Account, Activity, Contact, Deal, NewAccount, NewDeal, is_closed};
use chrono::{NaiveDate, Utc};
use serde_json::{Value as Json, json};

impl HubSpot {
    pub(super) fn account_of(&self, o: &Json) -> Account {
        let p = &o["properties"];
        Account {
            id: o["id"].as_str().unwrap_or_default().into(),
            name: text(p, "name").unwrap_or_default(),
            domain: text(p, "domain"),
            industry: text(p, "industry"),
            employees: text(p, "numberofemployees").and_then(|n| n.parse().ok()),
            region: text(p, "empla_region"),
            plan: text(p, "empla_plan"),
            owner: text(p, "empla_owner"),
            health: text(p, "empla_health").and_then(|h| h.parse().ok()),
            signals: text(p, "empla_signals")
                .map(|s| s.split(';').map(str::to_string).collect())
                .unwrap_or_default(),
            created_at: time(&o["createdAt"]),
            updated_at: time(&o["updatedAt"]),
        }
    }

    pub(super) fn contact_of(&self, o: &Json) -> Contact {
        let p = &o["properties"];
        let name = [text(p, "firstname"), text(p, "lastname")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Contact {
            id: o["id"].as_str().unwrap_or_default().into(),
            name,
            email: text(p, "email").unwrap_or_default(),
            title: text(p, "jobtitle"),
            account: associated(o, "companies"),
            role: text(p, "empla_role"),
            created_at: time(&o["createdAt"]),
            updated_at: time(&o["updatedAt"]),
        }
    }

    pub(super) fn deal_of(&self, o: &Json) -> Deal {
        let p = &o["properties"];
        Deal {
            id: o["id"].as_str().unwrap_or_default().into(),
            name: text(p, "dealname").unwrap_or_default(),
            account: associated(o, "companies"),
            amount: text(p, "amount")
                .and_then(|a| a.parse().ok())
                .unwrap_or(0.0),
            stage: self.stage_in(&text(p, "dealstage").unwrap_or_default()),
            close_date: text(p, "closedate")
                .and_then(|d| NaiveDate::parse_from_str(d.get(..10)?, "%Y-%m-%d").ok()),
            owner: text(p, "empla_owner"),
            next_step: text(p, "hs_next_step"),
            closed_at: text(p, "empla_closed_at").and_then(|t| t.parse().ok()),
            created_at: time(&o["createdAt"]),
            updated_at: time(&o["updatedAt"]),
        }
    }

    pub(super) fn note_of(o: &Json) -> Activity {
        let p = &o["properties"];
        Activity {
            id: o["id"].as_str().unwrap_or_default().into(),
            kind: text(p, "empla_kind").unwrap_or_else(|| "note".into()),
            subject: text(p, "empla_subject").unwrap_or_default(),
            body: text(p, "hs_note_body").unwrap_or_default(),
            account: associated(o, "companies"),
            contact: associated(o, "contacts"),
            deal: associated(o, "deals"),
            employee: text(p, "empla_employee"),
            logged_by: text(p, "empla_logged_by").unwrap_or_default(),
            at: time(&p["hs_timestamp"]),
        }
    }

    pub(super) fn company_props(a: &NewAccount) -> Json {
        json!({
            "name": a.name.trim(), "domain": prop(tidy(a.domain.clone()).map(|d| d.to_lowercase())),
            "industry": prop(tidy(a.industry.clone())), "numberofemployees": prop(a.employees),
            "empla_region": prop(tidy(a.region.clone())), "empla_plan": prop(tidy(a.plan.clone())),
            "empla_owner": prop(a.owner.clone()), "empla_signals": a.signals.join(";"),
        })
    }

    pub(super) fn contact_props(
        name: &str,
        email: &str,
        title: Option<&str>,
        role: Option<&str>,
    ) -> Json {
        let name = name.trim();
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        json!({"firstname": first, "lastname": last.trim(), "email": email.trim(), "jobtitle": title.unwrap_or(""), "empla_role": role.unwrap_or("")})
    }

    pub(super) fn deal_props(&self, d: &NewDeal) -> Json {
        let stage = d.stage.clone().unwrap_or_else(|| self.first_stage.clone());
        let closed = is_closed(&stage).then(|| Utc::now().to_rfc3339());
        json!({
            "dealname": d.name.trim(), "amount": d.amount.to_string(), "dealstage": self.stage_out(&stage),
            "closedate": prop(d.close_date.map(|c| format!("{c}T00:00:00Z"))), "empla_owner": prop(d.owner.clone()),
            "hs_next_step": prop(tidy(d.next_step.clone())), "empla_closed_at": prop(closed),
        })
    }
}
