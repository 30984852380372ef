//! `kv1nt commit`: the commit proposal for what is staged — a message written by the model (or a
//! summary of the diff, marked as such), the files, the diffstat, the risk and its reasons — and,
//! after the user's approval on the terminal, the commit.
//!
//! Invariants:
//! - Nothing is committed without an answer typed on a terminal: without one (stdin not a tty)
//!   the command refuses and exits 1. `--dry-run` only prints (exit 0).
//! - A critical risk (a secret in the diff…) refuses unless `--allow-critical` is given and the
//!   user then types `yes` in full.
//! - What is committed is exactly what was shown: if the staged diff changed while the user was
//!   deciding, nothing is committed.
//! - The trailer comes from `[git] trailer` only; hooks run as with `git commit`.
//! - With `llm.fallback_confirm`, the staged diff goes to the fallback provider only after a `y`
//!   on the terminal; without a terminal (`--dry-run` in a script) it does not go there, and the
//!   message is a summary of the diff saying why.
//! - With `--json`, stdout carries exactly one JSON object; everything else goes to stderr.
//!
//! Exit status: 0 when committed (or with `--dry-run`), 1 otherwise.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde_json::{Value, json};

use crate::engine::approval::Risk;
use crate::engine::git::{
    self, Change, CommitOptions, CommitOutcome, CommitProposal, MessageSource, Repo, VcsError,
};
use crate::engine::llm::http::build_client;
use crate::engine::llm::oneshot::{FALLBACK_TITLE, FallbackConsent, FallbackQuestion};
use crate::engine::llm::providers::one_shot;

use super::Setup;

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Print the proposal as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Only print the proposal; commit nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Allow a commit assessed as critical (e.g. a secret in the diff); you still type `yes`.
    #[arg(long)]
    pub allow_critical: bool,
}

const NO_TERMINAL: &str =
    "not committing: approval needs a terminal (stdin is not one); use --dry-run to only print the proposal";

/// The proposal with where its message came from.
struct Shown {
    proposal: CommitProposal,
    note: Option<String>,
}

/// Run the command; returns the process exit code.
pub async fn run(args: CommitArgs, setup: Setup) -> Result<i32> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let (workdir, proposal) = tokio::task::spawn_blocking(move || propose(&cwd)).await??;
    // Refuse before asking a model when the answer could never be given (a critical proposal is
    // still printed below, with its reasons).
    let interactive = std::io::stdin().is_terminal();
    let critical = proposal.assessment.risk == Risk::Critical;
    let refused_as_critical = critical && !args.allow_critical;
    if !args.dry_run && !interactive && !refused_as_critical {
        bail!("{NO_TERMINAL}");
    }
    let client = build_client(Duration::from_secs(setup.config.llm.connect_timeout_secs.max(1)));
    let mut models = one_shot(&setup.config, &setup.secrets, &client);
    if setup.config.llm.fallback_confirm && interactive {
        models.consent = FallbackConsent::Ask(fallback_on_the_terminal());
    }
    let (message, source, note) =
        git::assist::write_commit_message(&models, setup.config.git.message_style, &proposal).await;
    let mut shown = Shown { proposal: proposal.with_message(message, source, &workdir), note };

    if args.dry_run {
        print_proposal(&shown, &args, None);
        return Ok(0);
    }
    let critical = shown.proposal.assessment.risk == Risk::Critical;
    if critical && !args.allow_critical {
        print_proposal(&shown, &args, None);
        let why = shown.proposal.assessment.reasons.first().cloned().unwrap_or_default();
        bail!(
            "not committing: the risk is critical ({why}); remove that from the staged changes, or pass \
             --allow-critical and confirm with `yes`"
        );
    }
    if !interactive {
        print_proposal(&shown, &args, None);
        bail!("{NO_TERMINAL}");
    }
    let mut out = Out::new(args.json);
    out.text(&render_text(&shown));
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    loop {
        let critical = shown.proposal.assessment.risk == Risk::Critical;
        let question = if critical {
            "This commit is CRITICAL risk (see the reasons above). Type `yes` to commit anyway, \
             `e` to edit the message, anything else to stop: "
        } else {
            "Commit? [y/N/e] "
        };
        let answer = ask(&mut input, question)?;
        match answer.as_str() {
            "e" | "edit" => {
                match edit_message(&workdir, &shown.proposal.message) {
                    Ok(message) => {
                        let proposal = shown.proposal.clone();
                        shown.proposal = proposal.with_message(message, MessageSource::Model, &workdir);
                        shown.note = Some("edited by you".to_string());
                        out.text(&render_text(&shown));
                    }
                    Err(e) => eprintln!("{e:#}"),
                }
                continue;
            }
            "yes" | "y" if critical && !args.allow_critical => {
                bail!(
                    "not committing: the edited message makes the commit critical; pass --allow-critical to allow it"
                )
            }
            "yes" => {}
            "y" if !critical => {}
            _ => {
                if args.json {
                    print_proposal(&shown, &args, None);
                }
                bail!("not committed");
            }
        }
        break;
    }
    let trailer = setup.config.git.trailer.clone();
    let (message, expected) = (shown.proposal.message.clone(), shown.proposal.diff_text.clone());
    let outcome =
        tokio::task::spawn_blocking(move || commit_exactly(&workdir, &message, &expected, trailer)).await?;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(VcsError::HookFailed { hook, status, output }) => {
            eprint!("{output}");
            let status = status.map_or("killed by a signal".to_string(), |c| format!("exit status {c}"));
            bail!("the {hook} hook failed ({status}); nothing was committed");
        }
        Err(e) => return Err(anyhow!("{e}")),
    };
    if !outcome.hook_output.trim().is_empty() {
        out.text(outcome.hook_output.trim_end());
    }
    print_proposal(&shown, &args, Some(&outcome));
    Ok(0)
}

/// Opens the repository at `cwd` and builds the proposal; errors a user can act on.
fn propose(cwd: &Path) -> Result<(PathBuf, CommitProposal)> {
    let repo = match Repo::open(cwd) {
        Ok(repo) => repo,
        Err(VcsError::NotARepo(path)) => {
            bail!("{} is not inside a git repository; run kv1nt commit in one", path.display())
        }
        Err(e) => return Err(anyhow!("{e}")),
    };
    let workdir = repo.workdir().to_path_buf();
    match git::prepare_commit(&repo, &workdir) {
        Ok(proposal) => Ok((workdir, proposal)),
        Err(VcsError::NothingStaged) => {
            bail!("nothing is staged to commit; stage changes with `git add` first")
        }
        Err(e) => Err(anyhow!("{e}")),
    }
}

/// Commits `message` if the staged diff is still `expected`.
fn commit_exactly(
    workdir: &Path,
    message: &str,
    expected: &str,
    trailer: Option<String>,
) -> Result<CommitOutcome, VcsError> {
    let repo = Repo::open(workdir)?;
    let now = git::prepare_commit(&repo, workdir)?;
    if now.diff_text != expected {
        return Err(VcsError::Refused(
            "the staged changes changed while you were deciding; nothing was committed (run kv1nt commit again)"
                .to_string(),
        ));
    }
    git::commit(&repo, message, &CommitOptions { trailer, no_verify: false, trusted_hooks: None })
}

/// Puts a one-shot request's fallback questions to the user on the terminal (`y` goes ahead).
fn fallback_on_the_terminal() -> tokio::sync::mpsc::UnboundedSender<FallbackQuestion> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<FallbackQuestion>();
    tokio::spawn(async move {
        while let Some(question) = rx.recv().await {
            let text = format!("{FALLBACK_TITLE}\n{} [y/N] ", question.body("the staged diff"));
            let answer = tokio::task::spawn_blocking(move || {
                ask(&mut std::io::stdin().lock(), &text).unwrap_or_default()
            });
            let yes = matches!(answer.await.as_deref(), Ok("y" | "yes"));
            let _ = question.answer.send(yes);
        }
    });
    tx
}

/// One answer from the terminal, trimmed and lower-cased ("" at end of input); the question
/// goes to stderr. Also `kv1nt undo`'s.
pub(super) fn ask(input: &mut impl BufRead, question: &str) -> Result<String> {
    eprint!("{question}");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    input.read_line(&mut line).context("cannot read the answer")?;
    Ok(line.trim().to_lowercase())
}

/// Opens the message in `$VISUAL`/`$EDITOR`; the edited text (refused when empty).
fn edit_message(workdir: &Path, message: &str) -> Result<String> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .ok_or_else(|| anyhow!("cannot edit: set $EDITOR (or $VISUAL) to your editor, or answer y or n"))?;
    let repo = Repo::open(workdir).map_err(|e| anyhow!("{e}"))?;
    let path = repo.git_dir().join("KV1NT_COMMIT_EDITMSG");
    std::fs::write(&path, format!("{}\n", message.trim_end()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    // Through the shell, like git: EDITOR may carry arguments ("code --wait").
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(&editor)
        .arg(&path)
        .status()
        .with_context(|| format!("cannot start the editor `{editor}`"))?;
    if !status.success() {
        bail!("the editor `{editor}` failed ({status}); the message is unchanged");
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let _ = std::fs::remove_file(&path);
    let text: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).map(str::trim_end).collect();
    let text = text.join("\n").trim().to_string();
    if text.is_empty() {
        bail!("the edited message is empty; the message is unchanged");
    }
    Ok(text)
}

/// Where text goes: stdout, or stderr when stdout is reserved for JSON.
struct Out {
    json: bool,
}

impl Out {
    fn new(json: bool) -> Self {
        Out { json }
    }

    fn text(&mut self, text: &str) {
        if self.json {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }
}

/// Prints the final report: the JSON object, or the text (with the outcome when committed).
fn print_proposal(shown: &Shown, args: &CommitArgs, outcome: Option<&CommitOutcome>) {
    if args.json {
        println!("{}", to_json(shown, outcome));
        return;
    }
    match outcome {
        Some(o) => {
            let signed = if o.signed { " (signed)" } else { "" };
            println!("committed {} {}{signed}", o.id.get(..7).unwrap_or(&o.id), o.summary);
        }
        None => println!("{}", render_text(shown)),
    }
}

fn source_name(source: MessageSource) -> &'static str {
    match source {
        MessageSource::Model => "model",
        MessageSource::Summary => "summary",
    }
}

fn change_name(change: Change) -> &'static str {
    match change {
        Change::Added | Change::Untracked => "added",
        Change::Modified => "modified",
        Change::Deleted => "deleted",
        Change::Renamed => "renamed",
        Change::Typechange => "typechange",
    }
}

/// The proposal for a reader.
fn render_text(shown: &Shown) -> String {
    let p = &shown.proposal;
    let origin = match (p.message_source, &shown.note) {
        (_, Some(note)) if note == "edited by you" => "edited by you".to_string(),
        (MessageSource::Model, _) => "written by the model".to_string(),
        (MessageSource::Summary, Some(note)) => format!("a summary of the diff: {note}"),
        (MessageSource::Summary, None) => "a summary of the diff".to_string(),
    };
    let mut text = format!("Message ({origin}):\n");
    for line in p.message.lines() {
        text.push_str(&format!("    {line}\n").replace("    \n", "\n"));
    }
    text.push_str(&format!("\nFiles ({}):\n", p.files.len()));
    for file in &p.files {
        text.push_str(&format!("  {file}\n"));
    }
    text.push_str(&format!("\nDiffstat:\n{}", p.diffstat.render()));
    text.push_str(&format!("\nRisk: {}\n", p.assessment.risk.as_str()));
    for reason in &p.assessment.reasons {
        text.push_str(&format!("  - {reason}\n"));
    }
    text.trim_end().to_string()
}

fn to_json(shown: &Shown, outcome: Option<&CommitOutcome>) -> Value {
    let p = &shown.proposal;
    let per_file: Vec<Value> = p
        .diffstat
        .per_file
        .iter()
        .map(|f| {
            json!({"path": f.path, "status": change_name(f.status), "insertions": f.insertions,
                   "deletions": f.deletions, "binary": f.binary})
        })
        .collect();
    let mut object = json!({
        "message": p.message,
        "message_source": source_name(p.message_source),
        "note": shown.note,
        "files": p.files,
        "diffstat": {"files": p.diffstat.files, "insertions": p.diffstat.insertions,
                     "deletions": p.diffstat.deletions, "per_file": per_file},
        "risk": p.assessment.risk.as_str(),
        "reasons": p.assessment.reasons,
        "committed": outcome.is_some(),
    });
    if let (Some(o), Some(map)) = (outcome, object.as_object_mut()) {
        map.insert("id".into(), json!(o.id));
        map.insert("summary".into(), json!(o.summary));
        map.insert("signed".into(), json!(o.signed));
        map.insert("hook_output".into(), json!(o.hook_output));
    }
    object
}
