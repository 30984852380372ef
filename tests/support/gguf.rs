//! A tiny but valid GGUF file built in the test: header, metadata (architecture, name, context
//! length, file type) and tensor descriptions, then `weights` bytes of data — enough for kv1nt's
//! header reader and for download tests, with no model weights involved.

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// A GGUF v3 of architecture `arch` with two tensors (4×8 and 10 elements), a 4096-token
/// context, file type Q4_K_M, and `weights` bytes of deterministic data after the header.
pub fn tiny_gguf(arch: &str, weights: usize) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend(2u64.to_le_bytes()); // tensors
    out.extend(4u64.to_le_bytes()); // metadata entries
    string(&mut out, "general.architecture");
    out.extend(8u32.to_le_bytes());
    string(&mut out, arch);
    string(&mut out, "general.name");
    out.extend(8u32.to_le_bytes());
    string(&mut out, "Tiny Test Model");
    string(&mut out, &format!("{arch}.context_length"));
    out.extend(4u32.to_le_bytes());
    out.extend(4096u32.to_le_bytes());
    string(&mut out, "general.file_type");
    out.extend(4u32.to_le_bytes());
    out.extend(15u32.to_le_bytes());
    for (name, dims) in [("a.weight", &[4u64, 8][..]), ("b.weight", &[10u64][..])] {
        string(&mut out, name);
        out.extend((dims.len() as u32).to_le_bytes());
        for d in dims {
            out.extend(d.to_le_bytes());
        }
        out.extend(12u32.to_le_bytes());
        out.extend(0u64.to_le_bytes());
    }
    out.extend((0..weights).map(|i| (i * 31 % 251) as u8));
    out
}
