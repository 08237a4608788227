//! `cargo xtask layout`: the permissions example's link order, made from
//! what its server runs.
//!
//! The release binary's server is started under callgrind as the benchmark
//! starts it (a new file it migrates and seeds, the same file again, a
//! 1,000-row one and, with `--peer python`, a copy of Django's `migrate`),
//! sent every request of the benchmark's scenarios, and stopped. Every
//! function of the binary that ran is written to
//! `examples/permissions/link-order.txt`, in the order the binary had
//! them, and the example's build script hands that file to the linker (see
//! `examples/permissions/build.rs`): the code a server runs ends up in one
//! place instead of spread over the whole binary, and the kernel maps (and
//! counts in its resident set) only that place.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::{CREATE_BODY, Launch, Server, free_port, have, http, python, remove_sqlite};

/// The file the example's build script links with.
pub fn order_file() -> PathBuf {
    super::workspace_root().join("examples/permissions/link-order.txt")
}

/// Makes [`order_file`] from callgrind runs of the release binary; with
/// `peer_python`, one of them on Django's own database.
pub fn run(peer_python: bool) -> anyhow::Result<()> {
    for tool in ["valgrind", "nm", "wrk"] {
        if !have(tool) {
            bail!(
                "`{tool}` is required (Debian packages valgrind, binutils and wrk); install it and run again"
            );
        }
    }
    let binary = super::build_release("permissions")?;
    let dir = super::target_dir().join("bench/layout");
    std::fs::create_dir_all(&dir)?;

    let seeded = dir.join("seeded.sqlite3");
    remove_sqlite(&seeded);
    let mut runs = vec![
        ("a new file", seeded.clone(), 24),
        ("the same file again", seeded, 24),
        ("1,000 rows", dir.join("rows-1000.sqlite3"), 1000),
    ];
    remove_sqlite(&runs[2].1);
    if peer_python {
        let peer = python::Peer::prepare(&super::target_dir().join("bench"))?;
        let django = dir.join("django.sqlite3");
        remove_sqlite(&django);
        eprintln!("==> Django's migrate -> {}", django.display());
        peer.make_database(&django)?;
        runs.push(("Django's migrate", django, 24));
    }

    let symbols = text_symbols(&binary)?;
    let mut ran = HashSet::new();
    for (index, (label, file, rows)) in runs.iter().enumerate() {
        eprintln!("==> under callgrind: serve on {label}");
        let out = dir.join(format!("callgrind.{index}.out"));
        let _ = std::fs::remove_file(&out);
        profile(&binary, file, *rows, &out)?;
        let functions = ran_in(&out, &binary)?;
        eprintln!("    {} functions of the binary ran", functions.len());
        ran.extend(functions);
    }

    // In the binary's own order: what ran beside each other stays together.
    let mut ordered: Vec<(u64, &str)> = ran
        .iter()
        .filter_map(|name| symbols.get(name).map(|&address| (address, name.as_str())))
        .collect();
    ordered.sort_unstable();
    let rustc = Command::new("rustc").arg("-V").output()?;
    let mut text = format!(
        "# The functions the permissions server runs, first in its release binary's code\n\
         # (see examples/permissions/build.rs). Made by `cargo xtask layout` with {}\
         # from callgrind runs of `permissions serve --variant generated` on {} databases.\n\
         # Symbols a later build does not have are skipped: regenerate after changing\n\
         # dependencies or the toolchain.\n",
        String::from_utf8_lossy(&rustc.stdout),
        runs.len(),
    );
    for (_, name) in &ordered {
        text.push_str(name);
        text.push('\n');
    }
    std::fs::write(order_file(), text)?;
    eprintln!(
        "==> {} functions -> {}; `cargo build --release -p permissions` links with it",
        ordered.len(),
        order_file().display()
    );
    Ok(())
}

/// Serves the generated variant of `binary` on `file` (seeding `rows`
/// into an empty one) under callgrind, sends it every scenario's request,
/// and stops it; callgrind writes `out`.
fn profile(binary: &Path, file: &Path, rows: usize, out: &Path) -> anyhow::Result<()> {
    let port = free_port()?;
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let mut args = vec![
        "--quiet".to_string(),
        "--tool=callgrind".to_string(),
        "--demangle=no".to_string(),
        format!("--callgrind-out-file={}", out.display()),
        binary.display().to_string(),
    ];
    let bind = format!("127.0.0.1:{port}");
    let rows = rows.to_string();
    let serve = [
        "serve",
        "--bind",
        &bind,
        "--variant",
        "generated",
        "--rows",
        &rows,
    ];
    args.extend(serve.map(String::from));
    let launch = Launch {
        label: "permissions under callgrind".into(),
        program: "valgrind".into(),
        args,
        env: vec![
            ("DATABASE_URL".into(), url),
            ("RUST_LOG".into(), "warn".into()),
        ],
        cwd: None,
    };
    let mut server = Server::start(launch, port, false)?;
    // The scenarios' requests, and the answers a client's mistakes get.
    let requests = [
        ("GET", "/permissions", None),
        ("GET", "/permissions?page_size=100", None),
        ("GET", "/permissions?page_size=100&page=2", None),
        ("GET", "/permissions/9", None),
        ("GET", "/permissions/1000000", None),
        ("GET", "/permissions?page_size=oops", None),
        ("POST", "/permissions", Some(r#"{"name":5}"#)),
        ("GET", "/healthz", None),
    ];
    for round in 0..20 {
        for (method, path, body) in requests {
            http(port, method, path, body)?;
        }
        // Creates with a new codename each time, as wrk's repeated body
        // does only once.
        let body = CREATE_BODY.replace("fly_permission", &format!("fly_{round}"));
        http(port, "POST", "/permissions", Some(&body))?;
    }
    // Kept-alive connections, as the benchmark's load generator holds them.
    for path in ["/permissions", "/permissions/9"] {
        let status = Command::new("wrk")
            .args(["-t1", "-c4", "-d1s"])
            .arg(format!("http://127.0.0.1:{port}{path}"))
            .output()?;
        if !status.status.success() {
            bail!("wrk failed on {path}");
        }
    }
    // SIGINT: the server shuts down gracefully and callgrind writes its file.
    let pid = server.child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status()?;
    let started = Instant::now();
    while server.child.try_wait()?.is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the server under callgrind did not stop within 60 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !out.is_file() {
        bail!("callgrind wrote no {}", out.display());
    }
    Ok(())
}

/// The code symbols of `binary` (functions, local or not), by name, with
/// their addresses.
fn text_symbols(binary: &Path) -> anyhow::Result<HashMap<String, u64>> {
    let output = Command::new("nm")
        .args(["--defined-only"])
        .arg(binary)
        .output()
        .context("cannot run nm")?;
    if !output.status.success() {
        bail!("nm failed on {}", binary.display());
    }
    let mut symbols = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let mut parts = line.split_whitespace();
        let (Some(address), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if matches!(kind, "t" | "T" | "w" | "W")
            && let Ok(address) = u64::from_str_radix(address, 16)
        {
            symbols.entry(name.to_string()).or_insert(address);
        }
    }
    Ok(symbols)
}

/// The functions of `binary` that ran, by their mangled names, read from
/// the callgrind file `out`: each `fn=` whose own cost (not a call's) is
/// listed while its object (`ob=`) is the binary.
fn ran_in(out: &Path, binary: &Path) -> anyhow::Result<HashSet<String>> {
    let text = std::fs::read_to_string(out)?;
    let binary_name = binary
        .file_name()
        .context("the binary has a file name")?
        .to_string_lossy()
        .into_owned();
    // Callgrind names each object and function in full once, then by `(id)`.
    let mut objects: BTreeMap<String, String> = BTreeMap::new();
    let mut functions: BTreeMap<String, String> = BTreeMap::new();
    let resolve = |spec: &str, table: &mut BTreeMap<String, String>| -> Option<String> {
        let spec = spec.trim();
        match spec.strip_prefix('(').and_then(|s| s.split_once(')')) {
            Some((id, rest)) => {
                let rest = rest.trim();
                if !rest.is_empty() {
                    table.insert(id.to_string(), rest.to_string());
                }
                table.get(id).cloned()
            }
            None => Some(spec.to_string()),
        }
    };
    let mut object = None::<String>;
    let mut function = None::<String>;
    let mut after_calls = false;
    let mut ran = HashSet::new();
    for line in text.lines() {
        if let Some(spec) = line.strip_prefix("ob=") {
            object = resolve(spec, &mut objects);
        } else if let Some(spec) = line.strip_prefix("fn=") {
            function = resolve(spec, &mut functions);
            after_calls = false;
        } else if let Some(spec) = line.strip_prefix("cfn=") {
            resolve(spec, &mut functions);
        } else if let Some(spec) = line.strip_prefix("cob=") {
            resolve(spec, &mut objects);
        } else if line.starts_with("calls=") {
            after_calls = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || "+-*".contains(c)) {
            // The line after `calls=` is the call's cost, not the caller's own.
            if !after_calls
                && let (Some(o), Some(f)) = (&object, &function)
                && Path::new(o).file_name().is_some_and(|n| *n == *binary_name)
            {
                ran.insert(f.clone());
            }
            after_calls = false;
        }
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_functions_that_ran_from_callgrind_output() {
        let dir = std::env::temp_dir().join(format!("layout-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("callgrind.out");
        // Compressed names, a call (whose cost line is the callee's), and
        // a function of another object.
        std::fs::write(
            &out,
            "events: Ir\n\
             ob=(1) /x/target/release/permissions\n\
             fn=(1) _ZN4main17h0E\n\
             0x10 3\n\
             cfn=(2) _ZN6callee17h1E\n\
             calls=1 0x20\n\
             0x11 40\n\
             fn=(3) _ZN10only_calls17h2E\n\
             cfn=(2)\n\
             calls=1 0x20\n\
             0x30 7\n\
             fn=(2)\n\
             0x20 5\n\
             ob=(2) /lib/libc.so.6\n\
             fn=(4) memcpy\n\
             0x40 9\n\
             ob=(1)\n\
             fn=(5) _ZN5later17h3E\n\
             +2 1\n",
        )
        .unwrap();
        let ran = ran_in(&out, Path::new("/y/permissions")).unwrap();
        let mut ran: Vec<_> = ran.into_iter().collect();
        ran.sort();
        assert_eq!(ran, ["_ZN4main17h0E", "_ZN5later17h3E", "_ZN6callee17h1E"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
