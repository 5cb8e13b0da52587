//! Colours in one place: the colour decision (`--color`, `NO_COLOR`, `CLICOLOR_FORCE`,
//! `TERM=dumb`, terminal or not) and the roles goshi paints (diff lines, doctor levels,
//! errors, tool status, markdown).
//!
//! Conventions honoured (checked 2026-11-30): <https://no-color.org> (`NO_COLOR` set and not
//! empty turns colour off; a command-line flag overrides it) and
//! <https://bixense.com/clicolors/> (`CLICOLOR_FORCE` set and not `0` turns colour on even when
//! not writing to a terminal). Colour is only ever goshi's own SGR sequences around text that
//! was already made terminal-safe.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::OnceLock;

/// When to use colour (`--color`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` or `TERM=dumb` say otherwise; `CLICOLOR_FORCE` forces it.
    #[default]
    Auto,
    /// Always, even on a pipe.
    Always,
    /// Never.
    Never,
}

/// What the environment says about colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColorEnv {
    /// `NO_COLOR` is set and not empty.
    pub no_color: bool,
    /// `CLICOLOR_FORCE` is set and not `0` (nor empty).
    pub clicolor_force: bool,
    /// `TERM=dumb`: a terminal without escape sequences.
    pub term_dumb: bool,
}

impl ColorEnv {
    /// Reads `NO_COLOR`, `CLICOLOR_FORCE` and `TERM` from this process's environment.
    pub fn from_process() -> Self {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        ColorEnv {
            no_color: var("NO_COLOR").is_some(),
            clicolor_force: var("CLICOLOR_FORCE").is_some_and(|v| v != "0"),
            term_dumb: var("TERM").is_some_and(|v| v == "dumb"),
        }
    }
}

/// Whether output to a stream should be coloured. `--color always|never` wins over the
/// environment; under `auto`, `NO_COLOR` beats `CLICOLOR_FORCE`, which beats the terminal test.
pub fn use_color(choice: ColorChoice, env: ColorEnv, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if env.no_color => false,
        ColorChoice::Auto if env.clicolor_force => true,
        ColorChoice::Auto => is_terminal && !env.term_dumb,
    }
}

static CHOICE: OnceLock<ColorChoice> = OnceLock::new();

/// Records the `--color` choice for the whole process (the first call wins).
pub fn set_choice(choice: ColorChoice) {
    let _ = CHOICE.set(choice);
}

/// The `--color` choice of this process (`auto` until [`set_choice`] is called).
pub fn choice() -> ColorChoice {
    CHOICE.get().copied().unwrap_or_default()
}

/// What a piece of output is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A diff's added line.
    Added,
    /// A diff's removed line.
    Removed,
    /// A diff's `@@` hunk header.
    Hunk,
    /// A diff's `---`/`+++` file header.
    DiffHeader,
    /// doctor: a check that passed.
    Pass,
    /// doctor: a warning.
    Warn,
    /// doctor: a failed check.
    Fail,
    /// The `error:` label.
    Error,
    /// The `warning:` label.
    Warning,
    /// The `hint:` label.
    Hint,
    /// A tool's name in its status line.
    Tool,
    /// A tool that succeeded.
    Ok,
    /// Secondary text: fences, rules, borders, URLs.
    Dim,
    /// A first-level heading.
    Heading1,
    /// Other headings.
    Heading,
    /// Emphasis.
    Emphasis,
    /// Strong emphasis.
    Strong,
    /// Struck-through text.
    Strike,
    /// Inline code.
    Code,
    /// A link's text.
    Link,
    /// A list bullet or number.
    Bullet,
}

impl Role {
    /// The SGR parameters of this role (the part between `ESC[` and `m`).
    pub fn sgr(self) -> &'static str {
        match self {
            Role::Added | Role::Pass | Role::Ok => "32",
            Role::Removed => "31",
            Role::Hunk => "36",
            Role::DiffHeader | Role::Tool | Role::Strong => "1",
            Role::Warn | Role::Bullet => "33",
            Role::Fail | Role::Error => "1;31",
            Role::Warning => "1;33",
            Role::Hint => "1;36",
            Role::Dim => "2",
            Role::Heading1 => "1;4;35",
            Role::Heading => "1;35",
            Role::Emphasis => "3",
            Role::Strike => "9",
            Role::Code => "36",
            Role::Link => "4;34",
        }
    }
}

/// Paints text by role, or leaves it as it is when colour is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    on: bool,
}

impl Palette {
    /// A palette that paints nothing.
    pub const OFF: Palette = Palette { on: false };
    /// A palette that paints.
    pub const ON: Palette = Palette { on: true };

    /// The palette for a stream, by the process's `--color` choice and environment, and
    /// whether the stream is a terminal.
    pub fn for_stream(is_terminal: bool) -> Palette {
        Palette {
            on: use_color(choice(), ColorEnv::from_process(), is_terminal),
        }
    }

    /// The palette for this process's stdout.
    pub fn stdout() -> Palette {
        Palette::for_stream(std::io::stdout().is_terminal())
    }

    /// Whether this palette paints.
    pub fn is_on(self) -> bool {
        self.on
    }

    /// `text` in the colour of `role` (and the reset after it), or as it is.
    pub fn paint(self, role: Role, text: &str) -> Cow<'_, str> {
        if self.on && !text.is_empty() {
            Cow::Owned(format!("\x1b[{}m{text}\x1b[0m", role.sgr()))
        } else {
            Cow::Borrowed(text)
        }
    }

    /// A unified diff with added, removed, hunk and header lines coloured; context lines stay
    /// as they are. The diff's text must already be terminal-safe.
    pub fn diff(self, diff: &str) -> String {
        if !self.on {
            return diff.to_string();
        }
        let mut out = String::with_capacity(diff.len() + diff.len() / 8);
        for line in diff.split_inclusive('\n') {
            let (body, end) = match line.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (line, ""),
            };
            let role = if body.starts_with("+++") || body.starts_with("---") {
                Some(Role::DiffHeader)
            } else if body.starts_with("@@") {
                Some(Role::Hunk)
            } else if body.starts_with('+') {
                Some(Role::Added)
            } else if body.starts_with('-') {
                Some(Role::Removed)
            } else {
                None
            };
            match role {
                Some(r) => out.push_str(&self.paint(r, body)),
                None => out.push_str(body),
            }
            out.push_str(end);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(no_color: bool, clicolor_force: bool, term_dumb: bool) -> ColorEnv {
        ColorEnv {
            no_color,
            clicolor_force,
            term_dumb,
        }
    }

    #[test]
    fn auto_follows_the_terminal_and_the_environment() {
        let a = ColorChoice::Auto;
        assert!(use_color(a, ColorEnv::default(), true));
        assert!(!use_color(a, ColorEnv::default(), false));
        assert!(!use_color(a, env(true, false, false), true));
        assert!(use_color(a, env(false, true, false), false));
        // NO_COLOR beats CLICOLOR_FORCE; TERM=dumb turns a terminal plain.
        assert!(!use_color(a, env(true, true, false), true));
        assert!(!use_color(a, env(false, false, true), true));
        assert!(use_color(a, env(false, true, true), true));
    }

    #[test]
    fn the_flag_overrides_the_environment() {
        assert!(use_color(
            ColorChoice::Always,
            env(true, false, true),
            false
        ));
        assert!(!use_color(
            ColorChoice::Never,
            env(false, true, false),
            true
        ));
    }

    #[test]
    fn paint_is_identity_when_off() {
        assert_eq!(Palette::OFF.paint(Role::Error, "x"), "x");
        assert_eq!(Palette::ON.paint(Role::Error, "x"), "\x1b[1;31mx\x1b[0m");
        assert_eq!(Palette::ON.paint(Role::Error, ""), "");
    }

    #[test]
    fn diffs_colour_added_removed_hunks_and_headers() {
        let d = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-old\n+new\n same\n\\ No newline";
        assert_eq!(Palette::OFF.diff(d), d);
        let c = Palette::ON.diff(d);
        assert_eq!(
            c,
            "\x1b[1m--- a/f\x1b[0m\n\x1b[1m+++ b/f\x1b[0m\n\x1b[36m@@ -1 +1 @@\x1b[0m\n\
             \x1b[31m-old\x1b[0m\n\x1b[32m+new\x1b[0m\n same\n\\ No newline"
        );
    }
}
