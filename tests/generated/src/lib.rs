//! Models written by `ferrobridge-genmodels` when this crate is built
//! (`FERROBRIDGE_GEN_SEED`, `FERROBRIDGE_GEN_MODELS`, `FERROBRIDGE_GEN_OFF`
//! choose them), compiled as one crate with everything else; the test in
//! `tests/generated.rs` drives them. `cargo xtask genmodels` runs larger sets.

include!(concat!(env!("OUT_DIR"), "/models.rs"));

/// The configuration the models were generated from.
pub fn config() -> ferrobridge_genmodels::Config {
    let text = env!("FERROBRIDGE_GEN_CONFIG");
    let mut parts = text.splitn(3, ':');
    let mut next = || parts.next().unwrap_or_default();
    let seed = next().parse().expect("seed written by build.rs");
    let models = next().parse().expect("count written by build.rs");
    let features = ferrobridge_genmodels::Features::parse_off(next()).expect("written by build.rs");
    ferrobridge_genmodels::Config {
        seed,
        models,
        features,
    }
}

/// The description of the compiled models (the generator is deterministic).
pub fn description() -> ferrobridge_genmodels::Generated {
    ferrobridge_genmodels::generate(&config())
}

/// An app serving every generated model.
pub fn app() -> ferrobridge::App {
    register(ferrobridge::App::new("generated"))
}

/// The generated source, for reading what failed.
pub const SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/models.rs"));
