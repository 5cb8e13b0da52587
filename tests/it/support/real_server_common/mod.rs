//! Helpers shared by the tests against a REAL, independent OpenAI-compatible server
//! (`tests/real_server.rs`, `tests/real_server_tools.rs`): llama.cpp's own `llama-server`
//! serving the tiny model from `../shared/real-server` (see `docs/real-server.md`).
//!
//! The servers come from the environment, set by `scripts/real-server-tests.sh`:
//! - `GOSHI_REAL_SERVER_URL`: a plain server, e.g. `http://127.0.0.1:8765`
//! - `GOSHI_REAL_SERVER_KEYED_URL` + `GOSHI_REAL_SERVER_KEY`: one started with `--api-key KEY`
//!
//! Without them, each test fails and says how to start them.

mod proxy;

use std::time::Duration;

use assert_cmd::Command;

pub use crate::support::hermetic::Run;
use crate::support::hermetic::{run, Sandbox};
pub use proxy::Proxy;

// ---- The servers ----

fn how_to_start(var: &str) -> String {
    format!(
        "{var} is not set, so there is no real llama-server to test against.\n\
         Run the whole suite with:  bash scripts/real-server-tests.sh\n\
         or start servers yourself (from the repository root):\n\
         \x20 ../shared/real-server/setup.sh && ../shared/real-server/start.sh 8765\n\
         \x20 ../shared/real-server/start.sh 8766 --api-key some-key\n\
         \x20 export GOSHI_REAL_SERVER_URL=http://127.0.0.1:8765\n\
         \x20 export GOSHI_REAL_SERVER_KEYED_URL=http://127.0.0.1:8766 GOSHI_REAL_SERVER_KEY=some-key\n\
         then: cargo test --test real_server --test real_server_tools -- --ignored --test-threads=1"
    )
}

fn env_or_explain(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => v.trim().trim_end_matches('/').to_string(),
        _ => panic!("{}", how_to_start(var)),
    }
}

/// The plain server's root URL (no `/v1`).
pub fn plain() -> String {
    env_or_explain("GOSHI_REAL_SERVER_URL")
}

/// The keyed server's root URL and its key.
pub fn keyed() -> (String, String) {
    (
        env_or_explain("GOSHI_REAL_SERVER_KEYED_URL"),
        env_or_explain("GOSHI_REAL_SERVER_KEY"),
    )
}

// ---- Running goshi ----

/// The Chat Completions path.
pub const CHAT: &str = "/v1/chat/completions";
/// The Responses API path.
pub const RESPONSES: &str = "/v1/responses";

/// A key the keyed server refuses.
pub const WRONG_KEY: &str = "wrong-key-7f3e9a";

/// `goshi.yaml` for answers that do not vary.
pub const TEMP0: &str = "llm:\n  temperature: 0\n";

/// A small project directory and an empty home, so nothing of the user's setup leaks in.
pub struct Project {
    sandbox: Sandbox,
}

impl Project {
    pub fn new() -> Self {
        let sandbox = Sandbox::new();
        sandbox.write("notes.txt", "remember the milk\n");
        sandbox.write("data/numbers.csv", "a,b\n1,2\n");
        Project { sandbox }
    }

    /// Writes `./goshi.yaml`.
    pub fn config(&self, yaml: &str) {
        self.sandbox.config(yaml);
    }

    /// The home goshi runs with (its user cache dir holds the circuit breaker's state).
    pub fn home(&self) -> &std::path::Path {
        self.sandbox.home()
    }

    /// `goshi --provider openai --base-url ROOT/v1 --model MODEL ARGS...`, hermetic.
    pub fn command(&self, root: &str, model: &str, args: &[&str]) -> Command {
        let base = format!("{root}/v1");
        let mut cmd = self.sandbox.goshi(&[
            "--provider",
            "openai",
            "--base-url",
            &base,
            "--model",
            model,
        ]);
        cmd.args(args)
            .env("NO_PROXY", "127.0.0.1,localhost")
            // A pipe, never the developer's terminal: no permission prompts, no REPL.
            .write_stdin(Vec::<u8>::new())
            .timeout(Duration::from_secs(180));
        cmd
    }

    pub fn run_cmd(cmd: Command) -> Run {
        run(cmd)
    }

    /// Runs goshi with `--model tiny`.
    pub fn run(&self, root: &str, args: &[&str]) -> Run {
        Self::run_cmd(self.command(root, "tiny", args))
    }

    /// Runs goshi with `--model tiny` and `OPENAI_API_KEY=key`.
    pub fn run_with_key(&self, root: &str, key: &str, args: &[&str]) -> Run {
        let mut cmd = self.command(root, "tiny", args);
        cmd.env("OPENAI_API_KEY", key);
        Self::run_cmd(cmd)
    }
}

/// A fresh project configured with `yaml`, and a recording proxy to the plain server.
pub fn proxied_project(yaml: &str) -> (Project, Proxy) {
    let root = plain();
    let p = Project::new();
    p.config(yaml);
    (p, Proxy::start(&root))
}

/// The `OpenAI tokens: prompt=X, completion=Y, total=Z (model: M)` lines of a run, parsed.
pub fn token_lines(out: &Run) -> Vec<(u64, u64, u64, String)> {
    out.stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("OpenAI tokens: prompt=")?;
            let (p, rest) = rest.split_once(", completion=")?;
            let (c, rest) = rest.split_once(", total=")?;
            let (t, rest) = rest.split_once(" (model: ")?;
            let m = rest.strip_suffix(')')?;
            Some((
                p.parse().ok()?,
                c.parse().ok()?,
                t.parse().ok()?,
                m.to_string(),
            ))
        })
        .collect()
}
