//! ferrobridge's integration suite, one binary: HTTP CRUD and errors on
//! SQLite and PostgreSQL, a real TCP server, compile-fail cases of the
//! derive, expansion snapshots, the OpenAPI document, the docs page in a
//! browser, and the developer workflow (`cargo xtask new`, `scaffold`,
//! `expand`) on a generated project.

mod admin;
mod admin_browser;
mod admin_changelist;
mod admin_forms;
mod apps;
mod atomic;
mod auth;
mod authz;
mod authz_matrix;
mod browser;
mod change_events;
mod changelog;
mod cluster;
mod credentials;
mod crud;
mod dialects;
mod django;
mod edge_models;
mod errors;
mod expand;
mod faults;
mod feed;
mod fuzz;
mod generated_regressions;
mod instances;
mod instants;
mod layers;
mod limits;
mod list;
mod migrations;
mod one_path;
mod one_source;
mod openapi;
mod ordering_index;
mod permissions;
mod raw_names;
mod security;
mod server;
mod tcp;
mod ui;
mod workflow;
