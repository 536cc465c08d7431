//! Typed identifiers. Employee, event and episode ids are UUIDs; a tenant id is a short
//! name chosen by the operator.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUID v7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// Identifies one employee, for life (also after offboarding).
    EmployeeId
);
uuid_id!(
    /// Identifies one accepted event in the durable inbox.
    EventId
);
uuid_id!(
    /// Identifies one record in episodic memory.
    EpisodeId
);
uuid_id!(
    /// Identifies one entry of the approval queue.
    ApprovalId
);

/// Namespace for event ids derived from idempotency keys.
const IDEMPOTENCY_NAMESPACE: Uuid = Uuid::from_u128(0x6d0c_5c4e_2f43_4a7e_9b8e_7d7a_e3a1_55e1);

impl EventId {
    /// The id of an event submitted with an idempotency key: the same tenant, employee
    /// and key always give the same id, so a second submission is recognised as the first.
    pub fn from_idempotency_key(tenant: &TenantId, employee: EmployeeId, key: &str) -> Self {
        let name = format!("{}\u{0}{}\u{0}{}", tenant.as_str(), employee, key);
        Self(Uuid::new_v5(&IDEMPOTENCY_NAMESPACE, name.as_bytes()))
    }
}

impl ApprovalId {
    /// The id of an approval an employee asks for, named by what it is for (e.g.
    /// `action:12`): the same name always gives the same id, so a decision recorded
    /// twice queues one approval.
    pub fn derived(employee: EmployeeId, what: &str) -> Self {
        Self(Uuid::new_v5(
            &employee.0,
            format!("approval:{what}").as_bytes(),
        ))
    }
}

/// The company (tenant) a row belongs to. Every stored row carries one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// A tenant id from its name. Names are validated by config loading.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The tenant's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_key_gives_the_same_event_id_only_for_the_same_employee_and_tenant() {
        let t = TenantId::new("acme");
        let a = EmployeeId::new();
        let b = EmployeeId::new();
        let k = "order-42";
        assert_eq!(
            EventId::from_idempotency_key(&t, a, k),
            EventId::from_idempotency_key(&t, a, k)
        );
        assert_ne!(
            EventId::from_idempotency_key(&t, a, k),
            EventId::from_idempotency_key(&t, b, k)
        );
        assert_ne!(
            EventId::from_idempotency_key(&t, a, k),
            EventId::from_idempotency_key(&TenantId::new("other"), a, k)
        );
    }
}
