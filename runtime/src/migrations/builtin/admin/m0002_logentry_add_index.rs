//! Migration `0002_logentry_add_index` of app `admin`, written by `makemigrations`:
//!
//! - Add index django_admin_log_action_time_id_eeb78d26_idx on logentry
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0002_logentry_add_index").operation(AddIndex::new(
        "logentry",
        Index::new(
            "django_admin_log_action_time_id_eeb78d26_idx",
            ["-action_time", "id"],
        ),
    ))
}
