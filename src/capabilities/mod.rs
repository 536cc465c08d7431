//! The employee's hands: email, chat, calendar, CRM, documents, research. Each will be a
//! trait with a real driver and a local driver for the embedded default; actions reach
//! them through the outbox and the CapabilityActor (see `actors::CapabilityMsg`), which
//! answers `unsupported` for every capability until its driver is added here.
