//! The employee lifecycle: hiring (a profile from a role template plus overrides, with a
//! provisioned email address, chat handle and calendar) and offboarding. Onboarding
//! phases and reviews come with the reasoning issue.

mod hiring;

pub use hiring::{HireRequest, address_local_part, build_profile};
