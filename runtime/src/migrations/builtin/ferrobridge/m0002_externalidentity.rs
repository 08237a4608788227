//! Migration `0002_externalidentity` of app `ferrobridge`, written by `makemigrations`:
//!
//! - Create model externalidentity
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0002_externalidentity")
        .depends_on("auth", "0001_initial")
        .operation(
            CreateModel::new("externalidentity", "ferrobridge_external_identity")
                .field(Field::big_integer("id").primary_key().auto_increment())
                .field(Field::string("key").max_length(64).unique())
                .field(Field::string("issuer").max_length(255))
                .field(Field::string("subject").max_length(255))
                .field(
                    Field::integer("user_id")
                        .index()
                        .references("auth_user", "id")
                        .on_delete(OnDelete::Cascade),
                )
                .field(Field::date_time("created_at")),
        )
}
