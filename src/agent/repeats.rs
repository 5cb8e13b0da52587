//! The runaway-loop breaker: counts calls of one tool with identical arguments in a turn.

use serde_json::Value;

use crate::llm::ToolCall;

/// Calls seen this turn, by tool and arguments (a list: a turn has few calls, and JSON
/// values compare without regard to key order but do not hash).
#[derive(Default)]
pub struct Repeats {
    seen: Vec<(String, Value, u32)>,
}

impl Repeats {
    /// Counts `call`; returns how many identical calls ran before it. Arguments are
    /// compared as JSON values (key order and spacing do not make a call new), or as text
    /// when they are not JSON.
    pub fn count(&mut self, call: &ToolCall) -> u32 {
        // Text that is not JSON is compared as a JSON string of itself.
        let args = serde_json::from_str::<Value>(&call.arguments)
            .unwrap_or_else(|_| Value::String(call.arguments.clone()));
        match self
            .seen
            .iter_mut()
            .find(|(name, a, _)| *name == call.name && *a == args)
        {
            Some((_, _, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                self.seen.push((call.name.clone(), args, 1));
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &str) -> ToolCall {
        ToolCall {
            id: "c".into(),
            name: name.into(),
            arguments: args.into(),
        }
    }

    #[test]
    fn identical_means_same_tool_and_same_json() {
        let mut r = Repeats::default();
        assert_eq!(r.count(&call("fs.read", r#"{"path":"a","x":1}"#)), 0);
        assert_eq!(r.count(&call("fs.read", r#"{ "x": 1, "path": "a" }"#)), 1);
        assert_eq!(r.count(&call("fs.read", r#"{"path":"b"}"#)), 0);
        assert_eq!(r.count(&call("fs.list", r#"{"path":"a","x":1}"#)), 0);
        assert_eq!(r.count(&call("fs.read", "not json")), 0);
        assert_eq!(r.count(&call("fs.read", "not json")), 1);
    }
}
