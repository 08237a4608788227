//! Migration `0001_initial` of app `feed`, written by `makemigrations`:
//!
//! - Create model change
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0001_initial").operation(
        CreateModel::new("change", "ferrobridge_change")
            .field(Field::big_integer("id").primary_key().auto_increment())
            .field(Field::string("model").max_length(200).index())
            .field(Field::string("pk").max_length(255))
            .field(Field::string("action").max_length(10))
            .field(Field::text("data"))
            .field(Field::big_integer("owner_id").null())
            .field(Field::integer("user_id").null())
            .field(Field::date_time("created_at").index()),
    )
}
