//! The employee's hands: email, chat, calendar, CRM, documents, research. Each will be a
//! trait with a real driver and a local driver for the embedded default; actions reach
//! them through the CapabilityActor and the outbox. The foundation defines the action
//! messages (see `actors::ActionRequest`); the capability issues add the drivers.
