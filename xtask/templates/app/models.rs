//! The `{{app}}` app's models. `cargo xtask scaffold model {{app}} ...` appends here;
//! `#[model(app = "{{app}}")]` names their tables `{{app}}_<model>` and their permissions.
