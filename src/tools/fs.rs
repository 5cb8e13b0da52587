//! The file tools: `fs.list`, `fs.read` and `fs.write` (which only proposes).
//!
//! Each tool has an argument struct; its JSON Schema is derived from the struct (see
//! [`super::registry`]), so the schema the model sees and the parser cannot drift apart. The
//! doc comments on the fields become the schema's descriptions.

use std::fs;
use std::io::Read;

use schemars::JsonSchema;
use serde::Deserialize;

use cap_std::fs::{Dir, DirEntry};

use super::{ProposalNote, ToolContext, ToolOutput};
use crate::safety::beneath;
use crate::safety::path_guard::{PathGuard, Resolved};
use crate::safety::{proposals, ToolError};
use crate::text::{cap_bytes, human_size, one_line, sniff_binary};

/// At most this many entries are listed.
pub const LIST_CAP: usize = 1000;
/// At most this many bytes of a file are returned.
pub const READ_CAP: usize = 256 * 1024;
/// At most this much of a proposal's diff goes back to the model (`goshi fs show` has it all).
const DIFF_CAP: usize = 16 * 1024;
/// Names hidden from a listing of the repository root.
const HIDDEN_AT_ROOT: [&str; 2] = [".git", ".goshi"];

/// Arguments of `fs.list`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Directory to list, relative to the repository root ("." for the root).
    pub path: String,
}

/// Arguments of `fs.read`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadArgs {
    /// File to read, relative to the repository root.
    pub path: String,
}

/// Arguments of `fs.write`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteArgs {
    /// File to create or replace, relative to the repository root.
    pub path: String,
    /// The complete new content of the file (not a patch).
    pub content: String,
}

/// What a directory entry is (symlinks are not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// Anything else (FIFO, socket, device).
    Other,
}

impl EntryKind {
    /// The lowercase name: `file`, `dir`, `symlink`, `other`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Dir => "dir",
            EntryKind::Symlink => "symlink",
            EntryKind::Other => "other",
        }
    }
}

/// One listed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file name (lossily converted when not UTF-8).
    pub name: String,
    /// What it is.
    pub kind: EntryKind,
    /// The size in bytes, for files.
    pub size: Option<u64>,
    /// Where it points, for symlinks.
    pub link_target: Option<String>,
}

/// A directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The directory, relative to the root.
    pub rel: String,
    /// The entries shown, sorted by name.
    pub entries: Vec<Entry>,
    /// How many entries the directory has (excluding hidden ones).
    pub total: usize,
}

impl Listing {
    /// Whether entries were left out because of the cap.
    pub fn truncated(&self) -> bool {
        self.total > self.entries.len()
    }

    /// The listing as text, one entry a line: `file  README.md  (1234 bytes)`.
    pub fn render(&self) -> String {
        let mut out = if self.total == 0 {
            format!("Directory {:?} is empty.\n", self.rel)
        } else {
            format!("Directory {:?} ({}):\n", self.rel, entries(self.total))
        };
        for e in &self.entries {
            let name = one_line(&e.name, 300);
            let line = match (e.kind, e.size, &e.link_target) {
                (EntryKind::Dir, _, _) => format!("dir      {name}/"),
                (EntryKind::File, Some(size), _) => format!("file     {name}  ({size} bytes)"),
                (EntryKind::Symlink, _, Some(t)) => {
                    format!("symlink  {name} -> {}", one_line(t, 300))
                }
                (kind, _, _) => format!("{:<8} {name}", kind.as_str()),
            };
            out.push_str(&line);
            out.push('\n');
        }
        if self.truncated() {
            out.push_str(&format!(
                "[truncated: showing the first {} of {} entries, sorted by name; \
                 list a subdirectory to narrow it down]\n",
                self.entries.len(),
                self.total
            ));
        }
        out
    }
}

/// "1 entry", "3 entries".
fn entries(n: usize) -> String {
    if n == 1 {
        "1 entry".to_string()
    } else {
        format!("{n} entries")
    }
}

/// Lists a directory inside the repository.
pub fn list(guard: &PathGuard, path: &str) -> Result<Listing, ToolError> {
    list_capped(guard, path, LIST_CAP)
}

/// [`list`] with a custom cap (tests use a small one).
pub(crate) fn list_capped(guard: &PathGuard, path: &str, cap: usize) -> Result<Listing, ToolError> {
    let r = guard.existing(path)?;
    let io_err = |e| ToolError::io("list", path, e);
    if r.rel != "." {
        let (parent, name) = beneath::split(&r.rel);
        let parent = beneath::open_dir(guard.dir(), parent).map_err(io_err)?;
        let meta = beneath::lstat(&parent, name).map_err(io_err)?;
        if meta.is_file() {
            return Err(ToolError::NotADirectory { path: path.into() });
        }
        if !meta.is_dir() {
            return Err(ToolError::NotARegularFile { path: path.into() });
        }
    }
    // Opened through the root handle without following links: a directory swapped for a
    // link to outside after the check fails here instead of being listed.
    let dir = beneath::open_dir(guard.dir(), &r.rel).map_err(io_err)?;
    let at_root = r.rel == ".";
    let mut found = Vec::new();
    for item in dir.entries().map_err(io_err)? {
        let item = item.map_err(io_err)?;
        let name = item.file_name().to_string_lossy().into_owned();
        if at_root && HIDDEN_AT_ROOT.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        found.push((name, item));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let total = found.len();
    // Metadata only for the shown entries: huge directories stay cheap.
    let entries = found
        .into_iter()
        .take(cap)
        .map(|(name, item)| describe(&dir, name, &item))
        .collect();
    Ok(Listing {
        rel: r.rel,
        entries,
        total,
    })
}

/// Kind, size and link target of one entry, without following symlinks.
fn describe(dir: &Dir, name: String, item: &DirEntry) -> Entry {
    let meta = item.metadata().ok();
    let ft = meta.as_ref().map(cap_std::fs::Metadata::file_type);
    let kind = match ft {
        Some(t) if t.is_symlink() => EntryKind::Symlink,
        Some(t) if t.is_dir() => EntryKind::Dir,
        Some(t) if t.is_file() => EntryKind::File,
        _ => EntryKind::Other,
    };
    let size = match (kind, &meta) {
        (EntryKind::File, Some(m)) => Some(m.len()),
        _ => None,
    };
    let link_target = match kind {
        EntryKind::Symlink => dir
            .read_link_contents(item.file_name())
            .ok()
            .map(|t| t.to_string_lossy().into_owned()),
        _ => None,
    };
    Entry {
        name,
        kind,
        size,
        link_target,
    }
}

/// A text file as read by `fs.read`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFile {
    /// The file, relative to the root.
    pub rel: String,
    /// The text (the first [`READ_CAP`] bytes at most).
    pub text: String,
    /// The file's full size in bytes.
    pub size: u64,
    /// Whether only the beginning is in `text`.
    pub truncated: bool,
    /// Whether invalid UTF-8 after the first 8 KiB was replaced with U+FFFD.
    pub lossy: bool,
}

impl TextFile {
    /// The text plus notes on truncation or replaced bytes, for the model.
    pub fn render(&self) -> String {
        if self.size == 0 {
            return format!("[{:?} is empty (0 bytes)]", self.rel);
        }
        let mut out = self.text.clone();
        for note in self.notes() {
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!("[{note}]\n"));
        }
        out
    }

    /// Notes about what the text leaves out, one sentence each.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.truncated {
            notes.push(format!(
                "truncated: showing the first {} bytes of {} ({}); fs.read returns at most {}",
                self.text.len(),
                self.size,
                human_size(self.size),
                human_size(READ_CAP as u64)
            ));
        }
        if self.lossy {
            notes.push("some bytes were not valid UTF-8 and were replaced with U+FFFD".to_string());
        }
        notes
    }
}

/// Reads a UTF-8 text file inside the repository.
pub fn read(guard: &PathGuard, path: &str) -> Result<TextFile, ToolError> {
    read_capped(guard, path, READ_CAP)
}

/// [`read`] with a custom cap (tests use a small one).
pub(crate) fn read_capped(
    guard: &PathGuard,
    path: &str,
    cap: usize,
) -> Result<TextFile, ToolError> {
    let r = guard.existing(path)?;
    let file = open_regular_file(guard, &r, path, "read")?;
    let size = file
        .metadata()
        .map_err(|e| ToolError::io("read", path, e))?
        .len();
    let mut buf = Vec::new();
    // One byte past the cap tells whether there is more.
    file.take(cap as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ToolError::io("read", path, e))?;
    let truncated = buf.len() > cap;
    buf.truncate(cap);
    if let Some(why) = sniff_binary(&buf, truncated) {
        return Err(ToolError::Binary {
            path: path.into(),
            why,
            action: "read",
        });
    }
    let (text, lossy) = match String::from_utf8(buf) {
        Ok(s) => (s, false),
        Err(e) => {
            let err = e.utf8_error();
            let mut bytes = e.into_bytes();
            if truncated && err.error_len().is_none() {
                // The cap split a character: drop its first bytes.
                bytes.truncate(err.valid_up_to());
                (String::from_utf8_lossy(&bytes).into_owned(), false)
            } else {
                (String::from_utf8_lossy(&bytes).into_owned(), true)
            }
        }
    };
    Ok(TextFile {
        rel: r.rel,
        size: size.max(text.len() as u64),
        text,
        truncated,
        lossy,
    })
}

/// Opens the resolved regular file `r` for reading through the root handle (no symbolic link
/// followed), or says why it is not one.
pub(crate) fn open_regular_file(
    guard: &PathGuard,
    r: &Resolved,
    path: &str,
    action: &'static str,
) -> Result<fs::File, ToolError> {
    let io_err = |e| ToolError::io(action, path, e);
    let (parent, name) = beneath::split(&r.rel);
    let dir = beneath::open_dir(guard.dir(), parent).map_err(io_err)?;
    let meta = beneath::lstat(&dir, name).map_err(io_err)?;
    if meta.is_dir() {
        return Err(ToolError::IsADirectory { path: path.into() });
    }
    if !meta.is_file() {
        // Opening a FIFO would block; devices are never what the user meant.
        return Err(ToolError::NotARegularFile { path: path.into() });
    }
    beneath::open_read(&dir, name).map_err(io_err)
}

/// `fs.list`: an empty path means the root, since models often send one.
pub(crate) fn run_list(args: ListArgs, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
    let guard = PathGuard::new(&ctx.repo_root)?;
    let path = if args.path.trim().is_empty() {
        "."
    } else {
        args.path.as_str()
    };
    let listing = list(&guard, path)?;
    let summary = format!(
        "{} ({})",
        one_line(&listing.rel, 80),
        entries(listing.total)
    );
    Ok(ToolOutput {
        content: listing.render(),
        summary,
        proposal: None,
    })
}

/// `fs.read`.
pub(crate) fn run_read(args: ReadArgs, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
    let guard = PathGuard::new(&ctx.repo_root)?;
    let file = read(&guard, &args.path)?;
    let mut summary = format!("{} ({})", one_line(&file.rel, 80), human_size(file.size));
    if file.truncated {
        summary.push_str(", truncated");
    }
    Ok(ToolOutput {
        content: file.render(),
        summary,
        proposal: None,
    })
}

/// `fs.write`: stores a proposal; the file itself is not touched.
pub(crate) fn run_write(args: WriteArgs, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
    let created = proposals::create(&ctx.repo_root, &args.path, &args.content)?;
    let p = &created.proposal;
    let mut content = format!(
        "Stored proposal {id} for {path:?}. The file has NOT been changed.\n\
         The user can review it with `goshi fs show {id}` and apply it with:\n\
         goshi fs apply {id} --yes --dry-run=false\n\n",
        id = p.id,
        path = p.path,
    );
    let (added, removed) = ProposalNote::count_lines(&created.diff);
    let (diff, cut) = cap_bytes(&created.diff, DIFF_CAP);
    if diff.is_empty() {
        content.push_str("(no changes: the proposed content is identical to the current file)\n");
    } else {
        content.push_str(diff);
        if cut {
            content.push_str(&format!(
                "\n[diff truncated: {} of {}; `goshi fs show {}` shows all of it]\n",
                human_size(diff.len() as u64),
                human_size(created.diff.len() as u64),
                p.short_id()
            ));
        }
    }
    Ok(ToolOutput {
        content,
        summary: format!("proposal {} for {}", p.short_id(), one_line(&p.path, 80)),
        proposal: Some(ProposalNote {
            id: p.id.clone(),
            short_id: p.short_id().to_string(),
            path: p.path.clone(),
            added,
            removed,
        }),
    })
}

#[cfg(test)]
#[path = "fs_tests.rs"]
mod tests;
