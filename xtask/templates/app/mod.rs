//! The `{{app}}` app: its models and their migrations, registered on the application.

pub mod migrations;
pub mod models;

use ferrobridge::App;

/// Registers this app's migrations, models and routes on `app`; `src/lib.rs`
/// lists it in `APPS`. `cargo xtask scaffold model {{app}} ...` adds a
/// `.model::<...>()` here, and `cargo run -- makemigrations {{app}}` writes
/// into `src/{{app}}/migrations/`, the directory `migrations::all()` names.
pub fn register(app: App) -> App {
    app.migrations(migrations::all())
}
