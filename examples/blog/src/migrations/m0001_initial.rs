//! Migration `0001_initial` of app `blog`, written by `makemigrations`:
//!
//! - Create model author
//! - Create model post
//!
//! `migrate` applies it, and unapplies it by reversing each operation.

use ferrobridge::migrations::prelude::*;

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0001_initial")
        .depends_on("auth", "0001_initial")
        .operation(
            CreateModel::new("author", "blog_author")
                .field(Field::big_integer("id").primary_key().auto_increment())
                .field(Field::string("name").max_length(100))
                .field(Field::string("email").max_length(254).null().unique()),
        )
        .operation(
            CreateModel::new("post", "blog_post")
                .field(Field::big_integer("id").primary_key().auto_increment())
                .field(Field::string("title").max_length(200))
                .field(Field::text("body"))
                .field(
                    Field::big_integer("author_id")
                        .index()
                        .references("blog_author", "id")
                        .on_delete(OnDelete::Cascade),
                )
                .field(
                    Field::integer("owner_id")
                        .index()
                        .references("auth_user", "id")
                        .on_delete(OnDelete::Cascade),
                )
                .field(Field::boolean("published").default(false))
                .field(Field::string("kind").default("article"))
                .field(Field::integer("likes").default(0))
                .field(Field::double("rating").null())
                .field(Field::date_time("created_at"))
                .field(Field::date_time("updated_at")),
        )
}
