//! `read_file`: numbered text lines, bounded per call, streamed so huge files never sit in memory.
//!
//! Invariants:
//! - One pass over the file, in fixed-size chunks: it is hashed (sha256 of the whole file, recorded
//!   in the ledger on success), checked for text (no NUL in the first [`BINARY_SNIFF_BYTES`],
//!   valid UTF-8 throughout, validated incrementally across chunk boundaries), and split into
//!   lines. Only lines in the requested range are buffered, each capped near [`MAX_READ_BYTES`].
//! - One call returns at most [`MAX_READ_LINES`] lines and [`MAX_READ_BYTES`] of text; when it
//!   stops early it says which lines were left out and the exact call that reads them.
//! - Files over [`MAX_FILE_BYTES`] are refused unless a line range is given.
//! - Line numbers are 1-based; a line's trailing `\r` is not shown.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{
    BINARY_SNIFF_BYTES, MAX_FILE_BYTES, MAX_READ_BYTES, MAX_READ_LINES, ReadLedger, ToolError, Workspace,
};
use crate::engine::store::sha256_hex;

/// Arguments of `read_file`; lines are 1-based and inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadArgs {
    pub path: String,
    pub start_line: Option<usize>,
    pub end_line: Option<usize>,
}

/// Reads a text file with line numbers ("   12\tcode"); see the module doc for the limits.
pub fn read_file(ws: &Workspace, ledger: &mut ReadLedger, args: &ReadArgs) -> Result<String, ToolError> {
    let (abs, rel) = ws.resolve(&args.path, false)?;
    let meta = std::fs::metadata(&abs).map_err(|e| not_found_or_io(&e, &rel, "reading"))?;
    if meta.is_dir() {
        return Err(ToolError::Invalid(format!(
            "`{}` is a directory; use list_dir to see what it contains",
            args.path
        )));
    }
    let start = args.start_line.unwrap_or(1);
    if start == 0 {
        return Err(ToolError::Invalid("start_line must be 1 or more (lines are numbered from 1)".into()));
    }
    if let Some(end) = args.end_line
        && end < start
    {
        return Err(ToolError::Invalid(format!(
            "end_line ({end}) is before start_line ({start}); give end_line ≥ start_line"
        )));
    }
    let ranged = args.start_line.is_some() || args.end_line.is_some();
    if meta.len() > MAX_FILE_BYTES && !ranged {
        return Err(ToolError::Invalid(format!(
            "`{rel}` is {}, over the {} limit for reading a whole file; call read_file with \
             start_line and end_line (e.g. start_line=1, end_line=200), or use grep to find the \
             lines you need",
            human_size(meta.len()),
            human_size(MAX_FILE_BYTES)
        )));
    }

    let mut file = File::open(&abs).map_err(|e| not_found_or_io(&e, &rel, "reading"))?;
    let mut scan = Scan::new(start, args.end_line);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(ToolError::io("reading", &rel, &e)),
        };
        scan.feed(&buf[..n]).map_err(|why| binary(&rel, why))?;
    }
    let done = scan.finish().map_err(|why| binary(&rel, why))?;

    let total = done.total_lines;
    let mut out = done.out;
    if total == 0 {
        out = format!("[`{rel}` is empty]");
    } else if start > total {
        return Err(ToolError::Invalid(format!(
            "`{rel}` has only {total} lines; start_line={start} is past the end"
        )));
    } else if let Some(first_missing) = done.stopped_at {
        let last = args.end_line.map_or(total, |e| e.min(total));
        let lines = if first_missing == last {
            format!("line {first_missing}")
        } else {
            format!("lines {first_missing}–{last}")
        };
        out.push_str(&format!(
            "[{lines} not shown (one call returns at most {MAX_READ_LINES} lines or {} of text): \
             call read_file with start_line={first_missing}]",
            human_size(MAX_READ_BYTES as u64)
        ));
    } else if ranged {
        let last = args.end_line.map_or(total, |e| e.min(total));
        out.push_str(&format!("[showing lines {start}–{last} of {total}]"));
    }
    ledger.record_hash(&rel, done.hash);
    Ok(out.trim_end_matches('\n').to_string())
}

/// Why a file is not text, if it is not: a NUL in the first [`BINARY_SNIFF_BYTES`], or not UTF-8.
pub(crate) fn binary_reason(bytes: &[u8]) -> Option<&'static str> {
    if bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0) {
        Some(NUL_REASON)
    } else if std::str::from_utf8(bytes).is_err() {
        Some(UTF8_REASON)
    } else {
        None
    }
}

/// An existing text file, loaded whole for editing: (text, sha256 of its bytes).
/// `Ok(None)` when it does not exist.
pub(crate) fn load_text(abs: &Path, rel: &str) -> Result<Option<(String, String)>, ToolError> {
    let meta = match std::fs::metadata(abs) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ToolError::io("reading", rel, &e)),
    };
    if meta.is_dir() {
        return Err(ToolError::Invalid(format!("`{rel}` is a directory, not a file")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ToolError::Invalid(format!(
            "`{rel}` is {}, too large to edit here (limit {})",
            human_size(meta.len()),
            human_size(MAX_FILE_BYTES)
        )));
    }
    let bytes = match std::fs::read(abs) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ToolError::io("reading", rel, &e)),
    };
    if let Some(why) = binary_reason(&bytes) {
        return Err(ToolError::Invalid(format!(
            "`{rel}` is a binary file ({why}); only text files can be edited"
        )));
    }
    let hash = sha256_hex(&bytes);
    let text = String::from_utf8(bytes).expect("checked by binary_reason");
    Ok(Some((text, hash)))
}

/// "1.5 MiB", "340 B".
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if v.fract() == 0.0 { format!("{v:.0} {}", UNITS[unit]) } else { format!("{v:.1} {}", UNITS[unit]) }
}

const NUL_REASON: &str = "it contains a NUL byte";
const UTF8_REASON: &str = "it is not valid UTF-8";

fn binary(rel: &str, why: &str) -> ToolError {
    ToolError::Invalid(format!("`{rel}` is a binary file ({why}); read_file only shows text files"))
}

fn not_found_or_io(e: &std::io::Error, rel: &str, what: &str) -> ToolError {
    if e.kind() == ErrorKind::NotFound {
        ToolError::NotFound(format!("`{rel}` does not exist; use list_dir or grep to find the right path"))
    } else {
        ToolError::io(what, rel, e)
    }
}

/// Bytes kept of one line: enough to fill a whole call, plus a partial UTF-8 character.
const LINE_CAP: usize = MAX_READ_BYTES + 4;

/// The streaming state of one read.
struct Scan {
    start: usize,
    end: Option<usize>,
    hasher: Sha256,
    sniffed: usize,
    utf8_carry: Vec<u8>,
    /// 1-based number of the line being accumulated.
    line_no: usize,
    /// Its bytes so far (only when it is to be shown), capped at [`LINE_CAP`].
    line: Vec<u8>,
    /// Its full length so far.
    line_len: usize,
    out: String,
    shown: usize,
    stopped_at: Option<usize>,
}

struct Scanned {
    out: String,
    hash: String,
    total_lines: usize,
    stopped_at: Option<usize>,
}

impl Scan {
    fn new(start: usize, end: Option<usize>) -> Scan {
        Scan {
            start,
            end,
            hasher: Sha256::new(),
            sniffed: 0,
            utf8_carry: Vec::new(),
            line_no: 1,
            line: Vec::new(),
            line_len: 0,
            out: String::new(),
            shown: 0,
            stopped_at: None,
        }
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<(), &'static str> {
        self.hasher.update(chunk);
        if self.sniffed < BINARY_SNIFF_BYTES {
            let take = (BINARY_SNIFF_BYTES - self.sniffed).min(chunk.len());
            if chunk[..take].contains(&0) {
                return Err(NUL_REASON);
            }
            self.sniffed += take;
        }
        self.check_utf8(chunk)?;
        let mut rest = chunk;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            self.take(&rest[..i]);
            self.end_line();
            rest = &rest[i + 1..];
        }
        self.take(rest);
        Ok(())
    }

    fn finish(mut self) -> Result<Scanned, &'static str> {
        if !self.utf8_carry.is_empty() {
            return Err(UTF8_REASON);
        }
        if self.line_len > 0 {
            self.end_line();
        }
        Ok(Scanned {
            out: self.out,
            hash: format!("{:x}", self.hasher.finalize()),
            total_lines: self.line_no - 1,
            stopped_at: self.stopped_at,
        })
    }

    /// Incremental UTF-8 check: an incomplete character at the end of a chunk is carried over.
    fn check_utf8(&mut self, chunk: &[u8]) -> Result<(), &'static str> {
        let joined;
        let data = if self.utf8_carry.is_empty() {
            chunk
        } else {
            joined = [self.utf8_carry.as_slice(), chunk].concat();
            &joined
        };
        match std::str::from_utf8(data) {
            Ok(_) => self.utf8_carry.clear(),
            Err(e) if e.error_len().is_none() => self.utf8_carry = data[e.valid_up_to()..].to_vec(),
            Err(_) => return Err(UTF8_REASON),
        }
        Ok(())
    }

    fn wanted(&self) -> bool {
        self.stopped_at.is_none() && self.line_no >= self.start && self.end.is_none_or(|e| self.line_no <= e)
    }

    fn take(&mut self, seg: &[u8]) {
        self.line_len += seg.len();
        if self.wanted() && self.line.len() < LINE_CAP {
            let room = LINE_CAP - self.line.len();
            self.line.extend_from_slice(&seg[..seg.len().min(room)]);
        }
    }

    fn end_line(&mut self) {
        if self.wanted() {
            self.emit();
        }
        self.line.clear();
        self.line_len = 0;
        self.line_no += 1;
    }

    fn emit(&mut self) {
        let bytes = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            // Cut at LINE_CAP inside a character; the whole file is validated separately.
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        };
        let entry = format!("{:>5}\t{text}\n", self.line_no);
        let full = self.line_len <= self.line.len();
        let fits = full && self.out.len() + entry.len() <= MAX_READ_BYTES;
        if self.shown < MAX_READ_LINES && fits {
            self.out.push_str(&entry);
            self.shown += 1;
        } else if self.shown == 0 {
            // A single line too long for one call: show its head rather than nothing.
            let mut cut = MAX_READ_BYTES.saturating_sub(200).min(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            self.out.push_str(&format!(
                "{:>5}\t{}\n[line {} is {} bytes long; only its first {cut} bytes are shown — use grep \
                 to search inside it]\n",
                self.line_no,
                &text[..cut],
                self.line_no,
                self.line_len
            ));
            self.shown += 1;
        } else {
            self.stopped_at = Some(self.line_no);
        }
    }
}
