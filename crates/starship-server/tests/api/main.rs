//! The HTTP API driven through the front door: the real server on a random
//! port, on SQLite and on PostgreSQL.

mod support;

mod access;
mod appliances;
mod applications_tab;
mod bulk;
mod clients;
mod decisions;
mod dispatch;
mod expiry;
mod history;
mod hostile;
mod isolation;
mod last_admin;
mod metrics;
mod oidc;
mod oidc_flow;
mod onboarding;
mod openapi;
mod operations;
mod outbox;
mod person_rule;
mod platform;
mod portal;
mod preferences;
mod reviews;
mod scim;
mod scim_bulk;
mod scim_groups;
mod search;
mod session;
mod sites;
mod smtp;
mod source;
mod tickets;
mod tokens;
mod trust;
mod users_page;
mod web;
