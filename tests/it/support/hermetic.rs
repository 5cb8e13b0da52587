//! The one hermetic way to run the built `goshi` binary in a test: none of the
//! developer's goshi, OpenAI, Ollama or proxy settings leak in, and HOME and the XDG
//! config and cache dirs point at a temporary directory. Also a [`Sandbox`] (a temporary
//! working directory with its own empty home) and [`Run`], what a finished run printed.
//!
//! Every test module that runs the binary uses it as `crate::support::hermetic`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;

/// Generous bound so a stuck run fails instead of hanging; never a timing assertion.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// Variables of the developer's environment that change what goshi does; removed from
/// every run (a test sets the ones it needs afterwards). Every other `GOSHI_*` variable
/// of the environment is removed too.
pub const OUTSIDE_VARS: [&str; 17] = [
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "GOSHI_LLM_PROVIDER",
    "GOSHI_MODEL",
    "GOSHI_LOG",
    "OLLAMA_HOST",
    "GOSHI_CONFIG",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// `goshi` run in `dir`, which is also its HOME and its XDG config and cache dir.
pub fn std_goshi_cmd(dir: &Path) -> std::process::Command {
    std_goshi_cmd_with_home(dir, dir)
}

/// `goshi` run in `dir`, with `home` as its HOME and its XDG config and cache dir.
pub fn std_goshi_cmd_with_home(dir: &Path, home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("goshi"));
    cmd.current_dir(dir);
    for var in OUTSIDE_VARS {
        cmd.env_remove(var);
    }
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("GOSHI_") {
            cmd.env_remove(var);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_CACHE_HOME", home)
        .env("XDG_DATA_HOME", home);
    cmd
}

/// [`std_goshi_cmd_with_home`] for `assert_cmd`, bounded by [`HANG_GUARD`].
pub fn goshi_cmd_with_home(dir: &Path, home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(std_goshi_cmd_with_home(dir, home));
    cmd.timeout(HANG_GUARD);
    cmd
}

/// A temporary working directory with a separate, empty home, so that nothing of the
/// user's setup leaks in and nothing goshi keeps in its home shows in the directory.
pub struct Sandbox {
    dir: TempDir,
    home: TempDir,
}

impl Sandbox {
    /// An empty directory and an empty home.
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The home directory goshi sees (HOME and the XDG dirs).
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The working directory as goshi sees it (symlinks resolved).
    pub fn canonical_path(&self) -> PathBuf {
        self.path().canonicalize().unwrap()
    }

    /// Writes a file (and its directories) into the working directory.
    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, content).unwrap();
    }

    /// Writes `./goshi.yaml`.
    pub fn config(&self, yaml: &str) {
        self.write("goshi.yaml", yaml);
    }

    /// Writes the user's own config (`goshi/goshi.yaml` in the home's config dir): trusted,
    /// unlike a repository's `./goshi.yaml`.
    pub fn user_config(&self, yaml: &str) {
        let dir = self.home.path().join("goshi");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("goshi.yaml"), yaml).unwrap();
    }

    /// `goshi ARGS` in the working directory, hermetic, as a plain [`std::process::Command`]
    /// (to spawn, kill or wrap it).
    pub fn std_goshi(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std_goshi_cmd_with_home(self.path(), self.home.path());
        cmd.args(args);
        cmd
    }

    /// `goshi ARGS` in the working directory, hermetic.
    pub fn goshi(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = goshi_cmd_with_home(self.path(), self.home.path());
        cmd.args(args);
        cmd
    }
}

/// Runs `cmd`, asserts that it succeeded, and returns its stdout.
pub fn success_stdout(mut cmd: assert_cmd::Command) -> String {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

/// What a finished `goshi` run printed.
#[derive(Debug)]
pub struct Run {
    /// The exit code (None when killed by a signal).
    pub code: Option<i32>,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

/// Runs `cmd` to completion.
pub fn run(mut cmd: assert_cmd::Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    /// The stderr lines.
    pub fn err_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }

    /// Whether stderr has exactly this line.
    pub fn has_err_line(&self, line: &str) -> bool {
        self.stderr.lines().any(|l| l == line)
    }

    /// Stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Asserts exit code 0.
    pub fn assert_success(&self) {
        assert_eq!(self.code, Some(0), "goshi should succeed\n{self}");
    }

    /// Asserts a non-zero exit code.
    pub fn assert_failure(&self) {
        assert!(
            matches!(self.code, Some(c) if c != 0),
            "goshi should fail with a non-zero exit code\n{self}"
        );
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}
