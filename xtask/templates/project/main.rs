//! `cargo run -- serve` serves the project on http://127.0.0.1:8000, on a
//! SQLite file created next to it (`DATABASE_URL` chooses another database).
//! `cargo run -- --help` lists the management commands.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    {{crate}}::app().run().await
}
