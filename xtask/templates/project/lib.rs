//! The {{name}} project: its apps, and the application they make together.

use ferrobridge::App;

/// Every app of the project, in order. `cargo xtask scaffold app <name>`
/// adds to this list; each app's `register` adds its models and routes.
pub const APPS: &[fn(App) -> App] = &[];

/// The application: every app registered. `main` runs it; tests serve its
/// router in process.
pub fn app() -> App {
    APPS.iter()
        .fold(App::new("{{name}}"), |app, register| register(app))
}
