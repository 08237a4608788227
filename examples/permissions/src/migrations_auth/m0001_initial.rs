//! Migration `0001_initial` of app `auth`, written by `makemigrations`:
//!
//! - Create model permission
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0001_initial")
        .depends_on("contenttypes", "0001_initial")
        .operation(
            CreateModel::new("permission", "auth_permission")
                .field(Field::integer("id").primary_key().auto_increment())
                .field(Field::string("name").max_length(255))
                .field(
                    Field::integer("content_type_id")
                        .index()
                        .references("django_content_type", "id")
                        .on_delete(OnDelete::Cascade),
                )
                .field(Field::string("codename").max_length(100)),
        )
}
