//! Wire-safe tool names.
//!
//! OpenAI function names must match `^[a-zA-Z0-9_-]{1,64}$`, so goshi's dotted names
//! (`fs.read`) travel as `fs_read` and are mapped back exactly, per request, from the
//! tools that request offered.

use std::collections::HashMap;

use super::types::ToolDefinition;

/// The two-way mapping between goshi's tool names and the names sent on the wire.
#[derive(Debug, Clone, Default)]
pub struct ToolNameMap {
    to_wire: HashMap<String, String>,
    from_wire: HashMap<String, String>,
}

impl ToolNameMap {
    /// Builds the mapping for the tools of one request. Distinct goshi names always get
    /// distinct wire names (a clash gets a numeric suffix).
    pub fn new(tools: &[ToolDefinition]) -> Self {
        let mut map = ToolNameMap::default();
        for tool in tools {
            let base = sanitize(&tool.name);
            let mut wire = base.clone();
            let mut n = 2;
            while map.from_wire.contains_key(&wire) {
                let suffix = format!("_{n}");
                let keep = 64usize.saturating_sub(suffix.len()).min(base.len());
                wire = format!("{}{suffix}", &base[..keep]);
                n += 1;
            }
            map.to_wire.insert(tool.name.clone(), wire.clone());
            map.from_wire.insert(wire, tool.name.clone());
        }
        map
    }

    /// The wire name of a goshi tool name (sanitized even when unknown).
    pub fn wire(&self, name: &str) -> String {
        self.to_wire
            .get(name)
            .cloned()
            .unwrap_or_else(|| sanitize(name))
    }

    /// The goshi name for a wire name; an unknown wire name is returned as it came, so
    /// the chat loop can tell the model that no such tool exists.
    pub fn goshi(&self, wire: &str) -> String {
        self.from_wire
            .get(wire)
            .cloned()
            .unwrap_or_else(|| wire.to_string())
    }
}

/// Replaces every character outside `[a-zA-Z0-9_-]` with `_` and keeps at most 64.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if out.is_empty() {
        out.push_str("tool");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(name: &str) -> ToolDefinition {
        ToolDefinition {
            name: name.into(),
            description: String::new(),
            parameters: json!({"type": "object"}),
        }
    }

    #[test]
    fn dotted_names_round_trip() {
        let m = ToolNameMap::new(&[def("fs.read"), def("fs.list")]);
        assert_eq!(m.wire("fs.read"), "fs_read");
        assert_eq!(m.goshi("fs_read"), "fs.read");
        assert_eq!(m.goshi("fs_list"), "fs.list");
        assert_eq!(m.goshi("nope"), "nope");
    }

    #[test]
    fn clashing_names_stay_distinct() {
        let m = ToolNameMap::new(&[def("fs.read"), def("fs_read")]);
        let a = m.wire("fs.read");
        let b = m.wire("fs_read");
        assert_ne!(a, b);
        assert_eq!(m.goshi(&a), "fs.read");
        assert_eq!(m.goshi(&b), "fs_read");
    }

    #[test]
    fn wire_names_match_openai_pattern() {
        let long = "x.".repeat(80);
        for name in ["fs.read", "a b/c", "", long.as_str(), "ünï"] {
            let w = sanitize(name);
            assert!(!w.is_empty() && w.len() <= 64, "{w}");
            assert!(w
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        }
    }
}
