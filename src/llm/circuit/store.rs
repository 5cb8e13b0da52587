//! The circuits' state file, shared by every goshi process of the user: a small JSON file
//! in the user cache dir, read and rewritten under an exclusive lock on a companion
//! `.lock` file, and replaced atomically so a crash never leaves half of it.
//!
//! The breaker must never stop goshi from working: a file that cannot be parsed starts
//! over empty, and a file that cannot be read, locked or written is logged and skipped.

use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::state::Circuits;

/// The file name under the user cache dir's `goshi/` folder.
pub const FILE_NAME: &str = "circuits.json";

/// Where the circuits of this user are kept (None when the platform has no cache dir).
pub fn default_path() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("goshi").join(FILE_NAME))
}

/// The state file.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// The store at `path` (its directory is created on first write).
    pub fn at(path: impl Into<PathBuf>) -> Store {
        Store { path: path.into() }
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the state without changing it (a missing or corrupt file reads as empty).
    pub fn read(&self) -> Circuits {
        match fs::read_to_string(&self.path) {
            Ok(text) => parse(&text, &self.path),
            Err(_) => Circuits::default(),
        }
    }

    /// Reads, changes and writes the state under the lock; returns what `change` returned.
    /// When the file cannot be locked or written, `change` still runs (on the state as it
    /// could be read) and the error is logged: the breaker then works for this process.
    pub fn update<T>(&self, change: impl FnOnce(&mut Circuits) -> T) -> T {
        match self.locked_update(change) {
            Ok(v) => v,
            Err((e, v)) => {
                tracing::warn!(
                    "the circuit breaker state {} could not be saved: {e}",
                    self.path.display()
                );
                v
            }
        }
    }

    fn locked_update<T>(
        &self,
        change: impl FnOnce(&mut Circuits) -> T,
    ) -> Result<T, (io::Error, T)> {
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        let lock_file = match fs::create_dir_all(dir).and_then(|()| {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(self.path.with_extension("lock"))
        }) {
            Ok(f) => f,
            Err(e) => {
                let mut state = self.read();
                return Err((e, change(&mut state)));
            }
        };
        // Held until `lock_file` is dropped at the end of this function (closing the file
        // releases the lock, also when the process dies).
        if let Err(e) = lock_file.lock() {
            let mut state = self.read();
            return Err((e, change(&mut state)));
        }
        let mut state = self.read();
        let before = state.clone();
        let value = change(&mut state);
        if state != before {
            state.prune();
            let text = match serde_json::to_vec_pretty(&state) {
                Ok(t) => t,
                Err(e) => return Err((io::Error::other(e), value)),
            };
            if let Err(e) = crate::persist::atomic::write_atomic(&self.path, &text, None) {
                return Err((e, value));
            }
        }
        Ok(value)
    }
}

fn parse(text: &str, path: &Path) -> Circuits {
    match serde_json::from_str(text) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(
                "the circuit breaker state {} is corrupt ({e}); starting over",
                path.display()
            );
            Circuits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::state::{Entry, Outcome};
    use super::*;

    #[test]
    fn updates_persist_and_a_corrupt_file_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("sub").join(FILE_NAME));
        store.update(|c| {
            c.circuits.insert(
                "k".into(),
                Entry {
                    failures: vec![1, 2],
                    ..Entry::default()
                },
            );
        });
        assert_eq!(store.read().circuits["k"].failures, vec![1, 2]);
        fs::write(store.path(), "{\"circuits\": {\"k\": [").unwrap();
        assert!(store.read().circuits.is_empty());
        let n = store.update(|c| c.circuits.len());
        assert_eq!(n, 0);
    }

    #[test]
    fn concurrent_updates_are_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let settings = super::super::state::CircuitSettings {
            failures: 1000,
            window: std::time::Duration::from_secs(3600),
            cooldown: std::time::Duration::from_secs(1),
        };
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let store = Store::at(&path);
                std::thread::spawn(move || {
                    for i in 0..25 {
                        store.update(|c| {
                            c.circuits.entry("k".into()).or_default().record(
                                i,
                                Outcome::Failure("x".into()),
                                &settings,
                            )
                        });
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(Store::at(&path).read().circuits["k"].failures.len(), 100);
    }
}
