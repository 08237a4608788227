//! Migration `0001_initial` of app `contenttypes`, written by `makemigrations`:
//!
//! - Create model contenttype
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0001_initial").operation(
        CreateModel::new("contenttype", "django_content_type")
            .field(Field::integer("id").primary_key().auto_increment())
            .field(Field::string("app_label").max_length(100))
            .field(Field::string("model").max_length(100)),
    )
}
