//! The runtime's layers (README "Layout"), read from its sources: every
//! `crate::x` a top-level module names must be below it, except the few
//! same-row uses the README lists, and `api` and `admin` never name each
//! other. `../shared/tools/module_cycles.py` finds cycles; this finds any
//! upward edge, cycle or not, and places every new module in a layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first, as the README draws them.
const LAYERS: &[&[&str]] = &[
    &["error", "security", "server", "password"],
    &["model", "schema", "names", "rejection"],
    &["state", "db", "middleware"],
    &["query", "write", "changes"],
    &["auth"],
    &["api", "admin", "feed"],
    &["openapi", "docs"],
    &["migrations"],
    &["app", "cli", "prelude", "fallback"],
];

/// Uses inside one row, in the one direction the README allows.
const SAME_ROW: &[(&str, &str)] = &[
    ("schema", "model"),
    ("names", "model"),
    ("state", "db"),
    ("write", "query"),
    ("write", "changes"),
    ("openapi", "docs"),
    ("cli", "app"),
    ("prelude", "app"),
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|row| row.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules each top-level module names as `crate::x` or in
/// `crate::{x, y}`, tests left out (they may reach anywhere).
fn edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_string_lossy().trim_end_matches(".rs").to_string();
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let named = edges.entry(module.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|part| part.trim().split("::").next().unwrap_or_default())
                    .collect(),
                None => vec![
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or_default(),
                ],
            };
            for name in names {
                if !name.is_empty() && name != module && name != "__private" {
                    named.insert(name.to_string());
                }
            }
        }
    }
    edges
}

#[test]
fn every_module_imports_only_what_is_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/src");
    let edges = edges(&src);
    let mut problems = Vec::new();
    for (module, names) in &edges {
        let Some(own) = rank(module) else {
            problems.push(format!(
                "`{module}` is in no layer: add it to LAYERS and the README"
            ));
            continue;
        };
        for name in names {
            // Crate-root items (`crate::App`, `crate::Model`) are re-exports.
            let Some(theirs) = rank(name) else {
                continue;
            };
            let allowed = theirs < own
                || (theirs == own && SAME_ROW.contains(&(module.as_str(), name.as_str())));
            if !allowed {
                problems.push(format!(
                    "`{module}` imports `{name}`, which is not below it"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The two faces share the layers under them and nothing else.
    assert!(!edges["api"].contains("admin") && !edges["admin"].contains("api"));
    for face in ["api", "admin"] {
        assert!(!edges["feed"].contains(face) && !edges[face].contains("feed"));
    }
}
