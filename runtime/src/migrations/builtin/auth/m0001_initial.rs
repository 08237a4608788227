//! Migration `0001_initial` of app `auth`, written by `makemigrations`:
//!
//! - Create model group
//! - Create model permission
//! - Create model grouppermission
//! - Create model user
//! - Create model usergroup
//! - Create model userpermission
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0001_initial")
        .depends_on("contenttypes", "0001_initial")
        .operation(
            CreateModel::new("group", "auth_group")
                .field(Field::integer("id").primary_key().auto_increment())
                .field(Field::string("name").max_length(150).unique()),
        )
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
        .operation(
            CreateModel::new("grouppermission", "auth_group_permissions")
                .field(Field::integer("id").primary_key().auto_increment())
                .field(
                    Field::integer("group_id")
                        .index()
                        .references("auth_group", "id")
                        .on_delete(OnDelete::Cascade),
                )
                .field(
                    Field::integer("permission_id")
                        .index()
                        .references("auth_permission", "id")
                        .on_delete(OnDelete::Cascade),
                ),
        )
        .operation(
            CreateModel::new("user", "auth_user")
                .field(Field::integer("id").primary_key().auto_increment())
                .field(Field::string("password").max_length(128))
                .field(Field::date_time("last_login").null())
                .field(Field::boolean("is_superuser").default(false))
                .field(Field::string("username").max_length(150).unique())
                .field(Field::string("first_name").max_length(150).default(""))
                .field(Field::string("last_name").max_length(150).default(""))
                .field(Field::string("email").max_length(254).default(""))
                .field(Field::boolean("is_staff").default(false))
                .field(Field::boolean("is_active").default(true))
                .field(Field::date_time("date_joined")),
        )
        .operation(
            CreateModel::new("usergroup", "auth_user_groups")
                .field(Field::integer("id").primary_key().auto_increment())
                .field(
                    Field::integer("user_id")
                        .index()
                        .references("auth_user", "id")
                        .on_delete(OnDelete::Cascade),
                )
                .field(
                    Field::integer("group_id")
                        .index()
                        .references("auth_group", "id")
                        .on_delete(OnDelete::Cascade),
                ),
        )
        .operation(
            CreateModel::new("userpermission", "auth_user_user_permissions")
                .field(Field::integer("id").primary_key().auto_increment())
                .field(
                    Field::integer("user_id")
                        .index()
                        .references("auth_user", "id")
                        .on_delete(OnDelete::Cascade),
                )
                .field(
                    Field::integer("permission_id")
                        .index()
                        .references("auth_permission", "id")
                        .on_delete(OnDelete::Cascade),
                ),
        )
}
