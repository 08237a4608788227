//! Migration `0002_author_add_index_post_add_index` of app `blog`, written by `makemigrations`:
//!
//! - Add index blog_author_name_id_2d8d1ab8_idx on author
//! - Add index blog_post_created_at_id_90cdf5ac_idx on post
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0002_author_add_index_post_add_index")
        .operation(AddIndex::new(
            "author",
            Index::new("blog_author_name_id_2d8d1ab8_idx", ["name", "id"]),
        ))
        .operation(AddIndex::new(
            "post",
            Index::new(
                "blog_post_created_at_id_90cdf5ac_idx",
                ["-created_at", "id"],
            ),
        ))
}
