//! A small keyed JSON cache file (`{"models": {KEY: VALUE, ...}}`) in the user cache dir,
//! for what goshi learns about a server and wants to remember across sessions (a model's
//! shutdown date, the protocol a model needs).
//!
//! Several goshi processes may update the same file at once: each update takes an exclusive
//! lock on a sidecar `.lock` file, reads, changes one key, and replaces the file atomically
//! ([`super::atomic`]), so no update is lost and no reader ever sees half a file. A cache is
//! only ever an optimisation: a missing, damaged or oversized file reads as empty, and the
//! callers ignore write failures.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::atomic::write_atomic;

/// The most a cache file may hold; a bigger one (not written by goshi) reads as empty
/// rather than growing memory.
pub const MAX_CACHE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Contents {
    #[serde(default)]
    models: BTreeMap<String, Value>,
}

/// One cache file.
#[derive(Debug, Clone)]
pub struct JsonCache {
    path: PathBuf,
}

impl JsonCache {
    /// The cache file `name` under goshi's directory in the user cache dir
    /// (`~/.cache/goshi/NAME` on Linux); None when the platform has none.
    pub fn user(name: &str) -> Option<JsonCache> {
        dirs::cache_dir().map(|d| JsonCache::under(&d, name))
    }

    /// The cache file `name` under goshi's directory in `root` (a cache dir).
    pub fn under(root: &Path, name: &str) -> JsonCache {
        JsonCache {
            path: root.join("goshi").join(name),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value under `key`, when there is one of type `V`.
    pub fn get<V: DeserializeOwned>(&self, key: &str) -> Option<V> {
        let value = read(&self.path).models.remove(key)?;
        serde_json::from_value(value).ok()
    }

    /// Sets `key` to `value`, keeping every other key, also those another process sets at
    /// the same moment.
    pub fn set<V: Serialize>(&self, key: &str, value: &V) -> io::Result<()> {
        let value = serde_json::to_value(value).map_err(io::Error::other)?;
        let dir = self.path.parent().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the cache path has no parent")
        })?;
        fs::create_dir_all(dir)?;
        let _lock = Lock::take(&self.path)?;
        let mut contents = read(&self.path);
        contents.models.insert(key.to_string(), value);
        let text = serde_json::to_vec_pretty(&contents).map_err(io::Error::other)?;
        write_atomic(&self.path, &text, None)
    }
}

/// The file's contents; empty when it is missing, damaged or too big.
fn read(path: &Path) -> Contents {
    let Ok(file) = File::open(path) else {
        return Contents::default();
    };
    let mut text = Vec::new();
    // One byte over the cap tells an oversized file from one exactly at it.
    if file
        .take(MAX_CACHE_BYTES + 1)
        .read_to_end(&mut text)
        .is_err()
        || text.len() as u64 > MAX_CACHE_BYTES
    {
        return Contents::default();
    }
    serde_json::from_slice(&text).unwrap_or_default()
}

/// An exclusive lock on `FILE.lock`, held until dropped (the OS releases it if the process
/// dies, so a crash never leaves the cache locked).
struct Lock(File);

impl Lock {
    fn take(path: &Path) -> io::Result<Lock> {
        let mut name = path.as_os_str().to_owned();
        name.push(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(PathBuf::from(name))?;
        file.lock()?;
        Ok(Lock(file))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_keys_and_types_and_survives_damage() {
        let d = tempfile::tempdir().unwrap();
        let cache = JsonCache::under(d.path(), "c.json");
        assert_eq!(cache.get::<String>("a"), None);
        cache.set("a", &"one").unwrap();
        cache.set("b", &Some(2)).unwrap();
        assert_eq!(cache.get::<String>("a").as_deref(), Some("one"));
        assert_eq!(cache.get::<Option<u32>>("b"), Some(Some(2)));
        assert_eq!(cache.get::<u32>("a"), None, "a value of another type");
        fs::write(cache.path(), "not json").unwrap();
        assert_eq!(cache.get::<String>("a"), None);
        cache.set("c", &true).unwrap();
        assert_eq!(cache.get::<bool>("c"), Some(true));
    }

    #[test]
    fn an_oversized_file_reads_as_empty() {
        let d = tempfile::tempdir().unwrap();
        let cache = JsonCache::under(d.path(), "c.json");
        cache.set("a", &1).unwrap();
        let padding = " ".repeat(MAX_CACHE_BYTES as usize);
        fs::write(cache.path(), format!("{{\"models\":{{\"a\":1}}}}{padding}")).unwrap();
        assert_eq!(cache.get::<u32>("a"), None);
    }

    #[test]
    fn concurrent_writers_never_corrupt_it_or_lose_a_key() {
        let d = tempfile::tempdir().unwrap();
        let cache = JsonCache::under(d.path(), "c.json");
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        cache.set(&format!("w{w} k{i}"), &i).unwrap();
                        // Every read in between sees a whole file.
                        assert_eq!(cache.get::<u32>(&format!("w{w} k{i}")), Some(i));
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let text = fs::read_to_string(cache.path()).unwrap();
        let contents: Contents = serde_json::from_str(&text).unwrap();
        assert_eq!(contents.models.len(), 100);
        let leftovers: Vec<_> = fs::read_dir(cache.path().parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
