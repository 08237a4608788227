//! The blog's models.

use ferrobridge::auth::User;
use ferrobridge::prelude::*;

/// A person who writes posts. Anyone, logged in or not, reads authors
/// (`policy = "public_read"`); adding, changing and deleting them needs the
/// model permissions (`blog.add_author`, ...).
#[derive(Model, Clone, Debug, PartialEq)]
#[model(app = "blog", ordering = "name", display = "{name}")]
#[admin(list_display(id, name, email), search(name, email), inlines(Post))]
#[api(
    policy = "public_read",
    filter(name, email),
    search(name),
    ordering(name, id)
)]
pub struct Author {
    #[field(primary_key)]
    pub id: i64,
    /// The name shown under each post.
    #[field(max_length = 100, min_length = 1)]
    pub name: String,
    /// Where readers can write to the author.
    #[field(max_length = 254, unique, email)]
    pub email: Option<String>,
}

/// The kinds of post.
#[derive(Choices, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Article
    Article,
    /// Short note
    Note,
    /// Link to elsewhere
    #[choice(rename = "link")]
    Bookmark,
}

/// A blog post. Anyone logged in may read and write posts; only a post's
/// owner (or an editor with the `change_post`/`delete_post` permission)
/// may change or delete it, and only editors publish posts or set their
/// likes (`write_perm = "change"`), through the API and the admin alike.
#[derive(Model, Clone, Debug, PartialEq)]
#[model(app = "blog", ordering = "-created_at", display = "{title}")]
#[admin(
    list_display(id, title, author_id, kind, published, likes, created_at),
    list_filter(published, kind, author_id, created_at),
    search(title, body),
    autocomplete(author_id)
)]
#[api(
    owner = owner_id,
    filter(author_id, published, kind, likes, rating, created_at, title),
    search(title, body),
    ordering(created_at, title, likes, rating)
)]
pub struct Post {
    #[field(primary_key)]
    pub id: i64,
    /// The headline.
    #[field(max_length = 200, min_length = 1)]
    pub title: String,
    /// The post itself.
    #[field(text)]
    pub body: String,
    /// Who wrote it.
    #[field(references = Author, on_delete = "cascade")]
    pub author_id: i64,
    /// The account that created it (set by the server).
    #[field(references = User, on_delete = "cascade")]
    pub owner_id: i32,
    /// Shown to readers once true; set by editors (`blog.change_post`).
    #[field(default = false, write_perm = "change")]
    pub published: bool,
    /// What kind of writing this is.
    #[field(choices, default = Kind::Article)]
    pub kind: Kind,
    /// How many readers liked it; set by editors (`blog.change_post`).
    #[field(default = 0, min_value = 0, write_perm = "change")]
    pub likes: i32,
    /// An optional rating out of five.
    #[field(min_value = 0.0, max_value = 5.0)]
    pub rating: Option<f64>,
    /// When the post was created.
    #[field(auto_now_add)]
    pub created_at: DateTimeUtc,
    /// When the post was last changed.
    #[field(auto_now)]
    pub updated_at: DateTimeUtc,
}
