//! One download's bytes: `FILE.part` filled over HTTP, resumed with `Range: bytes=N-` after a
//! dropped or stalled connection (a few tries), restarted when the server ignores or refuses the
//! range, and a full disk reported with the directory and the bytes still needed.
//!
//! Invariants: the `.part` only grows by bytes the server sent for its offset (a `206` must
//! start where the file ends, a `200` restarts it); nothing here deletes the `.part` except to
//! restart it — the caller verifies and moves it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, RANGE};

use super::human_size;
use super::pull::PullOptions;
use crate::engine::protocol::PullProgress;

/// What to fetch and where to put it.
pub struct Target<'a> {
    pub url: &'a str,
    /// The whole size when the server said it up front.
    pub total: Option<u64>,
    pub part: &'a Path,
    /// As the user typed it (for "run the same pull again").
    pub reference: &'a str,
}

/// How one request ended.
enum Step {
    Done,
    Retry(String),
}

pub async fn download(
    client: &reqwest::Client,
    target: &Target<'_>,
    options: &PullOptions,
    progress: &mut (dyn FnMut(PullProgress) + Send),
) -> Result<()> {
    let (part, reference) = (target.part, target.reference);
    let mut total = target.total;
    // Known too small before a byte moves: say so now rather than after filling the disk.
    if let (Some(t), Some(free)) = (total, part.parent().and_then(free_bytes)) {
        let have = part_len(part);
        if free < t.saturating_sub(have) {
            return Err(disk_full(part, have, total));
        }
    }
    let mut announced = false;
    for attempt in 1..=options.attempts.max(1) {
        let step =
            fetch_once(client, target.url, part, &mut total, &mut announced, options.idle, progress).await?;
        let reason = match step {
            Step::Done => return Ok(()),
            Step::Retry(reason) => reason,
        };
        let done = part_len(part);
        if attempt == options.attempts.max(1) {
            bail!(
                "the download stopped ({reason}) after {attempt} tries; {done} bytes are kept in {} and \
                 `kv1nt model pull {reference}` resumes from there",
                part.display()
            );
        }
        progress(PullProgress::Retrying { attempt, done, reason });
        tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
    }
    unreachable!("the loop returns on its last attempt")
}

fn part_len(part: &Path) -> u64 {
    std::fs::metadata(part).map(|m| m.len()).unwrap_or(0)
}

async fn fetch_once(
    client: &reqwest::Client,
    url: &str,
    part: &Path,
    total: &mut Option<u64>,
    announced: &mut bool,
    idle: Duration,
    progress: &mut (dyn FnMut(PullProgress) + Send),
) -> Result<Step> {
    let mut have = part_len(part);
    if total.is_some_and(|t| have > t) {
        truncate(part)?;
        have = 0;
    }
    if total.is_some_and(|t| have == t) && have > 0 {
        return Ok(Step::Done);
    }
    let mut request = client.get(url);
    if have > 0 {
        request = request.header(RANGE, format!("bytes={have}-"));
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return Ok(Step::Retry(crate::engine::llm::http::error_chain(&e))),
    };
    let status = response.status();
    let header =
        |name| response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok());
    match status {
        StatusCode::PARTIAL_CONTENT => {
            let range = header(CONTENT_RANGE).and_then(parse_content_range);
            match range {
                Some((start, whole)) if start == have => *total = total.or(whole),
                _ => {
                    truncate(part)?;
                    return Ok(Step::Retry("the server resumed at another offset; starting over".into()));
                }
            }
        }
        StatusCode::OK => {
            if have > 0 {
                truncate(part)?;
                have = 0;
            }
            *total = total.or_else(|| header(CONTENT_LENGTH).and_then(|v| v.parse().ok()));
        }
        StatusCode::RANGE_NOT_SATISFIABLE => {
            truncate(part)?;
            return Ok(Step::Retry("the server refused the resume range; starting over".into()));
        }
        s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => {
            return Ok(Step::Retry(format!("{s} from the server")));
        }
        s => bail!("{url} answered {s}"),
    }
    if !*announced {
        *announced = true;
        progress(PullProgress::Started { total: *total, resumed_from: have });
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(part)
        .with_context(|| format!("cannot write {}", part.display()))?;
    let mut done = have;
    let mut body = response.bytes_stream();
    loop {
        let chunk = match tokio::time::timeout(idle, body.next()).await {
            Err(_) => return Ok(Step::Retry(format!("no data for {} s", idle.as_secs()))),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Ok(Step::Retry(crate::engine::llm::http::error_chain(&e))),
            Ok(Some(Ok(chunk))) => chunk,
        };
        file.write_all(&chunk).map_err(|e| write_error(e, part, done, *total))?;
        done += chunk.len() as u64;
        progress(PullProgress::Bytes { done, total: *total });
    }
    file.sync_all().map_err(|e| write_error(e, part, done, *total))?;
    match *total {
        Some(t) if done < t => Ok(Step::Retry(format!("the connection closed at {done} of {t} bytes"))),
        Some(t) if done > t => {
            truncate(part)?;
            bail!("the server sent {done} bytes for a file of {t}; the download was deleted")
        }
        _ => Ok(Step::Done),
    }
}

/// `bytes START-END/TOTAL` → (START, TOTAL when not `*`).
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, whole) = rest.split_once('/')?;
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    Some((start, whole.trim().parse().ok()))
}

fn truncate(part: &Path) -> Result<()> {
    match std::fs::OpenOptions::new().write(true).truncate(true).open(part) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow!("cannot reset {}: {e}", part.display())),
    }
}

fn write_error(e: std::io::Error, part: &Path, done: u64, total: Option<u64>) -> anyhow::Error {
    if e.raw_os_error() != Some(libc::ENOSPC) {
        return anyhow!("cannot write {}: {e}", part.display());
    }
    disk_full(part, done, total)
}

/// The bytes an unprivileged user may still write in `dir`, when the filesystem says.
// The field types differ by platform (u64 on Linux, u32 elsewhere).
#[allow(clippy::useless_conversion)]
fn free_bytes(dir: &Path) -> Option<u64> {
    let stat = nix::sys::statvfs::statvfs(dir).ok()?;
    Some(u64::from(stat.blocks_available()).saturating_mul(u64::from(stat.fragment_size())))
}

fn disk_full(part: &Path, done: u64, total: Option<u64>) -> anyhow::Error {
    let dir = part.parent().map(PathBuf::from).unwrap_or_default();
    let needed = match total {
        Some(t) => format!("{} more bytes ({})", t.saturating_sub(done), human_size(t.saturating_sub(done))),
        None => "more room (the size is unknown)".to_string(),
    };
    anyhow!(
        "the disk is full: {} needs {needed} for this model. The {done} bytes downloaded so far are kept in {}; \
         free some space and run the same pull again to resume",
        dir.display(),
        part.display()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_ranges_parse() {
        assert_eq!(super::parse_content_range("bytes 100-199/200"), Some((100, Some(200))));
        assert_eq!(super::parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(super::parse_content_range("items 1-2/3"), None);
    }

    #[test]
    fn a_full_disk_says_where_and_how_much() {
        let text = super::disk_full(std::path::Path::new("/data/models/m.gguf.part"), 100, Some(2_000_100))
            .to_string();
        assert!(text.contains("/data/models needs 2000000 more bytes (2 MB)"), "{text}");
        assert!(text.contains("kept in /data/models/m.gguf.part"), "{text}");
        assert!(super::free_bytes(std::path::Path::new("/")).is_some());
    }
}
