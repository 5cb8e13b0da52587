//! Small text helpers, a leaf module every layer may use: sizes, safe one-line display,
//! capped output, [`sanitize`]: terminal-safe escaping of untrusted text, and [`redact`]:
//! masking secrets (for the audit trail and for server text shown to people).

pub mod redact;
pub mod sanitize;

/// A byte count for people: `512 B`, `1.2 KiB`, `3.4 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Precision loss is irrelevant for a one-decimal display.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// `s` on one line, at most `max_chars` characters of it (plus `…`), with controls, escape
/// sequences, bidi and invisible format characters shown escaped (see [`sanitize`]), so model-
/// or file-chosen text cannot fake output lines, reorder what is read or rewrite the terminal.
pub fn one_line(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", sanitize::line(&s[..end])),
        None => sanitize::line(s).into_owned(),
    }
}

/// The first `max_bytes` of `s` (cut at a character boundary) and whether anything was cut.
pub fn cap_bytes(s: &str, max_bytes: usize) -> (&str, bool) {
    if s.len() <= max_bytes {
        return (s, false);
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

/// How much of a file [`sniff_binary`] checks for valid UTF-8.
pub const SNIFF_LEN: usize = 8 * 1024;

/// Why `bytes` look binary, if they do: a NUL byte anywhere (all of `bytes` is checked, so a
/// file that turns binary past its first KiB is still caught), or invalid UTF-8 in the first
/// [`SNIFF_LEN`] bytes. `more` says the data continues past `bytes`, so a character cut at the
/// end of the window is not an error.
pub fn sniff_binary(bytes: &[u8], more: bool) -> Option<&'static str> {
    let window = &bytes[..bytes.len().min(SNIFF_LEN)];
    if memchr::memchr(0, bytes).is_some() {
        return Some("it contains NUL bytes");
    }
    match std::str::from_utf8(window) {
        Ok(_) => None,
        Err(e) if e.error_len().is_none() && (more || bytes.len() > window.len()) => None,
        Err(_) => Some("it is not valid UTF-8"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1.0 KiB");
        assert_eq!(human_size(1229), "1.2 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(human_size(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn one_line_escapes_and_caps() {
        assert_eq!(one_line("a\nb\x1b", 10), "a\\nb\\x1b");
        assert_eq!(one_line("\u{202e}abc", 2), "\\u{202e}a…");
        assert_eq!(one_line("héllo", 2), "hé…");
    }

    #[test]
    fn a_nul_byte_anywhere_is_binary() {
        let mut late = vec![b'a'; 100 * 1024];
        assert_eq!(sniff_binary(&late, false), None);
        late.push(0);
        assert_eq!(sniff_binary(&late, false), Some("it contains NUL bytes"));
    }

    #[test]
    fn cap_bytes_respects_char_boundaries() {
        assert_eq!(cap_bytes("abc", 5), ("abc", false));
        assert_eq!(cap_bytes("aé", 2), ("a", true));
        assert_eq!(cap_bytes("aéb", 3), ("aé", true));
    }
}
