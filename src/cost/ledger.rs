//! The spend ledger: what every priced response cost, shared by all goshi processes of the
//! user, so that a daily cap holds across them.
//!
//! One append-only JSONL file per local month (`ledger-2026-11.jsonl`) in
//! `DATA_DIR/goshi/cost/` (`dirs::data_dir()`: `~/.local/share` on Linux). Every read and
//! append happens under an exclusive lock on `ledger.lock` beside it (a file that is never
//! renamed, so a ledger moved aside cannot be written through a stale lock). A request
//! first appends a `hold` of its worst case, so that two processes checking the cap at the
//! same moment see each other; the `spend` line written after the answer settles it (a
//! `release` line settles it when no usage came back; a hold of a crashed process lapses
//! after [`HOLD_SECS`]).
//!
//! A crash mid-append leaves a torn last line: it is ignored, and cut off before the next
//! append. Any other unreadable line makes the file corrupt: it is kept beside as
//! `*.corrupt-UNIXTIME`, and a fresh file with the readable entries takes its place, with a
//! warning; goshi never stops because of its ledger.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::money::Micros;

/// How long a hold of a request that never reported back keeps counting.
pub const HOLD_SECS: u64 = 30 * 60;
/// How long goshi waits for another process's lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Tokens of one response, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// Uncached input tokens.
    #[serde(default)]
    pub input: u64,
    /// Input tokens served from the prompt cache.
    #[serde(default)]
    pub cached: u64,
    /// Input tokens written to the prompt cache.
    #[serde(default)]
    pub cache_write: u64,
    /// Output tokens (reasoning included).
    #[serde(default)]
    pub output: u64,
    /// Of the output, reasoning tokens.
    #[serde(default)]
    pub reasoning: u64,
}

impl Tokens {
    /// Adds `other`, saturating.
    pub fn add(&mut self, other: &Tokens) {
        self.input = self.input.saturating_add(other.input);
        self.cached = self.cached.saturating_add(other.cached);
        self.cache_write = self.cache_write.saturating_add(other.cache_write);
        self.output = self.output.saturating_add(other.output);
        self.reasoning = self.reasoning.saturating_add(other.reasoning);
    }

    /// All input tokens (uncached, cached, written).
    pub fn all_input(&self) -> u64 {
        self.input
            .saturating_add(self.cached)
            .saturating_add(self.cache_write)
    }
}

/// One priced response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spend {
    /// When, in UTC (RFC 3339).
    pub ts: String,
    /// The user's local day, `YYYY-MM-DD`.
    pub day: String,
    /// The goshi session.
    #[serde(default)]
    pub session: String,
    /// `OpenAI`.
    #[serde(default)]
    pub provider: String,
    /// The model as configured.
    pub model: String,
    /// Tokens by kind.
    #[serde(default)]
    pub tokens: Tokens,
    /// The cost.
    pub micros: Micros,
    /// The price table's date, or `cost.prices`.
    #[serde(default)]
    pub prices: String,
    /// The hold this spend settles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Entry {
    Spend(Spend),
    Hold {
        id: String,
        day: String,
        micros: Micros,
        until: u64,
    },
    Release {
        id: String,
    },
    /// A kind written by a newer goshi: kept, ignored.
    #[serde(other)]
    Unknown,
}

/// A worst case held against the daily cap while its request runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// Its id, settled by the spend or release line.
    pub id: String,
}

/// What [`Ledger::hold`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldOutcome {
    /// The request fits; its worst case is held.
    Held(Hold),
    /// It could take today's spend (holds of running requests included) over the cap.
    Refused {
        /// Spent and held today.
        today: Micros,
    },
}

/// The ledger directory and the warnings it produced (for the front end to show).
#[derive(Debug)]
pub struct Ledger {
    dir: PathBuf,
    warnings: Mutex<Vec<String>>,
}

/// The user's local date, `YYYY-MM-DD` (UTC when the time zone cannot be found).
pub fn local_day() -> String {
    jiff::Zoned::now().date().to_string()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Ledger {
    /// The ledger in `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        Ledger {
            dir,
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// The ledger in the user data dir, if the platform has one.
    pub fn user() -> Option<Self> {
        dirs::data_dir().map(|d| Ledger::new(d.join("goshi").join("cost")))
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The warnings since the last call (a corrupt file set aside, a lock not obtained).
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn warn(&self, w: String) {
        self.warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(w);
    }

    fn file_for(&self, day: &str) -> PathBuf {
        let month = day.get(..7).unwrap_or(day);
        self.dir.join(format!("ledger-{month}.jsonl"))
    }

    /// Holds `worst` against `day` unless spend and holds plus `worst` would pass `cap`.
    pub fn hold(
        &self,
        day: &str,
        worst: Micros,
        cap: Option<Micros>,
    ) -> Result<HoldOutcome, String> {
        self.locked(day, |entries, file| {
            let today = day_total(entries, day, unix_now());
            if cap.is_some_and(|c| today.plus(worst) > c) {
                return Ok(HoldOutcome::Refused { today });
            }
            let id = format!("{:016x}", fastrand::u64(..));
            append(
                file,
                &Entry::Hold {
                    id: id.clone(),
                    day: day.to_string(),
                    micros: worst,
                    until: unix_now() + HOLD_SECS,
                },
            )?;
            Ok(HoldOutcome::Held(Hold { id }))
        })
    }

    /// Records a priced response (settling its hold); returns the day's total after it.
    pub fn record(&self, spend: Spend) -> Result<Micros, String> {
        let day = spend.day.clone();
        self.locked(&day, |entries, file| {
            let entry = Entry::Spend(spend);
            append(file, &entry)?;
            entries.push(entry);
            Ok(day_total(entries, &day, unix_now()))
        })
    }

    /// Settles a hold whose request reported no usage.
    pub fn release(&self, day: &str, hold: &Hold) -> Result<(), String> {
        self.locked(day, |_, file| {
            append(
                file,
                &Entry::Release {
                    id: hold.id.clone(),
                },
            )
        })
    }

    /// Spent and held on `day`.
    pub fn day_total(&self, day: &str) -> Result<Micros, String> {
        self.locked(day, |entries, _| Ok(day_total(entries, day, unix_now())))
    }

    /// Every spend of the months from `since_day`'s on, oldest first.
    pub fn spends_since(&self, since_day: &str) -> Result<Vec<Spend>, String> {
        let since_month = format!("ledger-{}.jsonl", since_day.get(..7).unwrap_or(since_day));
        let mut names: Vec<String> = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| is_month_file(n) && n.as_str() >= since_month.as_str())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot list {}: {e}", self.dir.display())),
        };
        names.sort();
        let mut out = Vec::new();
        for name in names {
            let Some(month) = name.get(7..14) else {
                continue;
            };
            let day = format!("{month}-01");
            let spends = self.locked(&day, |entries, _| {
                Ok(entries
                    .iter()
                    .filter_map(|e| match e {
                        Entry::Spend(s) if s.day.as_str() >= since_day => Some(s.clone()),
                        _ => None,
                    })
                    .collect::<Vec<_>>())
            })?;
            out.extend(spends);
        }
        Ok(out)
    }

    /// Runs `f` on the month file of `day` and its entries, under the lock.
    fn locked<T>(
        &self,
        day: &str,
        f: impl FnOnce(&mut Vec<Entry>, &mut File) -> Result<T, String>,
    ) -> Result<T, String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            format!(
                "cannot create the cost ledger folder {}: {e}",
                self.dir.display()
            )
        })?;
        let lock_path = self.dir.join("ledger.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
        lock_within(&lock, LOCK_WAIT)
            .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
        let path = self.file_for(day);
        let result = self
            .open_month(&path)
            .and_then(|(mut entries, mut file)| f(&mut entries, &mut file));
        // Dropping the file unlocks too; unlocking first keeps the wait of others short.
        let _ = lock.unlock();
        result
    }

    /// Opens the month file, reading its entries; sets a corrupt file aside.
    fn open_month(&self, path: &Path) -> Result<(Vec<Entry>, File), String> {
        let open = || {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(path)
                .map_err(|e| format!("cannot open the cost ledger {}: {e}", path.display()))
        };
        let mut file = open()?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read the cost ledger {}: {e}", path.display()))?;
        let (entries, bad) = parse(&bytes);
        if bad == 0 {
            return Ok((entries, file));
        }
        let aside = path.with_extension(format!("jsonl.corrupt-{}", unix_now()));
        std::fs::rename(path, &aside).map_err(|e| {
            format!(
                "cannot set the corrupt cost ledger {} aside: {e}",
                path.display()
            )
        })?;
        let mut fresh = open()?;
        for e in &entries {
            append(&mut fresh, e)?;
        }
        self.warn(format!(
            "the cost ledger {} had {bad} unreadable line(s); it was kept as {} and a fresh \
             ledger with its {} readable entries was started",
            path.display(),
            aside.display(),
            entries.len()
        ));
        Ok((entries, fresh))
    }
}

fn is_month_file(name: &str) -> bool {
    name.len() == "ledger-2026-11.jsonl".len()
        && name.starts_with("ledger-")
        && name.ends_with(".jsonl")
}

/// Takes the lock, waiting at most `wait` for another process to release it.
fn lock_within(file: &File, wait: Duration) -> std::io::Result<()> {
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::other(format!(
                    "another goshi process held it for more than {} s",
                    wait.as_secs()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// The entries of a ledger file and how many complete lines could not be read. A last
/// line without its newline is a torn append: ignored, not counted as bad.
fn parse(bytes: &[u8]) -> (Vec<Entry>, usize) {
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(i) => &bytes[..=i],
        None => &[][..],
    };
    let mut entries = Vec::new();
    let mut bad = 0;
    for line in complete.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Entry>(line) {
            Ok(e) => entries.push(e),
            Err(_) => bad += 1,
        }
    }
    (entries, bad)
}

/// Appends one line, first cutting off a torn last line left by a crash.
fn append(file: &mut File, entry: &Entry) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot write the cost ledger: {e}");
    let len = file.seek(SeekFrom::End(0)).map_err(io)?;
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1)).map_err(io)?;
        file.read_exact(&mut last).map_err(io)?;
        if last[0] != b'\n' {
            let keep = last_newline_end(file, len).map_err(io)?;
            file.set_len(keep).map_err(io)?;
        }
    }
    let mut line =
        serde_json::to_vec(entry).map_err(|e| format!("cannot encode a ledger line: {e}"))?;
    line.push(b'\n');
    file.seek(SeekFrom::End(0)).map_err(io)?;
    // One write of the whole line: a crash leaves at most this line torn.
    file.write_all(&line).map_err(io)?;
    file.flush().map_err(io)
}

/// The length up to and including the last newline of the first `len` bytes.
fn last_newline_end(file: &mut File, len: u64) -> std::io::Result<u64> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut bytes)?;
    let upto = bytes.len().min(len as usize);
    Ok(bytes[..upto]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i as u64 + 1))
}

/// Spent on `day`, plus the holds of that day not yet settled or lapsed at `now`.
fn day_total(entries: &[Entry], day: &str, now: u64) -> Micros {
    let settled: std::collections::HashSet<&str> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Spend(s) => s.hold.as_deref(),
            Entry::Release { id } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    entries.iter().fold(Micros::ZERO, |sum, e| match e {
        Entry::Spend(s) if s.day == day => sum.plus(s.micros),
        Entry::Hold {
            id,
            day: d,
            micros,
            until,
        } if d == day && *until > now && !settled.contains(id.as_str()) => sum.plus(*micros),
        _ => sum,
    })
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
