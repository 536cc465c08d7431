//! Hiring on a node: one employee or many, demo employees from config (once per file),
//! free addresses, and the relationship map each hire adds to the company's facts.

use super::{HireError, Node, NodeError};
use crate::actors::registry;
use crate::actors::scheduler::SchedulerMsg;
use crate::lifecycle::{HireRequest, address_local_part, build_profile};
use crate::model::{EmployeeId, EmployeeProfile, FieldError};
use crate::store::NewHire;
use chrono::Utc;
use std::collections::HashSet;
use std::path::PathBuf;

impl Node {
    pub(super) async fn hire_demo_employees(
        &self,
        demo: &[(PathBuf, HireRequest)],
    ) -> Result<(), NodeError> {
        if demo.is_empty() {
            return Ok(());
        }
        let hired: HashSet<String> = self
            .rt
            .store
            .config_keys(&self.rt.tenant)
            .await?
            .into_iter()
            .collect();
        for (path, req) in demo {
            let key = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            if hired.contains(&key) {
                continue;
            }
            let mut req = req.clone();
            req.created_by.get_or_insert_with(|| "config".into());
            let profile = self
                .hire_batch(vec![(req, Some(key))])
                .await
                .map_err(|error| NodeError::Demo {
                    file: path.display().to_string(),
                    error,
                })?;
            tracing::info!(employee = %profile[0].id, email = %profile[0].email, "hired demo employee");
        }
        Ok(())
    }

    /// Hires one employee and starts its actor tree.
    pub async fn hire(&self, req: HireRequest) -> Result<EmployeeProfile, HireError> {
        let mut hired = self.hire_batch(vec![(req, None)]).await?;
        let profile = hired.pop().expect("one hire gives one profile");
        // A new hire starts working at once (on the node that owns it, in a cluster); it
        // passivates when idle like anyone else.
        if !self.rt.owns(profile.id) {
            registry::wake(&self.rt, profile.id);
        } else if let Err(e) = registry::live_actor(&self.rt, profile.id).await {
            tracing::warn!(employee = %profile.id, error = %e, "hired, but its actors did not start");
        }
        Ok(profile)
    }

    /// Hires many employees in few transactions without starting their actors (they
    /// activate on their first event). For bulk onboarding and benchmarks.
    pub async fn hire_many(
        &self,
        reqs: Vec<HireRequest>,
    ) -> Result<Vec<EmployeeProfile>, HireError> {
        let mut out = Vec::with_capacity(reqs.len());
        let mut reqs = reqs.into_iter().map(|r| (r, None)).peekable();
        while reqs.peek().is_some() {
            let chunk: Vec<_> = reqs.by_ref().take(1000).collect();
            out.extend(self.hire_batch(chunk).await?);
        }
        Ok(out)
    }

    async fn hire_batch(
        &self,
        reqs: Vec<(HireRequest, Option<String>)>,
    ) -> Result<Vec<EmployeeProfile>, HireError> {
        let _one_at_a_time = self.hiring.lock().await;
        let now = Utc::now();
        let mut taken = HashSet::new();
        let mut hires = Vec::with_capacity(reqs.len());
        for (req, config_key) in reqs {
            let role = self
                .roles
                .get(&req.role)
                .ok_or_else(|| HireError::UnknownRole {
                    role: req.role.clone(),
                    known: self.roles.keys().cloned().collect::<Vec<_>>().join(", "),
                })?;
            if let Some(message) = req
                .team
                .as_deref()
                .and_then(|t| crate::config::teams::unknown(&self.rt.hands.teams, t))
            {
                return Err(HireError::Invalid(vec![FieldError::new("team", message)]));
            }
            let email = self.free_address(&req.name, &taken);
            taken.insert(email.clone());
            let profile = build_profile(role, &req, &self.rt.tenant, EmployeeId::new(), email, now)
                .map_err(HireError::Invalid)?;
            let schedules = self.schedules.get(&req.role).cloned().unwrap_or_default();
            hires.push(NewHire {
                profile,
                config_key,
                schedules,
            });
        }
        self.rt.store.insert_employees(&hires).await?;
        self.rt
            .store
            .put_facts(&self.rt.tenant, &relationship_map(&hires, now))
            .await?;
        let mut crons = HashSet::new();
        for h in &hires {
            let p = &h.profile;
            self.rt
                .directory
                .insert(p.id, &p.email, &p.chat_handle, p.status);
            crons.extend(h.schedules.iter().map(|(_, c)| c.clone()));
        }
        if let Some(s) = self.rt.scheduler() {
            let _ = s.send_message(SchedulerMsg::Ensure(crons.into_iter().collect()));
        }
        if let Some(c) = &self.rt.cluster {
            // Each goes to the least-loaded live node; the others' directories follow.
            for h in &hires {
                let id = h.profile.id;
                let owner = self
                    .rt
                    .store
                    .assign_lease(&self.rt.tenant, id, c.lease_ttl())
                    .await?;
                if owner.as_deref() == Some(&*c.node_id) {
                    c.take(&[crate::store::Lease {
                        tenant: self.rt.tenant.clone(),
                        employee: id,
                        epoch: 1,
                    }]);
                }
                super::cluster::announce(&self.rt, "hired", id).await;
            }
        }
        Ok(hires.into_iter().map(|h| h.profile).collect())
    }

    /// `first.last@domain`, or with a number appended when that is taken.
    fn free_address(&self, name: &str, taken: &HashSet<String>) -> String {
        let local = address_local_part(name);
        (1..)
            .map(|n| {
                if n == 1 {
                    format!("{local}@{}", self.company_domain)
                } else {
                    format!("{local}{n}@{}", self.company_domain)
                }
            })
            .find(|a| {
                !taken.contains(a)
                    && !self.rt.directory.email_taken(a)
                    && !self.address_taken_elsewhere(a)
            })
            .expect("some numbered address is free")
    }
}

/// The relationship map of new hires, as company facts: whom each reports to (a human
/// manager by name; a digital one by id, until the graph learns its name) and which
/// team it is on.
fn relationship_map(hires: &[NewHire], now: chrono::DateTime<Utc>) -> Vec<crate::memory::NewFact> {
    let fact = |subject: &str, predicate: &str, object: String| crate::memory::NewFact {
        subject: subject.to_string(),
        predicate: predicate.into(),
        object,
        confidence: 1.0,
        source: "hiring".into(),
        visibility: crate::memory::Visibility::Company,
        owner: None,
        team: None,
        at: now,
    };
    let mut facts = Vec::new();
    for h in hires {
        let p = &h.profile;
        if !p.team.is_empty() {
            facts.push(fact(&p.name, "member_of", p.team.clone()));
        }
        match &p.manager {
            Some(crate::model::Manager::Human { name, .. }) => {
                facts.push(fact(&p.name, "reports_to", name.clone()))
            }
            Some(crate::model::Manager::Employee { id }) => {
                let name = hires
                    .iter()
                    .find(|o| o.profile.id == *id)
                    .map(|o| o.profile.name.clone())
                    .unwrap_or_else(|| id.to_string());
                facts.push(fact(&p.name, "reports_to", name));
            }
            None => {}
        }
    }
    facts
}
