//! Migration `0003_loginfailure_trustedlogin` of app `ferrobridge`, written by `makemigrations`:
//!
//! - Create model loginfailure
//! - Create model trustedlogin
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0003_loginfailure_trustedlogin")
        .operation(
            CreateModel::new("loginfailure", "ferrobridge_login_failure")
                .field(Field::string("key").max_length(64).primary_key())
                .field(Field::integer("failures"))
                .field(Field::date_time("window_start").index()),
        )
        .operation(
            CreateModel::new("trustedlogin", "ferrobridge_trusted_login")
                .field(Field::string("key").max_length(64).primary_key())
                .field(Field::date_time("logged_in_at").index()),
        )
}
