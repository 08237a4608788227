//! Migration `0001_initial` of app `depth`, written by `makemigrations`:
//!
//! - Create model entry
//! - Add index depth_entry_created_at_id_a0168dd2_idx on entry
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0001_initial")
        .operation(
            CreateModel::new("entry", "depth_entry")
                .field(Field::big_integer("id").primary_key().auto_increment())
                .field(Field::string("title").max_length(200))
                .field(Field::date_time("created_at")),
        )
        .operation(AddIndex::new(
            "entry",
            Index::new(
                "depth_entry_created_at_id_a0168dd2_idx",
                ["-created_at", "id"],
            ),
        ))
}
