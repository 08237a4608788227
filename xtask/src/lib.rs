//! ferrobridge's developer workflow: `new`, `scaffold` and `expand`.
//!
//! A library so that projects made by `cargo xtask new` get the same
//! commands: their `xtask` member calls [`project_main`]. This repository's
//! `cargo xtask` adds `new`, `ci` and `bench` around the same [`DevTask`]s.

pub mod expand;
pub mod fields;
pub mod makemigrations;
pub mod new;
pub mod project;
pub mod scaffold;
pub mod sources;
pub mod templates;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The commands every ferrobridge project's `cargo xtask` has.
#[derive(Debug, Subcommand)]
pub enum DevTask {
    /// Add an app or a model to this project (made by `cargo xtask new`).
    #[command(subcommand)]
    Scaffold(ScaffoldTask),
    /// Print the code `#[derive(Model)]` generates for one model.
    Expand {
        /// The model: `Post`, or `blog::Post` (app label or module path) when
        /// several models share the name.
        model: String,
        /// Expand with ferrobridge-codegen even when cargo-expand is installed.
        #[arg(long, conflicts_with = "cargo_expand")]
        codegen: bool,
        /// Expand with `cargo expand` (fails when it is not installed).
        #[arg(long)]
        cargo_expand: bool,
    },
}

/// `cargo xtask scaffold ...`.
#[derive(Debug, Subcommand)]
pub enum ScaffoldTask {
    /// Add an app: `src/<name>/mod.rs` (with `register`), `src/<name>/models.rs`
    /// and `src/<name>/migrations/mod.rs`, listed in `src/lib.rs` `APPS`.
    App {
        /// The app's name, snake_case: its module and Django app label.
        name: String,
    },
    /// Add a model to an app: the struct in `src/<app>/models.rs`, its
    /// registration, its migration in `src/<app>/migrations/`
    /// (`cargo run -- makemigrations <app> --noinput`)
    /// and a CRUD test in `tests/`.
    #[command(after_help = fields::help_text())]
    Model {
        /// The app, as created by `scaffold app`.
        app: String,
        /// The model's name, UpperCamelCase.
        model: String,
        /// Fields as `name:type[:option...]`, e.g. `title:String:max_length=200:unique`,
        /// `price:Decimal:max_digits=10:decimal_places=2`, `author_id:i64:references=Author`.
        #[arg(required = true)]
        fields: Vec<String>,
        /// Skip `makemigrations` (and so the build it does); run
        /// `cargo run -- makemigrations <app>` before serving or testing.
        #[arg(long)]
        no_makemigrations: bool,
    },
}

/// Runs `task` in the workspace around the current directory.
pub fn run_dev(task: DevTask) -> anyhow::Result<()> {
    let here = std::env::current_dir()?;
    match task {
        DevTask::Scaffold(ScaffoldTask::App { name }) => {
            let project = scaffold::Project::find(&here)?;
            scaffold::scaffold_app(&project, &name)
        }
        DevTask::Scaffold(ScaffoldTask::Model {
            app,
            model,
            fields,
            no_makemigrations,
        }) => {
            let project = scaffold::Project::find(&here)?;
            scaffold::scaffold_model(&project, &app, &model, &fields, !no_makemigrations).map(drop)
        }
        DevTask::Expand {
            model,
            codegen,
            cargo_expand,
        } => {
            let engine = if codegen {
                expand::Engine::Codegen
            } else if cargo_expand {
                expand::Engine::CargoExpand
            } else {
                expand::Engine::Auto
            };
            print!("{}", expand::expand(&here, &model, engine)?);
            Ok(())
        }
    }
}

/// A failure as one `error:` paragraph and exit status 1.
pub fn exit_code(command: &str, result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask {command}: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Parser)]
#[command(name = "cargo xtask", about = "ferrobridge project automation")]
struct ProjectCli {
    #[command(subcommand)]
    task: DevTask,
}

/// The `main` of a generated project's `xtask`: `scaffold` and `expand`.
pub fn project_main() -> ExitCode {
    let task = ProjectCli::parse().task;
    let name = match &task {
        DevTask::Scaffold(_) => "scaffold",
        DevTask::Expand { .. } => "expand",
    };
    exit_code(name, run_dev(task))
}
