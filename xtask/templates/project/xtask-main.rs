//! `cargo xtask scaffold app|model ...` and `cargo xtask expand <Model>`:
//! ferrobridge's developer workflow, run from this project.

fn main() -> std::process::ExitCode {
    ferrobridge_xtask::project_main()
}
