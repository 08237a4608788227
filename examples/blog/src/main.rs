//! `cargo run -p blog -- serve`: the blog on SQLite at http://127.0.0.1:8000.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    blog::app().run().await
}
