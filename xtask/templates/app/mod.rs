//! The `{{app}}` app: its models, registered on the application.

pub mod models;

use ferrobridge::App;

/// Registers this app's models and routes on `app`; `src/lib.rs` lists it
/// in `APPS`. `cargo xtask scaffold model {{app}} ...` adds a `.model::<...>()` here.
pub fn register(app: App) -> App {
    app
}
