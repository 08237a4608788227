//! ferrobridge's integration suite, one binary: HTTP CRUD and errors on
//! SQLite and PostgreSQL, a real TCP server, compile-fail cases of the
//! derive, and expansion snapshots.

mod crud;
mod edge_models;
mod errors;
mod expand;
mod list;
mod tcp;
mod ui;
