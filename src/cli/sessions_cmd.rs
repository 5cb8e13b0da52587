//! `goshi sessions list|show|rm`: the saved conversations.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use super::terminal::Screen;
use crate::llm::Message;
use crate::sessions::{Conversation, SessionError, Store};
use crate::text::sanitize;

/// `goshi sessions` subcommands.
#[derive(Subcommand, Debug)]
pub enum SessionsCommand {
    /// List saved conversations, the most recent first
    List {
        /// Output format: text or json
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Show one conversation's messages
    Show {
        /// The conversation's id or name
        id: String,
        /// Output format: text or json
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Delete a conversation
    Rm {
        /// The conversation's id or name
        id: String,
    },
}

/// Runs a sessions command. Reading never creates the store.
pub fn run(cmd: &SessionsCommand) -> ExitCode {
    let screen = Screen::stdio();
    let Some(store) = Store::user() else {
        screen.error("there is no user data dir, so no saved conversations", None);
        return ExitCode::FAILURE;
    };
    let result = match cmd {
        SessionsCommand::List { format } => list(&store, format == "json"),
        SessionsCommand::Show { id, format } => store.load(id).map(|c| show(&c, format == "json")),
        SessionsCommand::Rm { id } => store
            .remove(id)
            .map(|()| format!("deleted conversation {}\n", sanitize::line(id))),
    };
    match result {
        Ok(text) => match screen.out(&text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        },
        Err(e @ SessionError::NotFound(_)) => {
            screen.error(
                &e.to_string(),
                Some("`goshi sessions list` shows the saved ones"),
            );
            ExitCode::from(2)
        }
        Err(e) => {
            screen.error(&e.to_string(), None);
            ExitCode::FAILURE
        }
    }
}

fn list(store: &Store, as_json: bool) -> Result<String, SessionError> {
    let all = store.list()?;
    if as_json {
        return Ok(format!("{}\n", json!({ "sessions": all })));
    }
    if all.is_empty() {
        return Ok("no saved conversations\n".into());
    }
    let mut out = String::new();
    for s in all {
        out.push_str(&format!(
            "{}  {}  {} messages  {}  {}\n    {}\n",
            sanitize::line(&s.id),
            s.created,
            s.messages,
            sanitize::line(&s.model),
            sanitize::line(&s.repo.display().to_string()),
            sanitize::line(&s.title)
        ));
    }
    Ok(out)
}

fn show(c: &Conversation, as_json: bool) -> String {
    if as_json {
        return format!(
            "{}\n",
            json!({"id": c.id, "meta": c.meta, "messages": c.messages, "skipped": c.skipped})
        );
    }
    let mut out = format!(
        "conversation {} ({}; started {} with {})\n",
        sanitize::line(&c.id),
        sanitize::line(&c.meta.repo.display().to_string()),
        c.meta.created,
        sanitize::line(&c.meta.model)
    );
    for m in &c.messages {
        let (who, text) = match m {
            Message::System { content } => ("system", content.clone()),
            Message::User { content } => ("you", content.clone()),
            Message::Assistant {
                content,
                tool_calls,
                ..
            } => {
                let calls: Vec<String> = tool_calls
                    .iter()
                    .map(|t| format!("[calls {} {}]", t.name, t.arguments))
                    .collect();
                (
                    "model",
                    [content.clone(), calls.join(" ")]
                        .join(" ")
                        .trim()
                        .to_string(),
                )
            }
            Message::Tool { content, .. } => ("tool", content.clone()),
        };
        out.push_str(&format!("{who}: {}\n", sanitize::text(&text)));
    }
    out
}
