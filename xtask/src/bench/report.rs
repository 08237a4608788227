//! The benchmark's reports: each run's Markdown and JSON kept under
//! `target/bench/` (`<UTC timestamp>-<kind>.{md,json}`, plus `report.{md,json}`
//! for the latest), and the README's published block between
//! [`BEGIN`] and [`END`].

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

/// The line that opens the README's generated block.
pub const BEGIN: &str = "<!-- bench:begin -->";
/// The line that closes it.
pub const END: &str = "<!-- bench:end -->";

/// The bar of issue 15: generated and runtime handlers reach this share of
/// hand-written axum + SeaORM.
pub const BAR: f64 = 0.95;

/// The memory goal: ferrobridge's peak RSS at most this share of uvicorn + Django's.
pub const MEMORY_GOAL: f64 = 0.2;

/// The depth goal: a page near the end costs at most this many first pages.
pub const DEPTH_GOAL: f64 = 1.5;

/// A run's timestamp as it names the report files: `20261130T150405Z`.
pub fn file_stamp(date: &chrono::DateTime<chrono::Utc>) -> String {
    date.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Writes `<stamp>-<kind>.md` and `.json` (kept) and `report.md` / `.json`
/// (the latest run of any kind) in `dir`; returns the kept Markdown's path.
pub fn write(
    dir: &Path,
    stamp: &str,
    kind: &str,
    report: &Value,
    markdown: &str,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(report)?;
    let kept = dir.join(format!("{stamp}-{kind}.md"));
    std::fs::write(&kept, markdown)?;
    std::fs::write(dir.join(format!("{stamp}-{kind}.json")), &json)?;
    std::fs::write(dir.join("report.md"), markdown)?;
    std::fs::write(dir.join("report.json"), &json)?;
    Ok(kept)
}

/// The newest kept report in `dir` whose kind is one of `kinds`: the file
/// names start with the UTC timestamp, so the greatest name is the newest.
pub fn latest(dir: &Path, kinds: &[&str]) -> Option<Value> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| {
            kinds.iter().any(|kind| {
                name.strip_suffix(".json")
                    .and_then(|n| n.strip_suffix(kind))
                    .is_some_and(|n| n.ends_with('-') && n.len() == "20261130T150405Z-".len())
            })
        })
        .collect();
    names.sort();
    let text = std::fs::read_to_string(dir.join(names.pop()?)).ok()?;
    serde_json::from_str(&text).ok()
}

/// `readme` with the text between the [`BEGIN`] and [`END`] lines replaced
/// by `block`; everything else is kept byte for byte. An error when the
/// markers are missing, repeated or out of order, so a damaged README is
/// never half rewritten.
pub fn replace_block(readme: &str, block: &str) -> anyhow::Result<String> {
    // Only a line holding nothing but a marker counts: prose may name them.
    let mut begins = Vec::new();
    let mut ends = Vec::new();
    let mut offset = 0;
    for line in readme.split_inclusive('\n') {
        match line.trim() {
            BEGIN => begins.push(offset + line.len()),
            END => ends.push(offset),
            _ => {}
        }
        offset += line.len();
    }
    let (&[start], &[stop]) = (begins.as_slice(), ends.as_slice()) else {
        bail!(
            "the README must hold a `{BEGIN}` line and a `{END}` line once each (found {} and {}); put them where the table goes",
            begins.len(),
            ends.len()
        );
    };
    if stop < start {
        bail!("`{END}` comes before `{BEGIN}` in the README");
    }
    let mut body = block.trim_matches('\n').to_string();
    body.push('\n');
    Ok(format!("{}{}{}", &readme[..start], body, &readme[stop..]))
}

/// Rewrites the README at `path` with [`replace_block`].
pub fn rewrite_readme(path: &Path, block: &str) -> anyhow::Result<()> {
    let readme =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let updated = replace_block(&readme, block)?;
    if updated != readme {
        std::fs::write(path, updated)?;
    }
    Ok(())
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// `12345.6` as `12,346`.
pub fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return "?".into();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 && digits != "0" {
        out.insert(0, '-');
    }
    out
}

fn mib(kib: &Value) -> String {
    kib.as_f64()
        .map(|k| format!("{:.1}", k / 1024.0))
        .unwrap_or_else(|| "?".into())
}

/// The result of variant `name` in a scenario.
fn result<'a>(scenario: &'a Value, name: &str) -> Option<&'a Value> {
    scenario["results"].get(name)
}

/// The scenario named `name` of an endpoints report.
fn scenario<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["scenarios"]
        .as_array()?
        .iter()
        .find(|s| s["scenario"] == name)
}

fn header(report: &Value) -> String {
    let m = &report["machine"];
    format!(
        "Machine: {} ({} cores, {}). Command: `{}`. Date: {}.\n",
        m["cpu"].as_str().unwrap_or("?"),
        m["cores"],
        m["os"].as_str().unwrap_or("?"),
        report["command"].as_str().unwrap_or("cargo xtask bench"),
        report["date"].as_str().unwrap_or("?"),
    )
}

/// The full Markdown report of an endpoints run.
pub fn endpoints_markdown(report: &Value) -> String {
    let s = &report["settings"];
    let mut out = format!(
        "# ferrobridge benchmark: `GET /permissions` and friends\n\n{}\
         Load: `wrk -t1 -c{}`, {} s warm-up, median of {} runs of {} s{}. Server {}.\n\
         Database of the Django-row scenarios: {}.\n",
        header(report),
        s["connections"],
        s["warmup_s"],
        s["repeats"],
        s["duration_s"],
        if s["quick"] == true {
            " (`--quick`: a smoke run, not a measurement)"
        } else {
            ""
        },
        if s["pinned"] == true {
            "pinned to CPU 0 and wrk to CPU 1 with taskset"
        } else {
            "and wrk not pinned (taskset or a second core missing)"
        },
        report["database"].as_str().unwrap_or("?"),
    );
    if let Some(peer) = report["peer"]["python"].as_str() {
        out += &format!("Python peer: {peer}.\n");
    }
    out.push('\n');
    for scenario in report["scenarios"].as_array().into_iter().flatten() {
        let bridge = result(scenario, "bridge-async").map(|r| f(&r["rps"]));
        out += &format!(
            "## {} — `{}` ({} rows, {})\n\n| variant | rq/s | p50 ms | p99 ms | peak RSS MiB | errors |{}\n|---|---:|---:|---:|---:|---:|{}\n",
            scenario["scenario"].as_str().unwrap_or("?"),
            scenario["request"].as_str().unwrap_or("?"),
            scenario["rows"],
            scenario["backend"].as_str().unwrap_or("?"),
            if bridge.is_some() {
                " × bridge async |"
            } else {
                ""
            },
            if bridge.is_some() { "---:|" } else { "" },
        );
        for (name, r) in scenario["results"].as_object().into_iter().flatten() {
            out += &format!(
                "| ({}) {} | {:.0} | {:.3} | {:.3} | {} | {} |{}\n",
                r["letter"].as_str().unwrap_or("?"),
                name,
                f(&r["rps"]),
                f(&r["p50_ms"]),
                f(&r["p99_ms"]),
                mib(&r["peak_rss_kib"]),
                r["errors"],
                bridge
                    .map(|b| format!(" {:.1} |", f(&r["rps"]) / b))
                    .unwrap_or_default(),
            );
        }
        let ratios: Vec<String> = scenario["ratios"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let v = f(v);
                let bar = if (k == "a/c" || k == "b/c") && v < BAR {
                    format!(" (below the {BAR} bar)")
                } else {
                    String::new()
                };
                format!("{k} = {v:.2}{bar}")
            })
            .collect();
        if !ratios.is_empty() {
            out += &format!("\nRatios of rq/s: {}\n", ratios.join(", "));
        }
        if let Some(note) = scenario["note"].as_str() {
            out += &format!("\n{note}\n");
        }
        out.push('\n');
    }
    out += &memory_line(report);
    out += &depth_line(report);
    out
}

fn memory_line(report: &Value) -> String {
    let memory = &report["memory"];
    let anon = match (
        memory["generated_anon_kib"].as_f64(),
        memory["python_anon_kib"].as_f64(),
    ) {
        (Some(ours), Some(theirs)) if theirs > 0.0 => format!(
            " Of it, anonymous memory (heaps and stacks, `RssAnon` after the load; the rest is the \
             program's mapped code, here one binary with all five servers in it): {} MiB against {} MiB, \
             ratio {:.2}.",
            mib(&memory["generated_anon_kib"]),
            mib(&memory["python_anon_kib"]),
            ours / theirs,
        ),
        _ => String::new(),
    };
    match memory["ratio"].as_f64() {
        Some(ratio) => format!(
            "Peak RSS under load, seed list: ferrobridge generated {} MiB, uvicorn + Django (process tree) {} MiB: ratio {:.2} (goal ≤ {MEMORY_GOAL}{}).{anon}\n\n",
            mib(&memory["generated_kib"]),
            mib(&memory["python_kib"]),
            ratio,
            if ratio <= MEMORY_GOAL {
                ", met"
            } else {
                ", missed"
            },
        ),
        None => String::new(),
    }
}

fn depth_line(report: &Value) -> String {
    match report["depth"]["last_over_first"].as_f64() {
        Some(ratio) => format!(
            "Cursor pages on {} rows: a page near the end costs {:.2}× the first (1/rq/s; goal ≤ {DEPTH_GOAL}{}).\n\n",
            thousands(f(&report["depth"]["rows"])),
            ratio,
            if ratio <= DEPTH_GOAL {
                ", met"
            } else {
                ", missed"
            },
        ),
        None => String::new(),
    }
}

/// What the seed table shows, in the order: the bridge first, then
/// the Rust variants.
const SEED_ORDER: [&str; 7] = [
    "bridge-async",
    "bridge-sync",
    "axum-seaorm",
    "sqlx",
    "generated",
    "runtime",
    "rusqlite",
];

/// Each variant's name in the published table.
pub fn label(name: &str) -> &str {
    match name {
        "bridge-async" => "django-fastapi-bridge async (uvicorn, 1 worker)",
        "bridge-sync" => "django-fastapi-bridge sync (uvicorn, 1 worker)",
        "axum-seaorm" => "axum + SeaORM, hand-written",
        "sqlx" => "axum + sqlx, hand-written",
        "generated" => "ferrobridge generated endpoint",
        "runtime" => "ferrobridge hand-written handler on its runtime",
        "rusqlite" => "the example's axum + rusqlite on the worker thread",
        other => other,
    }
}

/// The README's block: the seed table with its ratios and peak RSS, the
/// other scenarios, memory, depth and compile cost, from the newest
/// endpoints report and the newest compile report (either may be missing).
pub fn readme_block(endpoints: Option<&Value>, compile: Option<&Value>) -> String {
    let mut out = String::from(
        "<!-- Written by `cargo xtask bench --readme` (and every full run); edit the bench, not this block. -->\n\n",
    );
    if let Some(report) = endpoints {
        out += &header(report);
        if report["settings"]["quick"] == true {
            out += "This is a `--quick` smoke run, not a measurement.\n";
        }
        out.push('\n');
        if let Some(seed) = scenario(report, "list-24") {
            let bridge = result(seed, "bridge-async").map(|r| f(&r["rps"]));
            let handwritten = result(seed, "axum-seaorm").map(|r| f(&r["rps"]));
            out += "`GET /permissions`, Django's 24 rows:\n\n| target | rq/s | p50 ms | × bridge async | × axum + SeaORM | peak RSS MiB |\n|---|---:|---:|---:|---:|---:|\n";
            for name in SEED_ORDER {
                let Some(r) = result(seed, name) else {
                    continue;
                };
                let rps = f(&r["rps"]);
                let times = |base: Option<f64>| {
                    base.map(|b| format!("{:.2}", rps / b))
                        .unwrap_or_else(|| "–".into())
                };
                out += &format!(
                    "| {} | {} | {:.2} | {} | {} | {} |\n",
                    label(name),
                    thousands(rps),
                    f(&r["p50_ms"]),
                    times(bridge),
                    times(handwritten),
                    mib(&r["peak_rss_kib"]),
                );
            }
            out.push('\n');
        }
        let others: Vec<&Value> = report["scenarios"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["scenario"] != "list-24" && !s["depth"].as_bool().unwrap_or(false))
            .collect();
        if !others.is_empty() {
            out += "Other scenarios, rq/s (a/c: generated ÷ axum + SeaORM, goal ≥ 0.95):\n\n| scenario | generated | runtime | axum + SeaORM | sqlx | rusqlite | a/c |\n|---|---:|---:|---:|---:|---:|---:|\n";
            for s in others {
                let cell = |name: &str| {
                    result(s, name)
                        .map(|r| thousands(f(&r["rps"])))
                        .unwrap_or_else(|| "–".into())
                };
                out += &format!(
                    "| {} `{}` | {} | {} | {} | {} | {} | {} |\n",
                    s["scenario"].as_str().unwrap_or("?"),
                    s["request"].as_str().unwrap_or("?"),
                    cell("generated"),
                    cell("runtime"),
                    cell("axum-seaorm"),
                    cell("sqlx"),
                    cell("rusqlite"),
                    s["ratios"]["a/c"]
                        .as_f64()
                        .map(|v| format!("{v:.2}"))
                        .unwrap_or_else(|| "–".into()),
                );
            }
            out.push('\n');
        }
        out += &memory_line(report);
        let depth: Vec<&Value> = report["scenarios"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["depth"].as_bool().unwrap_or(false))
            .collect();
        if !depth.is_empty() {
            out += "Cursor pagination (generated endpoint):\n\n| request | rq/s | p50 ms | p99 ms |\n|---|---:|---:|---:|\n";
            for s in depth {
                if let Some(r) = result(s, "generated") {
                    out += &format!(
                        "| {} `{}` | {} | {:.2} | {:.2} |\n",
                        s["scenario"].as_str().unwrap_or("?"),
                        s["request"].as_str().unwrap_or("?"),
                        thousands(f(&r["rps"])),
                        f(&r["p50_ms"]),
                        f(&r["p99_ms"]),
                    );
                }
            }
            out.push('\n');
            out += &depth_line(report);
        }
    } else {
        out += "No endpoint run yet: `cargo xtask bench --peer python --readme`.\n\n";
    }
    if let Some(report) = compile {
        out += &compile_summary(report);
    }
    out.trim_end().to_string() + "\n"
}

/// The compile-cost paragraph of a compile report.
pub fn compile_summary(report: &Value) -> String {
    let c = &report["compile"];
    let mut out = format!(
        "Compile cost (`cargo xtask bench --compile`, {}): {} models, {} fields; ",
        report["date"].as_str().unwrap_or("?"),
        c["models"],
        c["fields"],
    );
    if let Some(cold) = c["clean_with_dependencies_s"].as_f64() {
        out += &format!("clean build with dependencies {cold:.1} s; ");
    }
    out += &format!(
        "clean build of the crate alone {:.1} s; incremental build after touching one model {:.1} s; \
         the derive expands to {} lines, {:.1} lines per field.\n",
        f(&c["clean_crate_s"]),
        f(&c["incremental_s"]),
        thousands(f(&c["expansion_lines"])),
        f(&c["lines_per_field"]),
    );
    out
}

/// The full Markdown report of a compile run.
pub fn compile_markdown(report: &Value) -> String {
    format!(
        "# ferrobridge benchmark: compile cost\n\n{}\n{}",
        header(report),
        compile_summary(report)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        let row = |letter: &str, rps: f64, rss: u64| json!({"letter": letter, "rps": rps, "p50_ms": 1.5, "p99_ms": 3.0, "peak_rss_kib": rss, "errors": 0});
        json!({
            "kind": "endpoints",
            "date": "2026-11-30T15:00:00Z",
            "command": "cargo xtask bench --peer python",
            "machine": {"cpu": "Test CPU", "cores": 2, "os": "linux"},
            "settings": {"quick": false, "warmup_s": 3, "duration_s": 8, "repeats": 3, "connections": 32, "pinned": true},
            "database": "Django's migrate",
            "scenarios": [
                {"scenario": "list-24", "request": "GET /permissions", "rows": 24, "backend": "sqlite",
                 "results": {"generated": row("a", 17336.0, 10240), "axum-seaorm": row("c", 21815.0, 9216),
                             "bridge-async": row("g", 1758.0, 51200)},
                 "ratios": {"a/c": 0.7947}},
                {"scenario": "retrieve", "request": "GET /permissions/9", "rows": 24, "backend": "sqlite",
                 "results": {"generated": row("a", 30000.0, 1), "axum-seaorm": row("c", 30000.0, 1)},
                 "ratios": {"a/c": 1.0}},
                {"scenario": "depth-first-page", "request": "GET /entries?cursor=", "rows": 1000000, "backend": "sqlite", "depth": true,
                 "results": {"generated": row("a", 5000.0, 1)}, "ratios": {}},
            ],
            "memory": {"generated_kib": 10240, "python_kib": 51200, "ratio": 0.2},
            "depth": {"rows": 1000000, "last_over_first": 1.1},
        })
    }

    #[test]
    fn replaces_only_the_block() {
        let readme = "# T\n\nthe `<!-- bench:begin -->` marker\n<!-- bench:begin -->\nold\ntable\n<!-- bench:end -->\nafter\n";
        let out = replace_block(readme, "new\n").unwrap();
        assert_eq!(
            out,
            "# T\n\nthe `<!-- bench:begin -->` marker\n<!-- bench:begin -->\nnew\n<!-- bench:end -->\nafter\n"
        );
        // Idempotent: rewriting with the same block changes nothing.
        assert_eq!(replace_block(&out, "new").unwrap(), out);
    }

    #[test]
    fn refuses_damaged_markers() {
        assert!(replace_block("no markers", "x").is_err());
        assert!(replace_block("<!-- bench:end -->\n<!-- bench:begin -->\n", "x").is_err());
        assert!(
            replace_block(
                "<!-- bench:begin -->\n<!-- bench:begin -->\n<!-- bench:end -->\n",
                "x"
            )
            .is_err()
        );
    }

    #[test]
    fn formats_thousands() {
        assert_eq!(thousands(1758.4), "1,758");
        assert_eq!(thousands(64708.0), "64,708");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(f64::NAN), "?");
    }

    #[test]
    fn readme_block_shows_ratios_memory_and_depth() {
        let block = readme_block(Some(&sample()), None);
        assert!(
            block.contains("Command: `cargo xtask bench --peer python`"),
            "{block}"
        );
        assert!(block.contains("Date: 2026-11-30T15:00:00Z"), "{block}");
        // 17,336 / 1,758 = 9.86; 17,336 / 21,815 = 0.79.
        assert!(
            block.contains(
                "| ferrobridge generated endpoint | 17,336 | 1.50 | 9.86 | 0.79 | 10.0 |"
            ),
            "{block}"
        );
        assert!(
            block.contains(
                "| django-fastapi-bridge async (uvicorn, 1 worker) | 1,758 | 1.50 | 1.00 |"
            ),
            "{block}"
        );
        // The bridge comes first, as in the table.
        assert!(block.find("bridge async (").unwrap() < block.find("generated endpoint").unwrap());
        assert!(
            block.contains("| retrieve `GET /permissions/9` | 30,000 | – | 30,000 |"),
            "{block}"
        );
        assert!(block.contains("ratio 0.20 (goal ≤ 0.2, met)"), "{block}");
        assert!(block.contains("costs 1.10× the first"), "{block}");
        assert!(block.contains("on 1,000,000 rows"), "{block}");
        assert!(
            !block.contains("depth-first-page `GET /entries?cursor=` | 5,000 | – "),
            "{block}"
        );
        assert!(
            block.contains("| depth-first-page `GET /entries?cursor=` | 5,000 | 1.50 | 3.00 |"),
            "{block}"
        );
    }

    #[test]
    fn endpoints_markdown_has_the_bridge_column_where_the_bridge_ran() {
        let md = endpoints_markdown(&sample());
        assert!(
            md.contains("| (a) generated | 17336 | 1.500 | 3.000 | 10.0 | 0 | 9.9 |"),
            "{md}"
        );
        assert!(md.contains("a/c = 0.79 (below the 0.95 bar)"), "{md}");
        // retrieve had no bridge: no column.
        let retrieve = &md[md.find("## retrieve").unwrap()..];
        assert!(
            retrieve.contains("| (a) generated | 30000 | 1.500 | 3.000 | 0.0 | 0 |\n"),
            "{md}"
        );
    }

    #[test]
    fn keeps_every_run_and_finds_the_latest() {
        let dir = std::env::temp_dir().join(format!("xtask-report-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = json!({"n": 1});
        let second = json!({"n": 2});
        write(&dir, "20261130T150000Z", "endpoints", &first, "one").unwrap();
        write(&dir, "20261130T160000Z", "endpoints", &second, "two").unwrap();
        write(
            &dir,
            "20261130T170000Z",
            "compile",
            &json!({"n": 3}),
            "three",
        )
        .unwrap();
        assert_eq!(latest(&dir, &["endpoints"]), Some(second));
        assert_eq!(latest(&dir, &["compile"]).unwrap()["n"], 3);
        assert_eq!(
            std::fs::read_to_string(dir.join("report.md")).unwrap(),
            "three"
        );
        assert!(dir.join("20261130T150000Z-endpoints.md").exists());
        assert_eq!(latest(&dir, &["quick"]), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn compile_summary_reads_the_numbers() {
        let report = json!({"date": "d", "compile": {"models": 50, "fields": 400, "clean_crate_s": 40.25,
            "incremental_s": 12.0, "expansion_lines": 123456, "lines_per_field": 308.6}});
        let text = compile_summary(&report);
        assert!(text.contains("50 models, 400 fields"), "{text}");
        assert!(
            text.contains("crate alone 40.2 s") || text.contains("crate alone 40.3 s"),
            "{text}"
        );
        assert!(
            text.contains("123,456 lines, 308.6 lines per field"),
            "{text}"
        );
        assert!(!text.contains("with dependencies"), "{text}");
    }
}
