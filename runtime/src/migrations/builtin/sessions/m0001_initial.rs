//! Migration `0001_initial` of app `sessions`, written by `makemigrations`:
//!
//! - Create model session
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0001_initial").operation(
        CreateModel::new("session", "django_session")
            .field(Field::string("session_key").max_length(40).primary_key())
            .field(Field::text("session_data"))
            .field(Field::date_time("expire_date").index()),
    )
}
