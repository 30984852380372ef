//! `/pr`: a pull request for the current branch, once it is on a GitHub remote — a
//! model-written description, the gate (`GitAction::PullRequest`: it leaves the machine, so it is
//! at least high and asks even under `auto`), then the GitHub API. kv1nt pushes nothing.
//!
//! Invariant: no request reaches the GitHub API before the gate's verdict.

use super::gate::{Ask, GateWords, Gated};
use super::git::{Said, git_step, with_repo};
use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::approval::GitAction;
use crate::engine::approval::risk::assess;
use crate::engine::git;
use crate::engine::git::assist::github;
use crate::engine::protocol::LogLevel;

impl Engine {
    /// `/pr`: for a branch already on a GitHub remote, a model-written description, approval,
    /// then `POST /repos/{owner}/{repo}/pulls`. kv1nt pushes nothing.
    pub(super) async fn pull_request_flow(&mut self) -> Result<Said, Interrupt> {
        let Some(token) = self.secrets.github_token.clone().filter(|t| !t.trim().is_empty()) else {
            return Ok(Err("Set GITHUB_TOKEN (a token allowed to open pull requests) to use /pr.".into()));
        };
        let base = self.config.git.base_branch.clone();
        let found = with_repo(self.workspace.clone(), move |repo| {
            let target = github::github_target(repo)?;
            let remote_base = format!("{}/{base}", target.remote);
            let since = if repo.git().revparse_single(&remote_base).is_ok() { remote_base } else { base };
            let commits = git::log_since(repo, Some(&since), 200)?;
            let stat = git::diffstat(&git::between(repo, &since, "HEAD", &[])?).render();
            Ok((target, commits, stat))
        })
        .await;
        let (target, commits, stat) = match found {
            Ok(found) => found,
            Err(e) => return Ok(Err(format!("Cannot open a pull request: {e}"))),
        };
        let base = self.config.git.base_branch.clone();
        if commits.is_empty() {
            return Ok(Err(format!(
                "`{}` has no commits that `{base}` lacks: nothing to propose.",
                target.head
            )));
        }
        self.log(LogLevel::Info, "writing the pull request description…");
        let (models, questions) = self.one_shot();
        let described = github::pr_description(&models, &commits, &stat);
        let (title, body) = self.one_shot_answer(described, questions, "the branch's commits").await?;
        let repo_name = format!("{}/{}", target.owner, target.repo);
        let action = git_step(
            GitAction::PullRequest,
            format!("{} → {base} on {repo_name}", target.head),
            format!("{title}\n\n{body}"),
        );
        let mut assessment = assess(&action, &self.workspace);
        assessment.reasons.push(format!("{} commits; title: {title}", commits.len()));
        let ask = Ask::new(format!("open a pull request {} → {base}", target.head), GateWords::STEP);
        match self.pass_gate(&action, assessment, ask).await? {
            Gated::Proceed { .. } => {}
            Gated::Stop(reason) => return Ok(Err(reason)),
            Gated::Picked(_) => return Ok(Err("Not opened.".into())),
        }
        let (api, client) = (self.config.git.github_api_url.clone(), self.client.clone());
        let opened = github::open_pull_request(&client, &api, &token, &target, &base, &title, &body);
        match self.unless_interrupted(opened).await? {
            Ok(pr) => Ok(Ok(format!("Opened pull request #{}: {}", pr.number, pr.url))),
            Err(e) => Ok(Err(format!("The pull request was not opened: {e}"))),
        }
    }
}
