//! Incremental newline-delimited JSON splitter (Ollama's streaming format).
//!
//! It only finds line boundaries; parsing each line as JSON is the caller's job, so a bad line
//! can be reported with its text. Complete lines are taken straight from the input slice; only
//! an unfinished trailing line is copied.

use memchr::memchr_iter;

/// Splits a byte stream into its non-blank lines.
#[derive(Debug, Default)]
pub struct NdjsonDecoder {
    /// An unterminated line carried over to the next chunk.
    partial: Vec<u8>,
}

impl NdjsonDecoder {
    /// Bytes held for a line that has not ended yet.
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes split anywhere; appends each complete non-blank line (without its "\n" or
    /// "\r\n") to `out`. Invalid UTF-8 is replaced with U+FFFD.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<String>) {
        let mut start = 0;
        for newline in memchr_iter(b'\n', chunk) {
            let piece = &chunk[start..newline];
            if self.partial.is_empty() {
                push_line(piece, out);
            } else {
                self.partial.extend_from_slice(piece);
                push_line(&self.partial, out);
                self.partial.clear();
            }
            start = newline + 1;
        }
        self.partial.extend_from_slice(&chunk[start..]);
    }

    /// End of stream: returns the final line if it had no newline and is not blank. The decoder
    /// is then empty and can be reused.
    pub fn finish(&mut self) -> Option<String> {
        let line = std::mem::take(&mut self.partial);
        (!is_blank(&line)).then(|| String::from_utf8_lossy(&line).into_owned())
    }
}

/// Appends `line` (minus a CR left over from a CRLF) unless it is blank.
fn push_line(line: &[u8], out: &mut Vec<String>) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if !is_blank(line) {
        out.push(String::from_utf8_lossy(line).into_owned());
    }
}

/// Whether a line holds nothing but ASCII whitespace (JSON's whitespace is all ASCII).
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `chunks` one after another; returns the lines and `finish()`.
    fn decode_chunks(chunks: &[&[u8]]) -> (Vec<String>, Option<String>) {
        let mut decoder = NdjsonDecoder::new();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk, &mut out);
        }
        (out, decoder.finish())
    }

    #[test]
    fn splits_lf_and_crlf_lines() {
        let (lines, last) = decode_chunks(&[b"{\"a\":1}\n{\"b\":2}\r\n{\"c\":3}\n"]);
        assert_eq!(lines, ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
        assert_eq!(last, None);
    }

    #[test]
    fn skips_blank_lines_but_keeps_inner_whitespace() {
        let (lines, last) = decode_chunks(&[b"\n  \r\n\t\n {\"a\": 1} \n\r\n"]);
        assert_eq!(lines, [" {\"a\": 1} "]);
        assert_eq!(last, None);
    }

    #[test]
    fn lines_split_across_chunks() {
        let input = "{\"t\":\"h\u{e9}\u{1F980}\"}\r\n{\"d\":true}\n".as_bytes();
        let pieces: Vec<&[u8]> = input.chunks(1).collect();
        let (lines, last) = decode_chunks(&pieces);
        assert_eq!(lines, ["{\"t\":\"h\u{e9}\u{1F980}\"}", "{\"d\":true}"]);
        assert_eq!(last, None);
        // CR and LF in different chunks still form one CRLF.
        assert_eq!(decode_chunks(&[b"{}\r", b"\n"]).0, ["{}"]);
    }

    #[test]
    fn final_line_without_newline_comes_from_finish() {
        assert_eq!(
            decode_chunks(&[b"{\"a\":1}\n{\"b\""]),
            (vec!["{\"a\":1}".to_string()], Some("{\"b\"".to_string()))
        );
        assert_eq!(decode_chunks(&[b"{}\n  \t"]).1, None);
        let mut decoder = NdjsonDecoder::new();
        decoder.feed(b"x", &mut Vec::new());
        assert_eq!(decoder.finish().as_deref(), Some("x"));
        assert_eq!(decoder.finish(), None, "finish empties the decoder");
    }

    /// `buffered` counts the bytes of the unfinished line: the stream's memory cap reads it.
    #[test]
    fn buffered_counts_the_unfinished_line() {
        let mut d = NdjsonDecoder::new();
        let mut out = Vec::new();
        assert_eq!(d.buffered(), 0);
        d.feed(b"{\"a\":1}\n{\"b\"", &mut out);
        assert_eq!(d.buffered(), 4);
        d.feed(b":22", &mut out);
        assert_eq!(d.buffered(), 7);
        d.feed(b"}\n", &mut out);
        assert_eq!(d.buffered(), 0);
        assert_eq!(out, ["{\"a\":1}", "{\"b\":22}"]);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let (lines, last) = decode_chunks(&[b"\xFFa\xF0\x9F\n", b"\xC3"]);
        assert_eq!(lines, ["\u{FFFD}a\u{FFFD}"]);
        assert_eq!(last.as_deref(), Some("\u{FFFD}"));
    }

    fn text() -> impl Strategy<Value = String> {
        let chars = vec![
            '{',
            '}',
            '"',
            ':',
            'a',
            '1',
            ' ',
            '\t',
            '\u{e9}',
            '\u{1F980}',
        ];
        prop::collection::vec(prop::sample::select(chars), 0..12)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn random_streams_match_model_under_any_split(
            lines in prop::collection::vec((text(), any::<bool>()), 0..8),
            terminated in any::<bool>(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let mut bytes = String::new();
            let mut want = Vec::new();
            let mut want_last = None;
            for (i, (text, crlf)) in lines.iter().enumerate() {
                bytes.push_str(text);
                if terminated || i + 1 < lines.len() {
                    bytes.push_str(if *crlf { "\r\n" } else { "\n" });
                    if !text.trim().is_empty() {
                        want.push(text.clone());
                    }
                } else if !text.trim().is_empty() {
                    want_last = Some(text.clone());
                }
            }
            let bytes = bytes.into_bytes();
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut start = 0;
            for cut in cuts {
                pieces.push(&bytes[start..cut]);
                start = cut;
            }
            pieces.push(&bytes[start..]);
            let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
            for chunks in [vec![&bytes[..]], pieces, bytewise] {
                let (got, got_last) = decode_chunks(&chunks);
                prop_assert_eq!(&got, &want);
                prop_assert_eq!(&got_last, &want_last);
            }
        }
    }
}
