//! Writes the generated models into `OUT_DIR/models.rs` (see
//! `ferrobridge-genmodels`), from `FERROBRIDGE_GEN_SEED`,
//! `FERROBRIDGE_GEN_MODELS` and `FERROBRIDGE_GEN_OFF` or the defaults.

fn main() {
    for var in [
        "FERROBRIDGE_GEN_SEED",
        "FERROBRIDGE_GEN_MODELS",
        "FERROBRIDGE_GEN_OFF",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let config = ferrobridge_genmodels::Config::from_env().unwrap_or_else(|e| panic!("{e}"));
    let source = ferrobridge_genmodels::generate(&config).source();
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("models.rs"), source).expect("write models.rs");
    // The test rebuilds the description from the same config.
    println!(
        "cargo:rustc-env=FERROBRIDGE_GEN_CONFIG={}:{}:{}",
        config.seed,
        config.models,
        config.features.off_names()
    );
}
