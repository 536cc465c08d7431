//! The employee lifecycle: hiring (a profile from a role template plus overrides, with a
//! provisioned email address, chat handle and calendar), the onboarding phases and the
//! approvals that gate an employee's actions, and escalations to its manager.

pub mod approvals;
pub mod escalations;
mod hiring;
pub mod onboarding;
pub mod review_mail;
pub mod reviews;
pub mod workflows;

pub use escalations::EscalationError;
pub use hiring::{HireRequest, address_local_part, build_profile};
