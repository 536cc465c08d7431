//! Integration tests against real components: SQLite files, a PostgreSQL server (the
//! one `EMPLA_TEST_POSTGRES_URL` names, else the one at 127.0.0.1:5432; see
//! `postgres_server.rs`), and the real `empla` binary.

mod api;
mod api_limits;
mod bdi;
mod caldav_fixture;
mod calendar;
mod chat_api;
mod cli;
mod common;
mod config;
mod crm;
mod crm_api;
mod crm_hubspot;
mod crm_sales;
mod crm_success;
mod documents;
mod durability;
mod e2e;
mod embeddings;
mod escalation;
mod forget;
mod hubspot_fixture;
mod interaction;
mod mail_fixture;
mod mail_robot;
mod mail_server;
mod memory;
mod memory_api;
mod memory_people;
mod memory_upkeep;
mod postgres_server;
mod product;
mod product_planning;
mod research;
mod reviews;
mod roles_e2e;
mod running_documents;
mod runtime;
mod slack;
mod slack_fixture;
mod status_report;
mod store;
mod teams;
mod tour;
mod working;
