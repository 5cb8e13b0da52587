//! The tool registry: one definition per tool, argument validation, dispatch.
//!
//! Each tool's JSON Schema is derived with schemars from the same struct its arguments are
//! parsed into, so the schema the model sees and the parser cannot drift apart. Arguments are
//! validated completely before a handler runs.
//!
//! The registry does not check permissions: the caller asks [`crate::safety::permissions`] for
//! [`Registry::capability_of`] first.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::fs::{run_list, run_read, run_write, ListArgs, ReadArgs, WriteArgs};
use super::schema::{drop_nulls, schema_of};
use super::{ToolContext, ToolOutput};
use crate::llm::ToolDefinition;
use crate::safety::path_guard::PathGuard;
use crate::safety::permissions::Capability;
use crate::safety::ToolError;
use crate::text::one_line;

/// Longest argument summary, in characters.
const SUMMARY_CHARS: usize = 120;

type Runner = Box<dyn Fn(Value, &ToolContext) -> Result<ToolOutput, ToolError> + Send + Sync>;
type Validator = Box<dyn Fn(&str) -> Result<(), ToolError> + Send + Sync>;
type Summarizer = Box<dyn Fn(&Value, &ToolContext) -> Option<String> + Send + Sync>;

/// One registered tool.
struct ToolSpec {
    name: &'static str,
    description: &'static str,
    capability: Capability,
    parameters: Value,
    run: Runner,
    validate: Validator,
    summarize: Summarizer,
}

/// The tools the model may call.
pub struct Registry {
    tools: Vec<ToolSpec>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Registry {
    /// The built-in tools: `fs.list`, `fs.read`, `fs.write`.
    pub fn builtin() -> Registry {
        let tools = vec![
            spec::<ListArgs>(
                "fs.list",
                "List a directory in the repository: each entry's type (file, dir or symlink) \
                 and size, sorted by name, at most 1000 entries. Paths are relative to the \
                 repository root; use \".\" for the root.",
                Capability::FsRead,
                run_list,
                |a, ctx| shown_path(&a.path, ctx),
            ),
            spec::<ReadArgs>(
                "fs.read",
                "Read a UTF-8 text file in the repository. Returns at most 256 KiB (longer files \
                 are truncated, with a note giving the full size); binary files and directories \
                 are refused. Paths are relative to the repository root.",
                Capability::FsRead,
                run_read,
                |a, ctx| shown_path(&a.path, ctx),
            ),
            spec::<WriteArgs>(
                "fs.write",
                "Propose the complete new content of a file in the repository (to create or \
                 replace it). The file is NOT changed: goshi stores a proposal and returns its id \
                 and a unified diff; the user reviews it and applies it with `goshi fs apply`.",
                Capability::FsWrite,
                run_write,
                |a, ctx| format!("{} ({} bytes)", shown_path(&a.path, ctx), a.content.len()),
            ),
        ];
        Registry { tools }
    }

    /// The tool names, in registration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.tools.iter().map(|t| t.name).collect()
    }

    /// The definitions to send to the model.
    pub fn definitions(&self) -> Vec<ToolDefinition> {
        self.tools
            .iter()
            .map(|t| ToolDefinition {
                name: t.name.to_string(),
                description: t.description.to_string(),
                parameters: t.parameters.clone(),
            })
            .collect()
    }

    /// The capability a tool needs, or `None` for an unknown tool.
    pub fn capability_of(&self, name: &str) -> Option<Capability> {
        self.find(name).map(|t| t.capability)
    }

    /// Validates `arguments_json` and runs the tool. Permissions are not checked here.
    pub fn run(
        &self,
        name: &str,
        arguments_json: &str,
        ctx: &ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        let tool = self.find(name).ok_or_else(|| self.unknown(name))?;
        (tool.run)(parse_json(name, arguments_json)?, ctx)
    }

    /// [`Registry::run`] with arguments already parsed as JSON (the chat loop parses each
    /// call's arguments once). Permissions are not checked here.
    pub fn run_value(
        &self,
        name: &str,
        arguments: Value,
        ctx: &ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        let tool = self.find(name).ok_or_else(|| self.unknown(name))?;
        (tool.run)(arguments, ctx)
    }

    /// Checks `arguments_json` against the tool's arguments without running anything.
    pub fn validate(&self, name: &str, arguments_json: &str) -> Result<(), ToolError> {
        let tool = self.find(name).ok_or_else(|| self.unknown(name))?;
        (tool.validate)(arguments_json)
    }

    /// A short, single-line description of a call's arguments for the permission prompt,
    /// status lines and the audit log, e.g. the path as it resolves in the repository. Never
    /// fails: invalid arguments still give a best-effort summary.
    pub fn summarize_args(&self, name: &str, arguments_json: &str, ctx: &ToolContext) -> String {
        let text = arguments_json.trim();
        let value = if text.is_empty() {
            // Like parse_args: no text is an empty object.
            Some(Value::Object(Map::new()))
        } else {
            serde_json::from_str::<Value>(text).ok()
        };
        self.summarize_value(name, value.as_ref(), ctx)
    }

    /// [`Registry::summarize_args`] for arguments already parsed as JSON (`None`: the text
    /// was not JSON).
    pub fn summarize_value(
        &self,
        name: &str,
        arguments: Option<&Value>,
        ctx: &ToolContext,
    ) -> String {
        let typed = arguments.and_then(|v| self.find(name).and_then(|t| (t.summarize)(v, ctx)));
        let text = typed.unwrap_or_else(|| fallback_summary(arguments));
        one_line(&text, SUMMARY_CHARS)
    }

    fn find(&self, name: &str) -> Option<&ToolSpec> {
        self.tools.iter().find(|t| t.name == name)
    }

    fn unknown(&self, name: &str) -> ToolError {
        ToolError::UnknownTool {
            name: name.to_string(),
            known: self.names().iter().map(|n| n.to_string()).collect(),
        }
    }
}

/// Builds a tool from its argument type, handler and summary function.
fn spec<A: DeserializeOwned + JsonSchema + 'static>(
    name: &'static str,
    description: &'static str,
    capability: Capability,
    handler: fn(A, &ToolContext) -> Result<ToolOutput, ToolError>,
    summarize: fn(&A, &ToolContext) -> String,
) -> ToolSpec {
    ToolSpec {
        name,
        description,
        capability,
        parameters: schema_of::<A>(),
        run: Box::new(move |args, ctx| handler(from_value::<A>(name, args)?, ctx)),
        validate: Box::new(move |args| parse_args::<A>(name, args).map(drop)),
        summarize: Box::new(move |args, ctx| {
            // Borrowed, not cloned: fs.write's content may be large.
            let typed = args
                .is_object()
                .then(|| A::deserialize(args).ok())
                .flatten();
            typed.map(|a| summarize(&a, ctx))
        }),
    }
}

/// Longest path in a summary, in characters; a longer one keeps its end (the name).
const PATH_CHARS: usize = 100;

/// A path as the user should judge it: resolved and relative to the repository
/// (`src/./././x/../../.env` reads `.env`), its end kept when long, never cut where it matters.
/// A path the guard refuses is shown as given (the tool's refusal follows it).
fn shown_path(path: &str, ctx: &ToolContext) -> String {
    let resolved = PathGuard::new(&ctx.repo_root).and_then(|g| g.target(path));
    let shown = match &resolved {
        Ok(r) => r.rel.as_str(),
        Err(_) => path,
    };
    keep_end(&one_line(shown, usize::MAX), PATH_CHARS)
}

/// `s` (already escaped) cut to its last `max` characters after `…` when longer.
fn keep_end(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let tail: String = s.chars().skip(n - max).collect();
    format!("…{tail}")
}

/// Parses a tool's arguments, naming the offending field on failure. A `null` member of
/// any object counts as absent (see [`super::schema`]).
pub fn parse_args<A: DeserializeOwned>(tool: &str, arguments_json: &str) -> Result<A, ToolError> {
    from_value(tool, parse_json(tool, arguments_json)?)
}

fn invalid(tool: &str, detail: String) -> ToolError {
    ToolError::InvalidArguments {
        tool: tool.to_string(),
        detail,
    }
}

/// The arguments text as JSON (any kind; an empty text is `{}`).
fn parse_json(tool: &str, arguments_json: &str) -> Result<Value, ToolError> {
    // Some models send nothing for "no arguments"; that is an empty object.
    let text = match arguments_json.trim() {
        "" => "{}",
        t => t,
    };
    serde_json::from_str(text).map_err(|e| {
        invalid(
            tool,
            format!(
                "the arguments are not valid JSON ({e}); send a JSON object such as \
                 {{\"path\": \"README.md\"}}"
            ),
        )
    })
}

/// Parsed arguments as the tool's argument type, naming the offending field on failure.
fn from_value<A: DeserializeOwned>(tool: &str, mut value: Value) -> Result<A, ToolError> {
    let invalid = |detail: String| invalid(tool, detail);
    if !value.is_object() {
        return Err(invalid(format!(
            "the arguments must be a JSON object, not {}",
            json_kind(&value)
        )));
    }
    // Strict schemas spell an optional argument as nullable: `null` means "not given".
    drop_nulls(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = field_quotes(&e.inner().to_string());
        if path == "." || path.is_empty() {
            invalid(inner)
        } else {
            invalid(format!("field \"{path}\": {inner}"))
        }
    })
}

/// serde quotes field names with backticks; people and models read double quotes better.
fn field_quotes(msg: &str) -> String {
    if msg.starts_with("missing field") || msg.starts_with("unknown field") {
        msg.replace('`', "\"")
    } else {
        msg.to_string()
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The `path` field if there is one, else a generic note.
fn fallback_summary(arguments: Option<&Value>) -> String {
    arguments
        .and_then(|v| v.get("path").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| "(invalid arguments)".to_string())
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
