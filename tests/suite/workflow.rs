//! The developer workflow: `cargo xtask new` into a temporary directory,
//! `scaffold` run by the new project's own `cargo xtask`, that project's
//! tests and server, `expand`, and the validation of scaffold's arguments.
//!
//! The generated project's child cargo builds in this build's own target
//! directory (`target/`, or `CARGO_TARGET_DIR`): its Cargo.lock and
//! `[profile.dev]` are this workspace's, so the dependencies compiled for
//! these tests are reused and only what differs is built. Cargo releases
//! the directory's lock while tests run, so the nested cargo can take it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use ferrobridge_xtask::expand::{Engine, expand};
use ferrobridge_xtask::fields::{FLAGS, FieldSpec, TYPES, VALUED};
use ferrobridge_xtask::new::{NewProject, new_project};
use ferrobridge_xtask::scaffold::{Project, scaffold_app, scaffold_model};
use ferrobridge_xtask::{DevTask, ScaffoldTask};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repository")
        .to_path_buf()
}

/// A fresh, unique directory under the system temp dir, and a package
/// name unique enough that concurrent runs never share one.
fn scratch(label: &str) -> (PathBuf, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!("{label}_{}_{}", std::process::id(), nanos % 1_000_000);
    let dir = std::env::temp_dir().join(format!("fb-{name}"));
    (dir.join(&name), name)
}

/// A project made by `new`, without building it.
fn unbuilt_project(label: &str) -> (PathBuf, String) {
    let (path, name) = scratch(label);
    new_project(&NewProject {
        path: path.clone(),
        name: Some(name.clone()),
        ferrobridge: None,
        app: "shop".into(),
        makemigrations: false,
    })
    .expect("xtask new");
    (path, name)
}

/// The target directory of this build: the parent of `target/tmp`.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory")
        .to_path_buf()
}

/// `cargo <args>` in `dir`, offline, building in [`target_dir`].
fn cargo(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "cargo {} failed in {}:\n{}\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The migration files of `app` (`m0001_initial.rs`...), in order.
fn migration_files(project: &Path, app: &str) -> Vec<String> {
    let dir = project.join("src").join(app).join("migrations");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|file| {
            file.ends_with(".rs")
                && file.starts_with('m')
                && file[1..].starts_with(|c: char| c.is_ascii_digit())
        })
        .collect();
    files.sort();
    files
}

/// Runs `cargo <args>` (a `scaffold model` of `app`) and checks that it
/// wrote one new migration of `app`, listed in the app's `migrations/mod.rs`;
/// answers the migration's name (`0002_review`).
fn scaffold_writes_a_migration(project: &Path, app: &str, args: &[&str]) -> String {
    let before = migration_files(project, app);
    cargo(project, args);
    let after = migration_files(project, app);
    let new: Vec<&String> = after.iter().filter(|f| !before.contains(f)).collect();
    assert_eq!(
        new.len(),
        1,
        "{args:?} should write one migration of `{app}`: before {before:?}, after {after:?}"
    );
    let name = new[0].trim_start_matches('m').trim_end_matches(".rs");
    let module = std::fs::read_to_string(project.join("src").join(app).join("migrations/mod.rs"))
        .expect("the app's migrations/mod.rs");
    assert!(
        module.contains(&format!("m{name}::migration()")),
        "{module}"
    );
    assert!(
        module.contains(&format!("\"src/{app}/migrations\"")),
        "{module}"
    );
    name.to_string()
}

#[test]
fn new_project_with_scaffolded_models_builds_serves_and_passes_its_tests() {
    let (project, name) = unbuilt_project("wf");
    // Several field types, then a foreign key to that model, through the
    // project's own `cargo xtask`, which runs its `makemigrations`: the
    // first writes `shop`'s initial migration (the example Note, made
    // without migrations by `unbuilt_project`, and Product), the next one more.
    let mut migrations = vec![(
        "shop",
        scaffold_writes_a_migration(
            &project,
            "shop",
            &[
                "xtask",
                "scaffold",
                "model",
                "shop",
                "Product",
                "name:String:max_length=100:min_length=1:unique",
                "description:text:null",
                "price:Decimal:max_digits=10:decimal_places=2",
                "stock:i32:default=0:min_value=0",
                "rating:f64:min_value=0:max_value=5:null",
                "available:bool:default=true",
                "released:NaiveDate:null",
                "sku:Uuid:unique",
                "attributes:Json:null",
                "contact:String:max_length=254:email:null",
                "updated_at:DateTimeUtc:auto_now",
            ],
        ),
    )];
    assert_eq!(migrations[0].1, "0001_initial");
    migrations.push((
        "shop",
        scaffold_writes_a_migration(
            &project,
            "shop",
            &[
                "xtask",
                "scaffold",
                "model",
                "shop",
                "Review",
                "product_id:i64:references=Product:on_delete=cascade",
                "stars:i16:min_value=1:max_value=5",
                "comment:String:max_length=500:index",
            ],
        ),
    ));
    cargo(&project, &["xtask", "scaffold", "app", "billing"]);
    assert!(migration_files(&project, "billing").is_empty());
    migrations.push((
        "billing",
        scaffold_writes_a_migration(
            &project,
            "billing",
            &[
                "xtask",
                "scaffold",
                "model",
                "billing",
                "Invoice",
                "product_id:i64:references=Product",
                "total:f64",
            ],
        ),
    ));
    let invoice = std::fs::read_to_string(project.join("src/billing/migrations/m0001_initial.rs"))
        .expect("billing's initial migration");
    assert!(
        invoice.contains(&format!(".depends_on(\"shop\", {:?})", migrations[1].1)),
        "{invoice}"
    );
    let models = std::fs::read_to_string(project.join("src/shop/models.rs")).unwrap();
    assert!(models.contains("#[field(references = Product, on_delete = \"cascade\")]"));
    assert!(models.contains("pub attributes: Option<serde_json::Value>,"));
    let billing = std::fs::read_to_string(project.join("src/billing/models.rs")).unwrap();
    assert!(
        billing.contains("use crate::shop::models::Product;"),
        "{billing}"
    );

    let output = cargo(&project, &["test"]);
    let report = String::from_utf8_lossy(&output.stdout);
    for test in ["note_crud", "product_crud", "review_crud", "invoice_crud"] {
        assert!(
            report.contains(&format!("test {test} ... ok")),
            "{test} did not pass:\n{report}"
        );
    }
    cargo(&project, &["fmt", "--check"]);

    let expanded = cargo(&project, &["xtask", "expand", "shop::Review", "--codegen"]);
    let expanded = String::from_utf8_lossy(&expanded.stdout);
    assert!(expanded.contains("pub mod review {"), "{expanded}");
    assert!(expanded.contains("pub struct ReviewCreate {"), "{expanded}");

    // `serve` migrates the new SQLite file; then every migration shows as
    // applied and `check` finds nothing to report.
    serves_on_sqlite(&project, &name);
    let shown = cargo(&project, &["run", "--quiet", "--", "showmigrations"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    for (app, migration) in &migrations {
        assert!(shown.contains(&format!("{app}\n")), "{shown}");
        assert!(shown.contains(&format!(" [X] {migration}\n")), "{shown}");
    }
    cargo(&project, &["run", "--quiet", "--", "check"]);

    let mut outputs = vec![
        name.clone(),
        format!("{name}-xtask"),
        format!("{name}_xtask"),
    ];
    for test in std::fs::read_dir(project.join("tests"))
        .expect("tests/")
        .flatten()
    {
        let path = test.path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(stem) = path.file_stem()
        {
            outputs.push(stem.to_string_lossy().into_owned());
        }
    }
    let _ = std::fs::remove_dir_all(project.parent().expect("scratch dir"));
    forget_artifacts(&outputs);
}

/// Removes this run's own build outputs (the crates and test targets
/// `names`, each unique to the run's project) from the target directory,
/// keeping the dependencies: the project is new each run, so they would
/// otherwise pile up.
fn forget_artifacts(names: &[String]) {
    let debug = target_dir().join("debug");
    for dir in [
        debug.clone(),
        debug.join("deps"),
        debug.join(".fingerprint"),
        debug.join("incremental"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file = entry.file_name();
            let file = file.to_string_lossy();
            let ours = names.iter().any(|name| {
                file == name.as_str()
                    || file.starts_with(&format!("{name}-"))
                    || file.starts_with(&format!("{name}."))
                    || file.starts_with(&format!("lib{name}-"))
            });
            if ours {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}

/// `cargo run -- serve` with its defaults: a SQLite file in the working
/// directory, created on first start, answering `/healthz`.
fn serves_on_sqlite(project: &Path, name: &str) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let binary = target_dir().join("debug").join(name);
    let mut server = Command::new(&binary)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .current_dir(project)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let deadline = Instant::now() + Duration::from_secs(60);
    let answer = loop {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
                .expect("send");
            let mut reply = String::new();
            let _ = stream.read_to_string(&mut reply);
            break reply;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = server.kill();
    let _ = server.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(project.join(format!("{name}.sqlite3")).exists());
}

#[test]
fn unknown_types_and_options_are_refused_with_the_valid_ones() {
    let error = FieldSpec::parse("title:str").unwrap_err().to_string();
    for (ty, _) in TYPES {
        assert!(error.contains(ty), "`{ty}` missing from: {error}");
    }
    let error = FieldSpec::parse("title:String:maxlength=5")
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown option `maxlength`"), "{error}");
    for option in FLAGS.iter().chain(VALUED) {
        assert!(error.contains(option), "`{option}` missing from: {error}");
    }
    let cases = [
        ("title", "name:type"),
        ("Title:String", "not a field name"),
        ("type:String", "Rust keyword"),
        ("done:bool:unique=yes", "takes no value"),
        ("title:String:max_length", "needs a value"),
        ("title:String:max_length=ten", "whole number"),
        (
            "author_id:i64:on_delete=drop",
            "cascade, set_null, restrict",
        ),
        ("kind:String:choices", "#[derive(Choices)]"),
        ("title:String:unique:unique", "given twice"),
    ];
    for (spec, expected) in cases {
        let error = FieldSpec::parse(spec).unwrap_err().to_string();
        assert!(error.contains(expected), "{spec}: {error}");
    }
}

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    task: DevTask,
}

#[test]
fn scaffold_arguments_parse_with_clap() {
    let cli = Cli::try_parse_from([
        "xtask",
        "scaffold",
        "model",
        "blog",
        "Post",
        "title:String:max_length=200",
        "--no-makemigrations",
    ])
    .expect("parses");
    match cli.task {
        DevTask::Scaffold(ScaffoldTask::Model {
            app,
            model,
            fields,
            no_makemigrations,
        }) => {
            assert_eq!((app.as_str(), model.as_str()), ("blog", "Post"));
            assert_eq!(fields, ["title:String:max_length=200"]);
            assert!(no_makemigrations);
        }
        _ => panic!("not scaffold model"),
    }
    // A model needs fields; expand takes one engine.
    assert!(Cli::try_parse_from(["xtask", "scaffold", "model", "blog", "Post"]).is_err());
    assert!(
        Cli::try_parse_from(["xtask", "expand", "Post", "--codegen", "--cargo-expand"]).is_err()
    );
}

#[test]
fn scaffold_refuses_what_would_not_compile_and_writes_nothing() {
    let (path, name) = unbuilt_project("refuse");
    let project = Project {
        root: path.clone(),
        crate_name: name,
    };
    let models = std::fs::read_to_string(path.join("src/shop/models.rs")).unwrap();
    let cases: [(&str, &str, &[&str], &str); 7] = [
        ("shop", "Price", &["amount:Decimal"], "max_digits"),
        ("shop", "Tag", &["name:i64:max_length=3"], "max_length"),
        (
            "shop",
            "Tag",
            &["note_id:i64:references=Nope"],
            "not a model of this project",
        ),
        (
            "shop",
            "Tag",
            &["note_id:i32:references=Note"],
            "note_id:i64:references=Note",
        ),
        ("shop", "Note", &["title:String"], "exists already"),
        ("shop", "tag", &["title:String"], "UpperCamelCase"),
        ("nope", "Tag", &["title:String"], "no app `nope`"),
    ];
    for (app, model, fields, expected) in cases {
        let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        let error = scaffold_model(&project, app, model, &fields, false)
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{model} {fields:?}: {error}");
    }
    assert_eq!(
        std::fs::read_to_string(path.join("src/shop/models.rs")).unwrap(),
        models
    );

    let error = new_project(&NewProject {
        path: path.clone(),
        name: None,
        ferrobridge: None,
        app: "shop".into(),
        makemigrations: false,
    })
    .unwrap_err()
    .to_string();
    assert!(error.contains("is not empty"), "{error}");
    let _ = std::fs::remove_dir_all(path.parent().expect("scratch dir"));
}

/// `rustfmt` of `source`, as scaffold and the migration writer format files.
fn rustfmt(source: &str) -> String {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run rustfmt");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(source.as_bytes())
        .expect("write to rustfmt");
    let output = child.wait_with_output().expect("rustfmt");
    assert!(output.status.success(), "rustfmt failed on:\n{source}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn scaffolded_apps_register_migrations_in_the_writers_format() {
    let (path, name) = unbuilt_project("migs");
    let project = Project {
        root: path.clone(),
        crate_name: name,
    };
    scaffold_app(&project, "billing").expect("scaffold app billing");
    for app in ["shop", "billing"] {
        // What `makemigrations` would write for an app without migrations,
        // so it finds the directory registered and rewrites the file.
        let module = std::fs::read_to_string(path.join(format!("src/{app}/migrations/mod.rs")))
            .expect("the app's migrations/mod.rs");
        let dir = format!("src/{app}/migrations");
        assert_eq!(
            module,
            rustfmt(&ferrobridge::migrations::render_module(app, &dir, &[]))
        );
        let register = std::fs::read_to_string(path.join(format!("src/{app}/mod.rs"))).unwrap();
        assert!(
            register.contains("pub mod migrations;")
                && register.contains("app.migrations(migrations::all())"),
            "{register}"
        );
    }
    let _ = std::fs::remove_dir_all(path.parent().expect("scratch dir"));
}

#[test]
fn expand_prints_the_derive_of_one_model() {
    // In this repository: by app label, and an ambiguous name listing candidates.
    let post = expand(&repo(), "blog::Post", Engine::Codegen).expect("expand blog::Post");
    assert!(
        post.starts_with("// #[derive(Model)] on blog::models::Post (examples/blog/src/models.rs)")
    );
    assert!(post.contains("pub struct PostCreate {"));
    let error = expand(&repo(), "Permission", Engine::Codegen)
        .unwrap_err()
        .to_string();
    assert!(error.contains("ambiguous"), "{error}");
    assert!(
        error.contains("ferrobridge::auth::models::Permission"),
        "{error}"
    );
    assert!(error.contains("permissions::models::Permission"), "{error}");

    // In a generated project: the example model, reviewed as a snapshot.
    let (path, _) = unbuilt_project("expand");
    let note = expand(&path, "Note", Engine::Codegen).expect("expand Note");
    let _ = std::fs::remove_dir_all(path.parent().expect("scratch dir"));
    // The crate name is unique per run; the snapshot names it `project`.
    let note = note.replacen(
        &note[note.find(" on ").unwrap() + 4..note.find("::shop").unwrap()],
        "project",
        1,
    );
    insta::assert_snapshot!("generated_project_Note", note);
}
