//! OpenAI's Chat Completions `tool_choice`. The messages and tools are in the shape shared
//! with Ollama: [`crate::llm::chat_wire`].

use serde_json::{json, Value};

use crate::llm::toolname::ToolNameMap;
use crate::llm::types::ToolChoice;

/// The `tool_choice` value.
pub fn tool_choice_json(choice: &ToolChoice, names: &ToolNameMap) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::Required => json!("required"),
        ToolChoice::None => json!("none"),
        ToolChoice::Named(n) => json!({"type": "function", "function": {"name": names.wire(n)}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::types::ToolDefinition;

    #[test]
    fn tool_choice_forms() {
        let defs = vec![ToolDefinition {
            name: "fs.read".into(),
            description: "Read a file".into(),
            parameters: json!({"type": "object"}),
        }];
        let names = ToolNameMap::new(&defs);
        assert_eq!(
            tool_choice_json(&ToolChoice::Named("fs.read".into()), &names),
            json!({"type": "function", "function": {"name": "fs_read"}})
        );
        assert_eq!(tool_choice_json(&ToolChoice::Auto, &names), "auto");
        assert_eq!(tool_choice_json(&ToolChoice::Required, &names), "required");
        assert_eq!(tool_choice_json(&ToolChoice::None, &names), "none");
    }
}
