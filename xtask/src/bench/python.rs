//! `--peer python`: the seed article's Python stack, Django 5.2 serving
//! `GET /permissions` through django-fastapi-bridge 0.2 on uvicorn, from
//! the project kept in `xtask/python` (versions pinned in its
//! `requirements.txt`). Its `manage.py migrate` also makes the SQLite file
//! every variant of the run serves.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// The Django project and its pinned requirements, kept in the repository.
pub fn project_dir() -> PathBuf {
    super::workspace_root().join("xtask/python")
}

/// A ready venv holding the pinned requirements.
#[derive(Clone, Debug)]
pub struct Peer {
    venv: PathBuf,
    /// `python --version` of the venv, for the report.
    pub python_version: String,
}

impl Peer {
    /// The venv under `out_dir` (`python-venv`), made from the requirements
    /// file, or reused when its copy of that file is identical (so a run
    /// after a version bump never measures stale packages).
    pub fn prepare(out_dir: &Path) -> anyhow::Result<Peer> {
        let python = ["python3", "python"]
            .into_iter()
            .find(|p| super::have(p))
            .context("no python3 on PATH")?;
        let requirements_path = project_dir().join("requirements.txt");
        let requirements = std::fs::read_to_string(&requirements_path)
            .with_context(|| format!("cannot read {}", requirements_path.display()))?;
        let venv = out_dir.join("python-venv");
        let stamp = venv.join("requirements.txt");
        let interpreter = venv.join("bin/python");
        let fresh = interpreter.exists()
            && std::fs::read_to_string(&stamp).is_ok_and(|copy| copy == requirements);
        if !fresh {
            eprintln!(
                "==> making the Python venv {} from {}",
                venv.display(),
                requirements_path.display()
            );
            let _ = std::fs::remove_dir_all(&venv);
            run(Command::new(python).args(["-m", "venv"]).arg(&venv))
                .context("python3 -m venv failed (on Debian: apt-get install python3-venv)")?;
            run(Command::new(&interpreter)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(&requirements_path))
            .context("pip install of the pinned requirements failed")?;
            std::fs::write(&stamp, &requirements)?;
        }
        let output = Command::new(&interpreter).arg("--version").output()?;
        let python_version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        Ok(Peer {
            venv,
            python_version,
        })
    }

    /// Runs Django's `migrate` into a new SQLite file at `path` (replaced if
    /// present): 6 content types and 24 permissions, Django's own rows.
    pub fn make_database(&self, path: &Path) -> anyhow::Result<()> {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        run(Command::new(self.venv.join("bin/python"))
            .args(["manage.py", "migrate", "--noinput", "-v0"])
            .current_dir(project_dir())
            .env("BENCH_DATABASE", path))
        .context("Django's `manage.py migrate` failed")
    }

    /// uvicorn serving the bridge on `port` with one worker and no access
    /// log, on the SQLite file `database`.
    pub fn server(&self, port: u16, database: &Path) -> super::Launch {
        super::Launch {
            label: "uvicorn".into(),
            program: self.venv.join("bin/uvicorn"),
            args: [
                "django_fastapi.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--workers",
                "1",
                "--no-access-log",
                "--log-level",
                "warning",
            ]
            .map(String::from)
            .to_vec(),
            env: vec![
                (
                    "DJANGO_SETTINGS_MODULE".into(),
                    "benchproject.settings".into(),
                ),
                ("BENCH_DATABASE".into(), database.display().to_string()),
            ],
            cwd: Some(project_dir()),
        }
    }
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let output = command.stdin(Stdio::null()).output()?;
    if !output.status.success() {
        bail!(
            "{} exited with {}:\n{}{}",
            command.get_program().to_string_lossy(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
