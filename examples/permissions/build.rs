//! Links the release binary with the functions its server runs placed
//! first, in the order `link-order.txt` lists them (made by
//! `cargo xtask layout`; see the README's "Where the time went").
//!
//! The kernel maps a program's code 64 KiB around each page it runs
//! ("fault-around"), so a server whose few thousand running functions are
//! spread over 15 MB of code keeps most of that code resident. Placed
//! together they take under a third of it. Symbols the file names that a build
//! no longer has are skipped, so a stale file costs memory, never a build.

fn main() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    // Rust links x86_64 Linux binaries with its own lld, which reads the
    // file; other linkers may not know the flag.
    let lld_target = std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu");
    let order = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("link-order.txt");
    if release && lld_target && order.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
