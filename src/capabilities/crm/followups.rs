//! What the CRM tells employees so nothing goes quiet: deals without activity for a
//! while (`crm.follow_up_stale_deals` hands each one over as `crm.deal_stale`), a deal
//! won (its account's owner hears `crm.deal_won` with the handoff brief, to onboard the
//! customer; a colleague who sold it hears it too, to hand the account over), and usage
//! near the plan's limit (the account's owner hears `crm.upsell_signal`, naming the
//! seller of its last won deal).

use super::actions::books;
use super::customers::{about, tell};
use super::{Account, Books, CrmError, Deal};
use crate::capabilities::CapabilityError;
use crate::capabilities::registry::Act;
use crate::model::EmployeeId;
use crate::store::{AccountFilter, ActivityFilter, DealFilter, Page};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value as Json, json};

/// An open deal without activity on it or its account for this long is quiet: the
/// morning sweep follows it up and a pipeline review lists it.
pub(super) const STALE_DAYS: i64 = 14;

/// Usage at or above this share of the plan is an upsell signal.
pub(super) const NEAR_LIMIT: f64 = 0.9;

/// When `deal` or its account last saw an activity (its last change when none).
pub(super) async fn last_touch(b: &Books<'_>, deal: &Deal) -> Result<DateTime<Utc>, CrmError> {
    let mut last = deal.updated_at;
    let by_deal = ActivityFilter {
        deal: Some(deal.id.clone()),
        ..Default::default()
    };
    let mut filters = vec![by_deal];
    if let Some(a) = &deal.account {
        filters.push(ActivityFilter {
            account: Some(a.clone()),
            ..Default::default()
        });
    }
    for f in filters {
        if let Some(act) = b.driver().activities(&f, Page::FIRST).await?.first() {
            last = last.max(act.at);
        }
    }
    Ok(last)
}

/// `crm.follow_up_stale_deals`: the employee's open deals quiet for `days` (14), each
/// handed over with the account's contact.
pub(super) async fn follow_up_stale_deals(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let days = a.entry.params["days"]
        .as_i64()
        .unwrap_or(STALE_DAYS)
        .clamp(1, 365);
    let b = books(a);
    let mine = DealFilter {
        owner: Some(a.me.id.to_string()),
        open: true,
        ..Default::default()
    };
    let cutoff = Utc::now() - Duration::days(days);
    let mut stale = Vec::new();
    for deal in b.driver().deals(&mine, Page::ALL).await? {
        let last = last_touch(&b, &deal).await?;
        if last >= cutoff {
            continue;
        }
        let Some(account) = (match &deal.account {
            Some(id) => b.driver().account(id).await?,
            None => None,
        }) else {
            continue;
        };
        let (mut payload, reachable) = about(&b, &account).await?;
        payload["deal"] = json!(deal.id);
        payload["deal_name"] = json!(deal.name);
        payload["stage"] = json!(deal.stage);
        payload["next_step"] = json!(deal.next_step);
        payload["days_quiet"] = json!((Utc::now() - last).num_days());
        if reachable {
            let key = format!("{}:stale:{}", a.entry.key, deal.id);
            tell(
                a.hands,
                a.me.id,
                "crm.deal_stale",
                payload.clone(),
                Some(key),
            )
            .await;
        }
        stale.push(payload);
    }
    Ok(json!({"days": days, "count": stale.len(), "deals": stale}))
}

impl Books<'_> {
    /// A deal reached `closed_won`: its account's owner hears of it, to onboard the
    /// customer.
    pub(super) async fn deal_won(&self, deal: &Deal) -> Result<(), CrmError> {
        let Some(mut account) = (match &deal.account {
            Some(id) => self.driver().account(id).await?,
            None => None,
        }) else {
            return Ok(());
        };
        if account.plan.is_none() {
            account = self.hand_over_new_customer(account, deal).await?;
        }
        let Some(owner) = account
            .owner
            .as_deref()
            .and_then(|o| o.parse::<EmployeeId>().ok())
        else {
            return Ok(());
        };
        let (mut payload, _) = about(self, &account).await?;
        payload["deal"] = json!(deal.id);
        payload["deal_name"] = json!(deal.name);
        payload["amount"] = json!(deal.amount);
        // The brief goes with it: the owner starts onboarding knowing what was sold and
        // promised, whatever the seller's phase. Sold by a colleague, the seller also
        // hears it, with whom to hand the account to, and hands it over in person.
        let seller = deal
            .owner
            .as_deref()
            .and_then(|o| o.parse::<EmployeeId>().ok())
            .filter(|s| *s != owner && !self.hands.employees.offboarded(*s));
        payload["handoff"] = self.handoff_brief(deal, &account, seller).await?;
        let by = match seller {
            Some(s) => self.hands.sender(s).await?.map(|(me, _)| me),
            None => None,
        };
        if let Some(by) = &by {
            payload["seller"] = json!(by.handle);
            payload["seller_name"] = json!(by.name);
        }
        let receiver = self.hands.store.employee(&self.hands.tenant, owner).await?;
        if let (Some(by), Some(csm)) = (by, receiver) {
            let mut to_seller = payload.clone();
            to_seller["csm"] = json!(csm.chat_handle);
            to_seller["csm_name"] = json!(csm.name);
            let key = Some(format!("deal_won:{}:seller", deal.id));
            tell(self.hands, by.id, "crm.deal_won", to_seller, key).await;
        }
        let key = Some(format!("deal_won:{}", deal.id));
        tell(self.hands, owner, "crm.deal_won", payload, key).await;
        Ok(())
    }

    /// A new customer: the account is marked a customer (`plan` "customer" until its
    /// plan is recorded) and handed to the employee of `[crm] customer_role` with the
    /// fewest customers (the earliest hired on a tie), with a note saying so.
    async fn hand_over_new_customer(
        &self,
        account: Account,
        deal: &Deal,
    ) -> Result<Account, CrmError> {
        let role = self.crm.customer_role.as_str();
        let mut to: Option<(usize, EmployeeId, String)> = None;
        if !role.is_empty() {
            let staff = self
                .hands
                .store
                .employees(&self.hands.tenant, 10_000, 0)
                .await?;
            for e in staff.into_iter().filter(|e| {
                e.role == role
                    && matches!(
                        e.status,
                        crate::model::EmployeeStatus::Active
                            | crate::model::EmployeeStatus::Onboarding
                    )
            }) {
                let mine = AccountFilter {
                    owner: Some(e.id.to_string()),
                    customers: true,
                    ..Default::default()
                };
                let n = self.driver().accounts(&mine, Page::ALL).await?.len();
                if to.as_ref().is_none_or(|(least, _, _)| n < *least) {
                    to = Some((n, e.id, e.name));
                }
            }
        }
        let patch = super::AccountPatch {
            plan: Some(Some("customer".into())),
            owner: to.as_ref().map(|(_, id, _)| Some(id.to_string())),
            ..Default::default()
        };
        let updated = self
            .driver()
            .update_account(&account.id, patch)
            .await?
            .unwrap_or(account);
        if let Some((_, id, name)) = to {
            self.driver()
                .log_activity(
                    super::NewActivity {
                        kind: "note".into(),
                        subject: format!("New customer: handed to {name} to onboard"),
                        body: format!("{} was won.", deal.name),
                        account: Some(updated.id.clone()),
                        deal: Some(deal.id.clone()),
                        employee: Some(id.to_string()),
                        key: Some(format!("handover:{}", deal.id)),
                        ..Default::default()
                    },
                    "crm",
                )
                .await?;
        }
        Ok(updated)
    }

    /// Usage reached `NEAR_LIMIT` of the account's plan: its owner hears of it, with the
    /// seller of its newest won deal to bring in.
    pub(super) async fn near_limit(&self, account: &Account, usage: f64) -> Result<(), CrmError> {
        let Some(owner) = account
            .owner
            .as_deref()
            .and_then(|o| o.parse::<EmployeeId>().ok())
        else {
            return Ok(());
        };
        let won = DealFilter {
            account: Some(account.id.clone()),
            stage: Some("closed_won".into()),
            ..Default::default()
        };
        let seller = match self.driver().deals(&won, Page::FIRST).await?.first() {
            Some(d) => match d
                .owner
                .as_deref()
                .and_then(|o| o.parse::<EmployeeId>().ok())
            {
                Some(id) => self.hands.sender(id).await?.map(|(s, _)| s.mailbox()),
                None => None,
            },
            None => None,
        };
        let (mut payload, _) = about(self, account).await?;
        payload["usage"] = json!(usage);
        payload["percent"] = json!((usage * 100.0).round() as i64);
        if let Some(seller) = seller {
            payload["seller"] = json!(seller);
        }
        tell(self.hands, owner, "crm.upsell_signal", payload, None).await;
        Ok(())
    }
}
