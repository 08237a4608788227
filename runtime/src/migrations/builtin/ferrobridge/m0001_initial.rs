//! Migration `0001_initial` of app `ferrobridge`, written by `makemigrations`:
//!
//! - Create model token
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0001_initial")
        .depends_on("auth", "0001_initial")
        .operation(
            CreateModel::new("token", "ferrobridge_token")
                .field(Field::big_integer("id").primary_key().auto_increment())
                .field(Field::string("digest").max_length(64).unique())
                .field(
                    Field::integer("user_id")
                        .index()
                        .references("auth_user", "id")
                        .on_delete(OnDelete::Cascade),
                )
                .field(Field::date_time("created_at"))
                .field(Field::date_time("expires_at")),
        )
}
