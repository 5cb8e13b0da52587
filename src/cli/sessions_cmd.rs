//! `goshi sessions list|show|rm`: the saved conversations.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use super::palette::{Palette, Role};
use super::render::{MarkdownStream, RenderOptions};
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
        SessionsCommand::Show { id, format } => store.load(id).map(|c| {
            if format == "json" {
                show_json(&c)
            } else {
                // On a terminal that takes colour, the model's answers as in the chat.
                let rich = super::chat::renders_markdown(&screen);
                show(&c, rich.then(|| screen.out_palette()))
            }
        }),
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

fn show_json(c: &Conversation) -> String {
    format!(
        "{}\n",
        json!({"id": c.id, "meta": c.meta, "messages": c.messages, "skipped": c.skipped})
    )
}

/// The conversation as text: `who: text` a message a line, escaped; with `rich` (a terminal),
/// each message under its coloured label and the model's answers rendered as markdown.
fn show(c: &Conversation, rich: Option<Palette>) -> String {
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
        match &rich {
            Some(p) => rich_message(&mut out, p, who, &text),
            None => out.push_str(&format!("{who}: {}\n", sanitize::text(&text))),
        }
    }
    out
}

/// One message for a terminal: its label, then the model's text rendered (what the user, the
/// system prompt and tools wrote is shown as it is, escaped).
fn rich_message(out: &mut String, p: &Palette, who: &str, text: &str) {
    let role = match who {
        "you" => Role::Strong,
        "model" => Role::Heading,
        _ => Role::Dim,
    };
    out.push('\n');
    out.push_str(&p.paint(role, &format!("{who}:")));
    out.push('\n');
    if who == "model" {
        let opts = RenderOptions {
            preview: false,
            ..RenderOptions::for_terminal()
        };
        let mut md = MarkdownStream::new(opts);
        md.push(text, out);
        md.finish(out);
    } else {
        out.push_str(&sanitize::text(text));
        out.push('\n');
    }
}
