//! Migration `0002_unique_links` of app `auth`, written by `makemigrations`:
//!
//! - Add index auth_group_permissions_group_id_permission_id_uniq on grouppermission
//! - Add index auth_user_groups_user_id_group_id_uniq on usergroup
//! - Add index auth_user_user_permissions_user_id_permission_id_uniq on userpermission
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0002_unique_links")
        .operation(AddIndex::new(
            "grouppermission",
            Index::new(
                "auth_group_permissions_group_id_permission_id_uniq",
                ["group_id", "permission_id"],
            )
            .unique(),
        ))
        .operation(AddIndex::new(
            "usergroup",
            Index::new(
                "auth_user_groups_user_id_group_id_uniq",
                ["user_id", "group_id"],
            )
            .unique(),
        ))
        .operation(AddIndex::new(
            "userpermission",
            Index::new(
                "auth_user_user_permissions_user_id_permission_id_uniq",
                ["user_id", "permission_id"],
            )
            .unique(),
        ))
}
