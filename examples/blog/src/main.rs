//! `cargo run -p blog -- serve`: the blog on SQLite at http://127.0.0.1:8000
//! (posts followed live at http://127.0.0.1:8000/live).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    blog::app().run().await
}
