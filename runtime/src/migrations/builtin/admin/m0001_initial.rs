//! Migration `0001_initial` of app `admin`, written by `makemigrations`:
//!
//! - Create model logentry
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0001_initial")
        .depends_on("auth", "0001_initial")
        .depends_on("contenttypes", "0001_initial")
        .operation(
            CreateModel::new("logentry", "django_admin_log")
                .field(Field::integer("id").primary_key().auto_increment())
                .field(Field::date_time("action_time"))
                .field(
                    Field::integer("user_id")
                        .index()
                        .references("auth_user", "id")
                        .on_delete(OnDelete::Cascade),
                )
                .field(
                    Field::integer("content_type_id")
                        .null()
                        .index()
                        .references("django_content_type", "id")
                        .on_delete(OnDelete::SetNull),
                )
                .field(Field::text("object_id").null())
                .field(Field::string("object_repr").max_length(200))
                .field(Field::small_integer("action_flag"))
                .field(Field::text("change_message")),
        )
}
