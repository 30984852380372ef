//! The model's part in git: commit messages ([`message`]), proposed conflict resolutions
//! ([`conflicts`]) and pull requests on GitHub ([`github`]). Async, no [`Repo`](super::Repo)
//! held across an await; each takes the `[git]` settings it needs, never the whole `Config`.
//! A diff that contains a secret is never sent to a model.

pub mod conflicts;
pub mod github;
pub mod message;

pub use conflicts::{parse_resolution, propose_resolution};
pub use github::{GithubTarget, PullRequest, github_target, open_pull_request, pr_description};
pub use message::{clean_message, write_commit_message};
