//! Reading a GGUF file's metadata header in Rust: the architecture, its training context
//! (`<arch>.context_length`) and whether it carries a chat template — without loading the model
//! or handing an untrusted file to C++.
//!
//! Invariants: a malformed or hostile file gives an `Err` naming the problem, never a panic or
//! an allocation sized by the file (lengths are bounded, skipped bytes are seeked over). Results
//! are cached per path, size and modification time, so the context budget can ask every step.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// What the header says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GgufInfo {
    pub architecture: String,
    /// `<architecture>.context_length`, 0 when absent.
    pub context_length: u64,
    pub has_chat_template: bool,
}

/// Longest string read into memory (a chat template is a few KiB; longer ones are skipped).
const MAX_KEEP: u64 = 1 << 20;
const MAX_KV: u64 = 1 << 20;

/// The training context of the GGUF at `path`, cached.
pub fn train_context(path: &Path) -> Result<u64, String> {
    info(path).map(|i| i.context_length)
}

/// The header of the GGUF at `path`, cached by (path, size, mtime).
pub fn info(path: &Path) -> Result<GgufInfo, String> {
    type Cache = HashMap<PathBuf, (u64, Option<SystemTime>, GgufInfo)>;
    static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let key = (meta.len(), meta.modified().ok());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((len, mtime, info)) = cache.get_or_insert_default().get(path)
        && (*len, *mtime) == key
    {
        return Ok(info.clone());
    }
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let info = read(&mut BufReader::new(file))
        .map_err(|e| format!("{}: not a readable GGUF: {e}", path.display()))?;
    cache.get_or_insert_default().insert(path.to_path_buf(), (key.0, key.1, info.clone()));
    Ok(info)
}

/// Parse the header from `r`.
pub fn read(r: &mut (impl Read + Seek)) -> Result<GgufInfo, String> {
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic).map_err(|e| e.to_string())?;
    if &magic != b"GGUF" {
        return Err("no GGUF magic".into());
    }
    let version = u32_le(r)?;
    if !(2..=3).contains(&version) {
        return Err(format!("unsupported GGUF version {version}"));
    }
    let _tensors = u64_le(r)?;
    let kv_count = u64_le(r)?;
    if kv_count > MAX_KV {
        return Err(format!("{kv_count} metadata entries"));
    }
    let mut info = GgufInfo::default();
    let mut lengths: Vec<(String, u64)> = Vec::new();
    for _ in 0..kv_count {
        let key = string(r)?.unwrap_or_default();
        let ty = u32_le(r)?;
        match (key.as_str(), ty) {
            ("general.architecture", 8) => info.architecture = string(r)?.unwrap_or_default(),
            ("tokenizer.chat_template", 8) => {
                info.has_chat_template = string(r)?.is_some_and(|t| !t.trim().is_empty())
            }
            (k, 4 | 5 | 10 | 11) if k.ends_with(".context_length") => {
                let v = if matches!(ty, 4 | 5) { u64::from(u32_le(r)?) } else { u64_le(r)? };
                lengths.push((k.trim_end_matches(".context_length").to_string(), v));
            }
            _ => skip_value(r, ty, 0)?,
        }
    }
    info.context_length = lengths.iter().find(|(arch, _)| *arch == info.architecture).map_or(0, |(_, v)| *v);
    Ok(info)
}

fn u32_le(r: &mut impl Read) -> Result<u32, String> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b).map_err(|e| e.to_string())?;
    Ok(u32::from_le_bytes(b))
}

fn u64_le(r: &mut impl Read) -> Result<u64, String> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b).map_err(|e| e.to_string())?;
    Ok(u64::from_le_bytes(b))
}

/// A length-prefixed string; None (skipped) when longer than [`MAX_KEEP`].
fn string(r: &mut (impl Read + Seek)) -> Result<Option<String>, String> {
    let len = u64_le(r)?;
    if len > MAX_KEEP {
        skip(r, len)?;
        return Ok(None);
    }
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf).map_err(|e| e.to_string())?;
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

fn skip(r: &mut impl Seek, n: u64) -> Result<(), String> {
    let n = i64::try_from(n).map_err(|_| "length out of range".to_string())?;
    r.seek(SeekFrom::Current(n)).map(|_| ()).map_err(|e| e.to_string())
}

fn skip_value(r: &mut (impl Read + Seek), ty: u32, depth: u32) -> Result<(), String> {
    let fixed = match ty {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        8 => return skip_string(r),
        9 if depth < 4 => {
            let inner = u32_le(r)?;
            let n = u64_le(r)?;
            return match inner {
                8 | 9 => (0..n).try_for_each(|_| skip_value(r, inner, depth + 1)),
                _ => {
                    let size = element_size(inner)?;
                    skip(r, n.checked_mul(size).ok_or("array size overflows")?)
                }
            };
        }
        other => return Err(format!("unknown metadata type {other}")),
    };
    skip(r, fixed)
}

fn skip_string(r: &mut (impl Read + Seek)) -> Result<(), String> {
    let len = u64_le(r)?;
    skip(r, len)
}

fn element_size(ty: u32) -> Result<u64, String> {
    Ok(match ty {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        other => return Err(format!("unknown array element type {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn kv_string(out: &mut Vec<u8>, key: &str, value: &str) {
        out.extend((key.len() as u64).to_le_bytes());
        out.extend(key.as_bytes());
        out.extend(8u32.to_le_bytes());
        out.extend((value.len() as u64).to_le_bytes());
        out.extend(value.as_bytes());
    }

    fn header(kvs: u64) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(3u32.to_le_bytes());
        out.extend(0u64.to_le_bytes());
        out.extend(kvs.to_le_bytes());
        out
    }

    #[test]
    fn reads_the_architecture_context_and_template_past_arrays() {
        let mut f = header(4);
        kv_string(&mut f, "general.architecture", "gemma3");
        // tokenizer.ggml.tokens: an array of 2 strings, skipped
        f.extend(21u64.to_le_bytes());
        f.extend(b"tokenizer.ggml.tokens");
        f.extend(9u32.to_le_bytes());
        f.extend(8u32.to_le_bytes());
        f.extend(2u64.to_le_bytes());
        for t in ["<s>", "hi"] {
            f.extend((t.len() as u64).to_le_bytes());
            f.extend(t.as_bytes());
        }
        f.extend(21u64.to_le_bytes());
        f.extend(b"gemma3.context_length");
        f.extend(4u32.to_le_bytes());
        f.extend(32_768u32.to_le_bytes());
        kv_string(&mut f, "tokenizer.chat_template", "{{ messages }}");
        let info = read(&mut Cursor::new(f)).unwrap();
        assert_eq!(
            info,
            GgufInfo { architecture: "gemma3".into(), context_length: 32_768, has_chat_template: true }
        );
    }

    #[test]
    fn hostile_headers_are_errors_not_panics() {
        assert!(read(&mut Cursor::new(b"GGML\x03\0\0\0".to_vec())).is_err());
        let mut huge = header(1);
        huge.extend(u64::MAX.to_le_bytes()); // key length beyond the file
        assert!(read(&mut Cursor::new(huge)).is_err());
        let mut truncated = header(2);
        kv_string(&mut truncated, "general.architecture", "llama");
        assert!(read(&mut Cursor::new(truncated)).is_err());
        let mut bad_array = header(1);
        bad_array.extend(1u64.to_le_bytes());
        bad_array.extend(b"k");
        bad_array.extend(9u32.to_le_bytes());
        bad_array.extend(4u32.to_le_bytes());
        bad_array.extend(u64::MAX.to_le_bytes());
        assert!(read(&mut Cursor::new(bad_array)).is_err());
    }
}
