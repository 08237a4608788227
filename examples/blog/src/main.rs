//! `cargo run -p blog -- serve`: the blog on SQLite at http://127.0.0.1:8000
//! (posts followed live at http://127.0.0.1:8000/live).
//!
//! `BLOG_MAX_CONNECTIONS=N` serves up to N connections at once instead of
//! the runtime's default 512: each open change stream
//! (`GET /api/posts/events`) holds one, and `cargo xtask bench --soak` opens
//! thousands.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut app = blog::app();
    if let Ok(value) = std::env::var("BLOG_MAX_CONNECTIONS") {
        let connections: usize = value.trim().parse().with_context(|| {
            format!("BLOG_MAX_CONNECTIONS must be a whole number of connections, not {value:?}")
        })?;
        app = app.max_connections(connections);
    }
    app.run().await
}
