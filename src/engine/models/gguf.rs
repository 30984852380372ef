//! A bounded reader of a GGUF file's header: magic, version, the metadata key/value pairs and
//! the tensor descriptions, from which the architecture, context length, parameter count and
//! quantisation are taken. The weights are never read.
//!
//! kv1nt's one GGUF reader: `kv1nt model`, the store and downloads call [`read`]; the built-in
//! provider asks [`info`] (cached) for the context window and before llama.cpp sees a file.
//!
//! Invariants: the file is untrusted. Every length and count is checked against what is left
//! of the file before it is used, only a handful of short values are kept (arrays and long
//! strings are skipped by seeking), and every problem is an [`GgufError`] naming what was
//! wrong — never a panic and never an allocation sized by the file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// `GGUF` as a little-endian u32.
const MAGIC: &[u8; 4] = b"GGUF";
/// Header counts beyond these are refused before anything is read.
const MAX_KV: u64 = 1 << 20;
const MAX_TENSORS: u64 = 1 << 20;
/// Keys longer than this are refused; string values longer are skipped, not kept.
const MAX_KEY: u64 = 64 * 1024;
const MAX_KEPT_VALUE: u64 = 4096;
/// A tensor has at most this many dimensions (GGML_MAX_DIMS is 4).
const MAX_DIMS: u32 = 8;
/// Array nesting kv1nt follows.
const MAX_DEPTH: u32 = 4;

/// What kv1nt shows of a GGUF model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GgufInfo {
    pub version: u32,
    pub architecture: Option<String>,
    /// `general.name`, when the file has one.
    pub name: Option<String>,
    /// `<architecture>.context_length`: the context the model was trained for.
    pub context_length: Option<u64>,
    /// The sum of the tensors' element counts.
    pub parameters: u64,
    /// `general.file_type` as llama.cpp names it (`Q4_K_M`, `F16` …).
    pub file_type: Option<String>,
    pub tensors: u64,
    /// `tokenizer.chat_template` is present and not empty (the prompt format is the model's own).
    pub has_chat_template: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a GGUF model (it does not start with `GGUF`)")]
    NotGguf { path: String },
    #[error("{path} is GGUF version {version}, which kv1nt cannot read (versions 2 and 3 are)")]
    Version { path: String, version: u32 },
    #[error("{path} is not a valid GGUF file: {what}")]
    Corrupt { path: String, what: String },
}

/// [`read`], cached per path, size and modification time, so the context budget can ask every
/// step without reading the file again.
pub fn info(path: &Path) -> Result<GgufInfo, GgufError> {
    type Cache = HashMap<PathBuf, (u64, Option<SystemTime>, GgufInfo)>;
    static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
    let meta = std::fs::metadata(path)
        .map_err(|source| GgufError::Io { path: path.display().to_string(), source })?;
    let key = (meta.len(), meta.modified().ok());
    if let Some((len, mtime, info)) =
        CACHE.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_default().get(path)
        && (*len, *mtime) == key
    {
        return Ok(info.clone());
    }
    let info = read(path)?;
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.get_or_insert_default().insert(path.to_path_buf(), (key.0, key.1, info.clone()));
    Ok(info)
}

/// Reads the header of the GGUF file at `path`.
pub fn read(path: &Path) -> Result<GgufInfo, GgufError> {
    let shown = path.display().to_string();
    let io = |source| GgufError::Io { path: shown.clone(), source };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut reader = Reader { inner: BufReader::new(file), len, pos: 0 };
    reader.header().map_err(|e| match e {
        Fault::Io(source) => GgufError::Io { path: shown.clone(), source },
        Fault::NotGguf => GgufError::NotGguf { path: shown.clone() },
        Fault::Version(version) => GgufError::Version { path: shown.clone(), version },
        Fault::Corrupt(what) => GgufError::Corrupt { path: shown.clone(), what },
    })
}

enum Fault {
    Io(std::io::Error),
    NotGguf,
    Version(u32),
    Corrupt(String),
}

impl From<std::io::Error> for Fault {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Fault::Corrupt("it ends inside its header".into())
        } else {
            Fault::Io(e)
        }
    }
}

fn corrupt(what: impl Into<String>) -> Fault {
    Fault::Corrupt(what.into())
}

/// A value kept from the metadata.
enum Kept {
    Int(u64),
    Text(String),
    Other,
}

struct Reader {
    inner: BufReader<File>,
    len: u64,
    pos: u64,
}

impl Reader {
    fn left(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], Fault> {
        let mut buf = [0u8; N];
        self.inner.read_exact(&mut buf)?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn u32(&mut self) -> Result<u32, Fault> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    fn u64(&mut self) -> Result<u64, Fault> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    fn skip(&mut self, n: u64) -> Result<(), Fault> {
        if n > self.left() {
            return Err(corrupt("a value runs past the end of the file"));
        }
        let n = i64::try_from(n).map_err(|_| corrupt("a length is too large"))?;
        self.inner.seek_relative(n)?;
        self.pos += n as u64;
        Ok(())
    }

    /// A length-prefixed string: kept when at most `keep` bytes, else skipped (`None`).
    fn string(&mut self, keep: u64) -> Result<Option<String>, Fault> {
        let n = self.u64()?;
        if n > self.left() {
            return Err(corrupt(format!("a string of {n} bytes runs past the end of the file")));
        }
        if n > keep {
            self.skip(n)?;
            return Ok(None);
        }
        let mut buf = vec![0u8; n as usize];
        self.inner.read_exact(&mut buf)?;
        self.pos += n;
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }

    fn header(&mut self) -> Result<GgufInfo, Fault> {
        let magic: [u8; 4] = self.bytes().map_err(|_| Fault::NotGguf)?;
        if &magic != MAGIC {
            return Err(Fault::NotGguf);
        }
        let version = self.u32()?;
        if !(2..=3).contains(&version) {
            return Err(Fault::Version(version));
        }
        let tensors = self.u64()?;
        let kv_count = self.u64()?;
        if tensors > MAX_TENSORS || kv_count > MAX_KV {
            return Err(corrupt(format!("it claims {tensors} tensors and {kv_count} metadata entries")));
        }
        let mut info = GgufInfo { version, tensors, ..GgufInfo::default() };
        let mut contexts = Vec::new();
        let mut file_type = None;
        for _ in 0..kv_count {
            let key = self.string(MAX_KEY)?.ok_or_else(|| corrupt("a metadata key is too long"))?;
            let kind = self.u32()?;
            if kind == 8 && key == "tokenizer.chat_template" {
                // Templates run to several KiB: only whether there is one is kept (`string(0)`
                // skips, giving `None`, any string longer than 0 bytes).
                info.has_chat_template = self.string(0)?.is_none();
                continue;
            }
            let value = self.value(kind, 0)?;
            match (key.as_str(), value) {
                ("general.architecture", Kept::Text(v)) => info.architecture = Some(v),
                ("general.name", Kept::Text(v)) => info.name = Some(v),
                ("general.file_type", Kept::Int(v)) => file_type = Some(v),
                (k, Kept::Int(v)) if k.ends_with(".context_length") => contexts.push((key, v)),
                _ => {}
            }
        }
        if let Some(arch) = &info.architecture {
            let wanted = format!("{arch}.context_length");
            info.context_length = contexts.iter().find(|(k, _)| *k == wanted).map(|(_, v)| *v);
        }
        info.file_type = file_type.map(file_type_name);
        for _ in 0..tensors {
            self.string(MAX_KEY)?.ok_or_else(|| corrupt("a tensor name is too long"))?;
            let dims = self.u32()?;
            if dims > MAX_DIMS {
                return Err(corrupt(format!("a tensor has {dims} dimensions")));
            }
            let mut count: u64 = 1;
            for _ in 0..dims {
                count = count.saturating_mul(self.u64()?);
            }
            let _kind = self.u32()?;
            let _offset = self.u64()?;
            info.parameters = info.parameters.saturating_add(count);
        }
        Ok(info)
    }

    /// One metadata value of type `kind`; only integers and short strings are kept.
    fn value(&mut self, kind: u32, depth: u32) -> Result<Kept, Fault> {
        Ok(match kind {
            0 | 1 | 7 => Kept::Int(u64::from(self.bytes::<1>()?[0])),
            2 | 3 => Kept::Int(u64::from(u16::from_le_bytes(self.bytes()?))),
            4 | 5 => Kept::Int(u64::from(self.u32()?)),
            10 | 11 => Kept::Int(self.u64()?),
            6 => {
                self.skip(4)?;
                Kept::Other
            }
            12 => {
                self.skip(8)?;
                Kept::Other
            }
            8 => self.string(MAX_KEPT_VALUE)?.map(Kept::Text).unwrap_or(Kept::Other),
            9 => {
                if depth >= MAX_DEPTH {
                    return Err(corrupt("arrays are nested too deeply"));
                }
                let inner = self.u32()?;
                let count = self.u64()?;
                match fixed_size(inner) {
                    Some(size) => {
                        self.skip(count.checked_mul(size).ok_or_else(|| corrupt("an array is too large"))?)?
                    }
                    None => {
                        // Each element takes at least 8 bytes (a string's length, an array's header).
                        if count > self.left() / 8 {
                            return Err(corrupt(format!(
                                "an array of {count} elements runs past the end of the file"
                            )));
                        }
                        for _ in 0..count {
                            self.value(inner, depth + 1)?;
                        }
                    }
                }
                Kept::Other
            }
            other => return Err(corrupt(format!("unknown metadata type {other}"))),
        })
    }
}

fn fixed_size(kind: u32) -> Option<u64> {
    match kind {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

/// llama.cpp's `llama_ftype` names.
fn file_type_name(code: u64) -> String {
    let name = match code {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        _ => return format!("type {code}"),
    };
    name.to_string()
}

/// A human size for a parameter count: `1.5B`, `270M`.
pub fn parameters_label(count: u64) -> String {
    match count {
        n if n >= 1_000_000_000 => format!("{:.1}B", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 => format!("{}K", n / 1_000),
        n => n.to_string(),
    }
}

#[cfg(test)]
#[path = "gguf_tests.rs"]
mod tests;
