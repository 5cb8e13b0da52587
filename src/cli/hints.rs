//! The CLI's words for the LLM layer's structured errors and notices: where each setting
//! is set in goshi (goshi.yaml keys, environment variables, flags) and which command or REPL
//! command helps. The LLM layer names the situation ([`Advice`], [`Notice`]); only this
//! module speaks goshi's vocabulary about it.

use std::sync::Arc;
use std::time::Instant;

use super::terminal::status::Retry;
use super::terminal::Screen;
use crate::llm::{Advice, LlmError, Notice, Notifier};
use crate::text::redact::mask_credentials;

/// Where goshi is told Ollama's address.
const OLLAMA_WHERE: &str = "set OLLAMA_HOST or llm.local.url to the Ollama server's address";

/// What to do, in goshi's words, for `advice`.
pub fn advice_text(advice: &Advice) -> String {
    use Advice::*;
    match advice {
        CheckBaseUrl => {
            "check llm.openai.base_url / OPENAI_BASE_URL / --base-url (it usually ends in /v1)".into()
        }
        BaseUrlLacksV1 => "check that llm.openai.base_url ends in /v1".into(),
        NotOpenAiCompatible => {
            "the server may not be OpenAI-compatible; check llm.openai.base_url".into()
        }
        NotResponsesApi => "the server may not speak the Responses API; check llm.openai.base_url, \
                            or set llm.openai.api: chat in goshi.yaml"
            .into(),
        NoResponsesApi { url } => format!(
            "this server may not offer the Responses API at {url}; set llm.openai.api: chat in goshi.yaml"
        ),
        ResponsesOnly { model } => format!(
            "{model} takes tools with reasoning_effort only over the Responses API: set \
             llm.openai.api: auto (or responses) in goshi.yaml, or leave llm.reasoning_effort unset"
        ),
        ChooseModel => "run `goshi models` to list the models this server offers, then set \
                        llm.model, GOSHI_MODEL or --model"
            .into(),
        ModelShutDown {
            model,
            date,
            replacement,
        } => format!(
            "{model} was shut down on {date}; use {replacement} instead (set llm.model, GOSHI_MODEL or --model)"
        ),
        PullModel { model } => {
            format!("pull it with `ollama pull {model}` (`goshi models` lists the models you have)")
        }
        WaitOrRetryMore => "wait a moment and try again, or raise llm.retry.max_retries".into(),
        ServerKeepsFailing => "goshi retried it (llm.retry.max_retries); if it keeps failing, the \
                               server may be overloaded or unable to handle this request"
            .into(),
        ConversationTooLong => "the conversation is too long for the model (goshi never cuts it \
                                short by itself): start over (/clear in the REPL, or a new \
                                `goshi chat` without --continue), or send a shorter prompt"
            .into(),
        PromptTooLarge => "the prompt is larger than the model's context: start over (/clear in \
                           the REPL) or send a shorter prompt"
            .into(),
        CheckSettings => "check the model name and settings with `goshi config show`".into(),
        ConnectOpenAi => "check your network connection, or OPENAI_BASE_URL / llm.openai.base_url \
                          if you use a proxy"
            .into(),
        // The error's message already names the address tried: say only what to do.
        ConnectServer { .. } => {
            "is the server running? check OPENAI_BASE_URL, llm.openai.base_url or --base-url".into()
        }
        ConnectOllama { .. } => "is Ollama running? start it with `ollama serve`, or set \
                                 OLLAMA_HOST / llm.local.url"
            .into(),
        RaiseConnectTimeout(inner) => format!(
            "{}; or raise llm.connect_timeout in goshi.yaml",
            advice_text(inner)
        ),
        RaiseTotalTimeout => {
            "raise or remove llm.total_timeout in goshi.yaml if long answers are expected".into()
        }
        ComeBackLater { max_delay } => format!(
            "try again after that; goshi itself waits at most llm.retry.max_delay ({}s)",
            max_delay.as_secs_f64()
        ),
        CircuitOpen => "pass --no-circuit to send anyway; `goshi doctor` shows each circuit".into(),
        NotOllama => format!("is it Ollama? {OLLAMA_WHERE}"),
        OllamaBehindProxy => {
            format!("Ollama itself needs no login; a proxy in front of it may: {OLLAMA_WHERE}")
        }
        OllamaAddress => "check that OLLAMA_HOST / llm.local.url points at an Ollama server".into(),
        OllamaModelList => "check that OLLAMA_HOST / llm.local.url points at an Ollama server; \
                            `ollama list` shows the models too"
            .into(),
        FullUrl => "the server address must be a full URL such as http://127.0.0.1:11434 or \
                    https://api.openai.com/v1; check OLLAMA_HOST / llm.local.url, or \
                    OPENAI_BASE_URL / llm.openai.base_url / --base-url"
            .into(),
        RaiseTimeout => "raise llm.request_timeout in goshi.yaml if the model is just slow".into(),
        ServerUpOrTimeout => {
            "check that the server is up, or raise llm.request_timeout in goshi.yaml".into()
        }
        MissingApiKey => "create a key at https://platform.openai.com/api-keys and run: export \
                          OPENAI_API_KEY=sk-...; or use a local model with --provider ollama"
            .into(),
    }
}

/// The hint goshi shows for `err`: its advice in goshi's words, else its neutral hint.
pub fn hint(err: &LlmError) -> Option<String> {
    match err.advice.as_deref() {
        Some(a) => Some(advice_text(a)),
        None => err.hint.clone(),
    }
}

/// `err` as goshi shows it: what happened, what the server said (anything like a credential
/// masked: a 401 body may echo the key), and what to do. The screen escapes what could drive
/// the terminal. A connection failure is one line (what was tried, the cause in words, what
/// to do; `-v` logs the full error chain).
pub fn error_text(err: &LlmError) -> String {
    if err.kind == crate::llm::ErrorKind::Connect && err.server_message.is_none() {
        if let Some(h) = hint(err) {
            return format!("{}; {h}", err.message);
        }
    }
    let mut out = err.message.clone();
    if let Some(msg) = &err.server_message {
        out.push_str(&format!("\n  server said: {}", mask_credentials(msg)));
        if let Some(code) = &err.code {
            out.push_str(&format!(" (code: {})", mask_credentials(code)));
        }
    }
    if let Some(h) = hint(err) {
        out.push_str(&format!("\n  hint: {h}"));
    }
    out
}

/// A notice as goshi words it (without the `goshi: ` prefix).
pub fn notice_text(notice: &Notice) -> String {
    match notice {
        Notice::ToolsRejected { model, reason } => format!(
            "model {model} cannot call tools on this server ({}); continuing without tools. \
             To use goshi's file tools, pick a model with tool support (see `goshi models`) \
             or start the server with tool calling enabled (llama.cpp: --jinja)",
            mask_credentials(reason)
        ),
        Notice::SwitchedToResponses { model } => format!(
            "{model} does not take function tools with reasoning_effort over Chat Completions; \
             switching this model to the Responses API (remembered for later sessions; \
             set llm.openai.api in goshi.yaml to choose yourself)"
        ),
        Notice::TokenFieldSwitched {
            model,
            refused,
            instead,
        } => format!(
            "the server does not accept `{refused}` for {model}; retrying with `{instead}` \
             (set llm.openai.max_tokens_field: {instead} in goshi.yaml to skip this)"
        ),
        Notice::ParamDropped { model, param } => format!(
            "the server does not accept `{param}` for {model}; retrying without it \
             (remove llm.{param} from goshi.yaml to skip this)"
        ),
        Notice::ModelRetiring {
            model,
            date,
            gone,
            replacement,
        } => {
            let what = if *gone {
                format!("was shut down on {date} and no longer answers")
            } else {
                format!("is deprecated and shuts down on {date}")
            };
            let instead = match replacement {
                Some(r) => format!("; use {r} instead (set llm.model, GOSHI_MODEL or --model)"),
                None if crate::llm::openai::lifecycle::replacement_not_named(model) => {
                    "; OpenAI has not named a replacement yet: pick another model \
                     (goshi models lists them)"
                        .to_string()
                }
                None => "; pick another model (goshi models lists them)".to_string(),
            };
            format!("warning: OpenAI model {model} {what}{instead}")
        }
        Notice::DefaultModelReplaced { former, date, next } => format!(
            "the former default model {former} shut down on {date}; using {next} \
             (set llm.model to choose another)"
        ),
        // Retries and Ollama's tool-less models need no goshi words.
        other => other.to_string(),
    }
}

/// The CLI's notifier: each notice as a `goshi: ...` line on `screen`'s stderr; a retry
/// counts down on the status line instead, when one is up.
pub fn notifier(screen: &Screen) -> Notifier {
    let screen = screen.clone();
    Arc::new(move |n: &Notice| {
        if let Notice::Retrying {
            why,
            wait,
            attempt,
            max,
        } = n
        {
            let retry = Retry {
                why: mask_credentials(why),
                at: Instant::now() + *wait,
                attempt: *attempt,
                max: *max,
            };
            if screen.status_retry(retry) {
                return;
            }
        }
        screen.notice(&notice_text(n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ErrorKind;

    #[test]
    fn advice_gets_goshi_words_and_the_library_keeps_neutral_ones() {
        let err = LlmError::new(ErrorKind::NotFound, "model x was not found (HTTP 404)")
            .with_advice(Advice::ChooseModel);
        assert!(!err.to_string().contains("goshi models"), "{err}");
        let shown = error_text(&err);
        assert!(shown.contains("run `goshi models`"), "{shown}");
        assert!(shown.starts_with("model x was not found"), "{shown}");
        // A later plain hint replaces the advice everywhere.
        let err = err.with_hint("try again");
        assert_eq!(hint(&err).as_deref(), Some("try again"));
    }

    #[test]
    fn notices_name_goshi_settings_only_here() {
        let n = Notice::ParamDropped {
            model: "m".into(),
            param: "temperature".into(),
        };
        assert!(!n.to_string().contains("goshi.yaml"));
        assert!(notice_text(&n).contains("remove llm.temperature from goshi.yaml"));
    }
}
