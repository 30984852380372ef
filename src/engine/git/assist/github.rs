//! Pull requests on GitHub (and GitHub Enterprise) for a branch that is already pushed: the
//! target repository from the branch's remote, a description written by the model from the
//! branch's commits, and the REST call that opens the pull request.
//!
//! Invariants:
//! - kv1nt pushes nothing: [`github_target`] refuses unless the current branch already exists on
//!   a remote (`refs/remotes/<remote>/<branch>`), preferring the branch's configured upstream.
//! - The remote URL must name `OWNER/REPO` on some host (https, ssh or scp-like form); any host is
//!   accepted (Enterprise). URLs are shown without their user-info (which may hold credentials).
//! - The token is sent only in the `Authorization` header, and never appears in an error (it is
//!   masked even if a server echoed it).
//! - [`pr_description`] always returns a title and a body: the model's, or one built from the
//!   commit summaries and the diffstat when no model answers usably.

use std::time::Duration;

use git2::ErrorCode;
use serde_json::{Value, json};

use crate::engine::config::{Config, Secrets};
use crate::engine::git::branch::CommitInfo;
use crate::engine::git::repo::{HeadInfo, Repo};
use crate::engine::git::{Result, VcsError};
use crate::engine::llm::http::error_chain;
use crate::engine::llm::oneshot;

/// Time allowed for the GitHub API call.
const API_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest title kept from the model.
const TITLE_MAX: usize = 72;
const SYSTEM: &str = include_str!("../../../../assets/prompts/pull_request.md");

/// Where a pull request for the current branch goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubTarget {
    pub owner: String,
    pub repo: String,
    /// The remote the branch is on ("origin").
    pub remote: String,
    /// The branch name on that remote (the pull request's `head`).
    pub head: String,
}

/// An opened pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub url: String,
}

/// The GitHub repository and branch a pull request for HEAD's branch would use.
pub fn github_target(repo: &Repo) -> Result<GithubTarget> {
    let branch = match repo.head()? {
        HeadInfo::Branch { name, .. } => name,
        HeadInfo::Detached { .. } => {
            return Err(refused("HEAD is detached; switch to the branch you want a pull request for"));
        }
        HeadInfo::Unborn { name } => {
            return Err(refused(&format!("`{name}` has no commits yet; commit and push it first")));
        }
    };
    let git = repo.git();
    let names = git.remotes()?;
    let remotes: Vec<String> =
        (0..names.len()).filter_map(|i| names.get(i).ok().flatten()).map(str::to_string).collect();
    if remotes.is_empty() {
        return Err(refused(&format!(
            "the repository has no remote; add the GitHub repository (`git remote add origin URL`) and push \
             `{branch}` first — kv1nt does not push"
        )));
    }
    let exists = |remote: &str, name: &str| match git.find_reference(&format!("refs/remotes/{remote}/{name}"))
    {
        Ok(_) => Ok(true),
        Err(e) if e.code() == ErrorCode::NotFound || e.code() == ErrorCode::InvalidSpec => Ok(false),
        Err(e) => Err(VcsError::from(e)),
    };
    // The configured upstream first (it may have another name), then any remote, origin first.
    let config = git.config()?;
    let upstream_remote = config.get_string(&format!("branch.{branch}.remote")).ok();
    let upstream_name = config
        .get_string(&format!("branch.{branch}.merge"))
        .ok()
        .and_then(|m| m.strip_prefix("refs/heads/").map(str::to_string));
    let mut candidates: Vec<(String, String)> = Vec::new();
    if let (Some(remote), Some(name)) = (&upstream_remote, &upstream_name) {
        candidates.push((remote.clone(), name.clone()));
    }
    let mut ordered = remotes.clone();
    ordered.sort_by_key(|r| r != "origin");
    candidates.extend(ordered.into_iter().map(|r| (r, branch.clone())));
    let mut found = None;
    for (remote, name) in candidates {
        if exists(&remote, &name)? {
            found = Some((remote, name));
            break;
        }
    }
    let Some((remote, head)) = found else {
        let remote = upstream_remote.unwrap_or_else(|| {
            if remotes.iter().any(|r| r == "origin") { "origin".into() } else { remotes[0].clone() }
        });
        return Err(refused(&format!(
            "`{branch}` is not on any remote yet; push it first (`git push -u {remote} {branch}`) — kv1nt does not push"
        )));
    };
    let url = git.find_remote(&remote)?.url().map(str::to_string).unwrap_or_default();
    let (_host, owner, name) = parse_github_url(&url).ok_or_else(|| {
        refused(&format!(
            "remote `{remote}` ({}) does not look like a GitHub repository; expected https://HOST/OWNER/REPO, \
             git@HOST:OWNER/REPO or ssh://git@HOST/OWNER/REPO",
            redact_url(&url)
        ))
    })?;
    Ok(GithubTarget { owner, repo: name, remote, head })
}

fn refused(message: &str) -> VcsError {
    VcsError::Refused(message.to_string())
}

/// (host, owner, repo) from a remote URL in one of the GitHub forms; None for anything else.
pub fn parse_github_url(url: &str) -> Option<(String, String, String)> {
    let url = url.trim();
    let (host, path) = if let Some((scheme, rest)) = url.split_once("://") {
        if !matches!(scheme.to_ascii_lowercase().as_str(), "https" | "http" | "ssh" | "git" | "git+ssh") {
            return None;
        }
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit('@').next()?;
        let host = host.split(':').next()?; // drop a port
        (host, path)
    } else {
        // scp-like: [user@]host:owner/repo — not a local path.
        let (authority, path) = url.split_once(':')?;
        if authority.contains('/') || path.starts_with('/') || path.starts_with("//") {
            return None;
        }
        (authority.rsplit('@').next()?, path)
    };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let mut parts = path.split('/');
    let (Some(owner), Some(repo), None) = (parts.next(), parts.next(), parts.next()) else { return None };
    let valid = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    let host_ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || "-.".contains(c));
    (host_ok && valid(owner) && valid(repo)).then(|| (host.to_string(), owner.to_string(), repo.to_string()))
}

/// `url` without user-info ("https://user:token@host/…" → "https://host/…").
fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{host}/{path}")
        }
        None => url.to_string(),
    }
}

/// A title and a Markdown body for a pull request of `commits` (newest first, as [`super::log`]
/// returns them) changing `diffstat`: the model's, else built from the commit summaries.
pub async fn pr_description(
    config: &Config,
    secrets: &Secrets,
    client: &reqwest::Client,
    commits: &[CommitInfo],
    diffstat: &str,
) -> (String, String) {
    let fallback = || fallback_description(commits, diffstat);
    if commits.is_empty() {
        return fallback();
    }
    let mut user = String::from("Commits (newest first):\n");
    for c in commits.iter().take(100) {
        user.push_str(&format!("- {} {}\n", c.short_id, c.summary));
    }
    if commits.len() > 100 {
        user.push_str(&format!("- …and {} older commits\n", commits.len() - 100));
    }
    user.push_str(&format!("\nDiffstat:\n{diffstat}\n"));
    match oneshot::complete(config, secrets, client, SYSTEM, &user, 1500).await {
        Ok(reply) => parse_description(&reply).unwrap_or_else(fallback),
        Err(_) => fallback(),
    }
}

/// Title and body from the model's reply; None when there is no usable title.
fn parse_description(reply: &str) -> Option<(String, String)> {
    let reply = super::message::strip_think(reply);
    let mut lines = reply.lines().map(str::trim_end).skip_while(|l| l.trim().is_empty());
    let first = lines.next()?.trim();
    let first = first.trim_start_matches('#').trim();
    let first = first.strip_prefix("Title:").or_else(|| first.strip_prefix("title:")).unwrap_or(first);
    let title = first.trim().trim_matches(|c| c == '*' || c == '"' || c == '`').trim();
    if title.is_empty() || title.starts_with("```") {
        return None;
    }
    let title = super::message::cut_at_word(title, TITLE_MAX);
    let body: Vec<&str> = lines.collect();
    let body = body.join("\n").trim().to_string();
    let body = body.strip_prefix("Body:").map(str::trim).unwrap_or(&body).to_string();
    if body.is_empty() {
        return None;
    }
    Some((title, body))
}

/// The description without a model: the oldest commit's summary as title, every commit listed.
fn fallback_description(commits: &[CommitInfo], diffstat: &str) -> (String, String) {
    let title = commits.last().map_or_else(|| "Changes".to_string(), |c| c.summary.clone());
    let mut body = String::from("## Commits\n\n");
    for c in commits.iter().rev() {
        body.push_str(&format!("- {} ({})\n", c.summary, c.short_id));
    }
    if !diffstat.trim().is_empty() {
        body.push_str(&format!("\n## Changes\n\n```\n{}\n```\n", diffstat.trim_end()));
    }
    (title, body)
}

/// Opens a pull request `target.head` → `base` through `POST {api_url}/repos/OWNER/REPO/pulls`.
/// Err: what went wrong, worded for the user (the token never appears).
pub async fn open_pull_request(
    client: &reqwest::Client,
    api_url: &str,
    token: &str,
    target: &GithubTarget,
    base: &str,
    title: &str,
    body: &str,
) -> Result<PullRequest, String> {
    let mask = |text: String| if token.len() >= 4 { text.replace(token, "***") } else { text };
    if token.trim().is_empty() {
        return Err(
            "GITHUB_TOKEN is not set; create a token that can write pull requests and export it".into()
        );
    }
    let api = api_url.trim().trim_end_matches('/');
    let url = format!("{api}/repos/{}/{}/pulls", target.owner, target.repo);
    let response = client
        .post(&url)
        .timeout(API_TIMEOUT)
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header(reqwest::header::AUTHORIZATION, format!("Bearer {token}"))
        .header("X-GitHub-Api-Version", "2022-11-28")
        .header(reqwest::header::USER_AGENT, "kv1nt")
        .json(&json!({"title": title, "head": target.head, "base": base, "body": body}))
        .send()
        .await
        .map_err(|e| mask(format!("cannot reach the GitHub API at {api}: {}", error_chain(&e))))?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        let number = json["number"].as_u64();
        let html = json["html_url"].as_str();
        return match (number, html) {
            (Some(number), Some(url)) => Ok(PullRequest { number, url: url.to_string() }),
            _ => Err(mask(format!(
                "GitHub answered HTTP {status} but not with a pull request: {}",
                snippet(&text)
            ))),
        };
    }
    let message = json["message"].as_str().map_or_else(|| snippet(&text), str::to_string);
    let (owner, repo) = (&target.owner, &target.repo);
    Err(mask(match status {
        401 => format!(
            "GITHUB_TOKEN was refused by GitHub (HTTP 401: {message}); check that it is valid and not expired"
        ),
        403 => format!(
            "GITHUB_TOKEN was refused for {owner}/{repo} (HTTP 403: {message}); it needs permission to \
             write pull requests (fine-grained: \"Pull requests: read and write\"; classic: the `repo` scope)"
        ),
        404 => format!(
            "GitHub has no repository {owner}/{repo} at {api}, or GITHUB_TOKEN has no access to it (HTTP 404)"
        ),
        422 => format!("GitHub refused the pull request: {}", validation_errors(&json, &message)),
        _ => format!("GitHub answered HTTP {status}: {message}"),
    }))
}

/// GitHub's validation errors in words: `errors[].message`, else "FIELD is CODE", else `message`.
fn validation_errors(json: &Value, message: &str) -> String {
    let details: Vec<String> = json["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| match (e["message"].as_str(), e["field"].as_str(), e["code"].as_str()) {
                    (Some(m), _, _) => Some(m.to_string()),
                    (None, Some(f), Some(c)) => Some(format!("{f} is {}", c.replace('_', " "))),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if details.is_empty() { message.to_string() } else { details.join("; ") }
}

fn snippet(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() { "(empty response body)".to_string() } else { text.chars().take(300).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_url_forms() {
        let ok = |u: &str| parse_github_url(u).map(|(h, o, r)| format!("{h} {o} {r}"));
        assert_eq!(ok("https://github.com/octo/hello.git").as_deref(), Some("github.com octo hello"));
        assert_eq!(ok("https://github.com/octo/hello").as_deref(), Some("github.com octo hello"));
        assert_eq!(ok("https://github.com/octo/hello/").as_deref(), Some("github.com octo hello"));
        assert_eq!(
            ok("https://user:tok@ghe.example.com:8443/team/app.js.git").as_deref(),
            Some("ghe.example.com team app.js")
        );
        assert_eq!(ok("git@github.com:octo/hello.git").as_deref(), Some("github.com octo hello"));
        assert_eq!(ok("ghe.corp:team/app").as_deref(), Some("ghe.corp team app"));
        assert_eq!(ok("ssh://git@github.com/octo/hello").as_deref(), Some("github.com octo hello"));
        assert_eq!(ok("ssh://git@ghe.corp:2222/octo/hello.git").as_deref(), Some("ghe.corp octo hello"));
        for bad in [
            "/srv/git/hello.git",
            "../hello",
            "file:///srv/hello.git",
            "https://gitlab.com/group/sub/project.git",
            "https://github.com/octo",
            "git@github.com:/octo/hello.git",
            "C:/repos/hello",
            "https://github.com/octo/he llo",
            "",
        ] {
            assert_eq!(parse_github_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn urls_are_shown_without_credentials() {
        assert_eq!(redact_url("https://me:s3cret@github.com/o/r.git"), "https://github.com/o/r.git");
        assert_eq!(redact_url("git@github.com:o/r.git"), "git@github.com:o/r.git");
    }

    #[test]
    fn descriptions_from_the_model_and_without_it() {
        let reply = "<think>x</think>\nTitle: Add **merge** assistance\n\nMerges get help.\n\n- one\n";
        let (title, body) = parse_description(reply).unwrap();
        assert_eq!(title, "Add **merge** assistance");
        assert_eq!(body, "Merges get help.\n\n- one");
        assert_eq!(parse_description("Only a title"), None);
        assert_eq!(parse_description(""), None);
        let commit = |id: &str, s: &str| CommitInfo {
            id: id.repeat(40),
            short_id: id.repeat(7),
            summary: s.into(),
            author: "A".into(),
            email: "a@x".into(),
            time: 0,
            offset_minutes: 0,
        };
        let (title, body) = fallback_description(
            &[commit("b", "fix: second"), commit("a", "feat: first")],
            " 1 file changed",
        );
        assert_eq!(title, "feat: first");
        assert!(body.contains("- feat: first (aaaaaaa)\n- fix: second (bbbbbbb)"), "{body}");
        assert!(body.contains("1 file changed"));
    }
}
