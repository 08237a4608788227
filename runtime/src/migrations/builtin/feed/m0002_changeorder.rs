//! Migration `0002_changeorder` of app `feed`, written by `makemigrations`:
//!
//! - Create model changeorder
//!
//! `migrate` applies it, and unapplies it by reversing each operation.
//! Marked initial by hand: a database made from the models
//! (`create_tables`) has the table, and gets the migration faked.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0002_changeorder").initial().operation(
        CreateModel::new("changeorder", "ferrobridge_change_order")
            .field(Field::integer("id").primary_key().auto_increment()),
    )
}
