//! One MCP server process over stdio: starting it with exactly its configured environment,
//! the protocol handshake (rmcp), listing what any server offers (tools, prompts, resources),
//! and what a tool result becomes for the model.
//!
//! Invariants: the child gets `env_clear()` plus [`ServerSettings::environment`]; it runs in
//! its own process group (no terminal signals; stopping it kills the group, so an `npx`
//! wrapper's children go too); its stderr is piped, never inherited (it would scribble over
//! the TUI); a result given to the model is at most [`MAX_RESULT_BYTES`].

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use rmcp::model::{CallToolResult, ContentBlock, Prompt, Resource, ResourceContents, Tool};
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use tokio::process::{Child, ChildStderr, Command};

use super::settings::ServerSettings;

/// Most bytes of one tool result the model reads (the rest is cut, and it is told so).
pub const MAX_RESULT_BYTES: usize = 32 * 1024;

pub(super) type Service = RunningService<RoleClient, ()>;

/// A started process before the handshake.
pub(super) struct Spawned {
    pub child: Child,
    pub stderr: Option<ChildStderr>,
}

/// Starts the server's process (not yet spoken to).
pub(super) fn spawn(
    settings: &ServerSettings,
    workspace: &Path,
    parent_env: &dyn Fn(&str) -> Option<String>,
) -> Result<Spawned, String> {
    let cwd = match &settings.cwd {
        Some(dir) if dir.is_absolute() => dir.clone(),
        Some(dir) => workspace.join(dir),
        None => workspace.to_path_buf(),
    };
    let mut command = Command::new(&settings.command);
    command
        .args(&settings.args)
        .env_clear()
        .envs(settings.environment(parent_env))
        .current_dir(&cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start `{}` in {}: {e}", settings.command, cwd.display()))?;
    let stderr = child.stderr.take();
    Ok(Spawned { child, stderr })
}

/// The MCP handshake over the child's stdio.
pub(super) async fn connect(child: &mut Child, timeout: Duration) -> Result<Service, String> {
    let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
        return Err("the process's stdio could not be opened".into());
    };
    let handshake = async { ().serve((stdout, stdin)).await.map_err(|e| format!("handshake failed: {e}")) };
    tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| format!("did not finish starting within {} s", timeout.as_secs()))?
}

/// What a server offers: every page of its tools, and its prompts and resources when it
/// declares them (a failure to list those is an error for `/mcp`, not a failed start).
pub(super) struct Listing {
    pub tools: Vec<Tool>,
    pub prompts: Vec<Prompt>,
    pub resources: Vec<Resource>,
    pub problems: Vec<String>,
}

pub(super) async fn listing(service: &Service, timeout: Duration) -> Result<Listing, String> {
    let list = async {
        let tools = service.list_all_tools().await.map_err(|e| format!("listing tools failed: {e}"))?;
        let capabilities = service.peer_info().map(|info| info.capabilities.clone()).unwrap_or_default();
        let mut listing = Listing { tools, prompts: Vec::new(), resources: Vec::new(), problems: Vec::new() };
        if capabilities.prompts.is_some() {
            match service.list_all_prompts().await {
                Ok(prompts) => listing.prompts = prompts,
                Err(e) => listing.problems.push(format!("listing prompts failed: {e}")),
            }
        }
        if capabilities.resources.is_some() {
            match service.list_all_resources().await {
                Ok(resources) => listing.resources = resources,
                Err(e) => listing.problems.push(format!("listing resources failed: {e}")),
            }
        }
        Ok::<_, String>(listing)
    };
    tokio::time::timeout(timeout, list)
        .await
        .map_err(|_| format!("did not list its tools within {} s", timeout.as_secs()))?
}

/// Kills the server's whole process group, then the child itself.
pub(super) async fn kill(child: &mut Child) {
    #[cfg(unix)]
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::SIGKILL);
    }
    let _ = child.kill().await;
}

/// A tool result as the model reads it: text blocks as they are, other content named, the
/// structured result as JSON when there is no text, cut to [`MAX_RESULT_BYTES`].
pub fn result_text(result: &CallToolResult) -> String {
    let mut parts: Vec<String> = result.content.iter().map(block_text).collect();
    if parts.is_empty()
        && let Some(value) = &result.structured_content
    {
        parts.push(value.to_string());
    }
    cap(parts.join("\n"))
}

/// One content block as text: text as it is, other content named.
pub fn block_text(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(t) => t.text.clone(),
        ContentBlock::Image(i) => format!("[image, {}, {} bytes of base64]", i.mime_type, i.data.len()),
        ContentBlock::Audio(a) => format!("[audio, {}, {} bytes of base64]", a.mime_type, a.data.len()),
        ContentBlock::Resource(r) => match &r.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => format!("[resource {uri}]\n{text}"),
            ResourceContents::BlobResourceContents { uri, .. } => format!("[binary resource {uri}]"),
            #[allow(unreachable_patterns)]
            _ => "[a resource of a kind kv1nt does not show]".to_string(),
        },
        ContentBlock::ResourceLink(link) => format!("[resource link {}]", link.uri),
        _ => "[content of a kind kv1nt does not show]".to_string(),
    }
}

/// `text` cut to [`MAX_RESULT_BYTES`] at a character boundary, saying how much was left out.
pub fn cap(mut text: String) -> String {
    if text.len() <= MAX_RESULT_BYTES {
        return text;
    }
    let total = text.len();
    let mut end = MAX_RESULT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(&format!("\n[cut: the tool returned {total} bytes; only the first {end} are shown]"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_results_are_cut_at_a_character_and_say_so() {
        let text = "é".repeat(MAX_RESULT_BYTES);
        let cut = cap(text);
        assert!(cut.len() < MAX_RESULT_BYTES + 100, "{}", cut.len());
        assert!(cut.ends_with(&format!("only the first {} are shown]", MAX_RESULT_BYTES)), "{cut:.0}");
        assert_eq!(cap("short".into()), "short");
    }
}
