use super::*;

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// A header with the given metadata entries (already encoded as type + value) and tensors.
fn header(kv: &[(&str, Vec<u8>)], tensors: &[(&str, &[u64])]) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend((tensors.len() as u64).to_le_bytes());
    out.extend((kv.len() as u64).to_le_bytes());
    for (key, value) in kv {
        string(&mut out, key);
        out.extend(value);
    }
    for (name, dims) in tensors {
        string(&mut out, name);
        out.extend((dims.len() as u32).to_le_bytes());
        for d in *dims {
            out.extend(d.to_le_bytes());
        }
        out.extend(0u32.to_le_bytes());
        out.extend(0u64.to_le_bytes());
    }
    out
}

fn text(s: &str) -> Vec<u8> {
    let mut out = 8u32.to_le_bytes().to_vec();
    string(&mut out, s);
    out
}

fn u32v(v: u32) -> Vec<u8> {
    let mut out = 4u32.to_le_bytes().to_vec();
    out.extend(v.to_le_bytes());
    out
}

fn read_bytes(bytes: &[u8]) -> Result<GgufInfo, GgufError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.gguf");
    std::fs::write(&path, bytes).unwrap();
    read(&path)
}

#[test]
fn reads_architecture_context_parameters_and_quantisation() {
    let mut tokens = 9u32.to_le_bytes().to_vec();
    tokens.extend(8u32.to_le_bytes());
    tokens.extend(2u64.to_le_bytes());
    string(&mut tokens, "<s>");
    string(&mut tokens, "</s>");
    let bytes = header(
        &[
            ("general.architecture", text("qwen2")),
            ("general.name", text("Tiny")),
            ("general.file_type", u32v(15)),
            ("llama.context_length", u32v(1)),
            ("qwen2.context_length", u32v(32768)),
            ("tokenizer.ggml.tokens", tokens),
        ],
        &[("a", &[4, 8]), ("b", &[10])],
    );
    let info = read_bytes(&bytes).unwrap();
    assert_eq!(info.architecture.as_deref(), Some("qwen2"));
    assert_eq!(info.name.as_deref(), Some("Tiny"));
    assert_eq!(info.context_length, Some(32768));
    assert_eq!(info.parameters, 42);
    assert_eq!(info.file_type.as_deref(), Some("Q4_K_M"));
    assert!(!info.has_chat_template);
    assert_eq!(parameters_label(1_543_714_304), "1.5B");
    assert_eq!(parameters_label(268_098_176), "268M");
}

#[test]
fn hostile_headers_are_clear_errors() {
    let not = read_bytes(b"PK\x03\x04 a zip file").unwrap_err().to_string();
    assert!(not.contains("is not a GGUF model"), "{not}");
    let mut v1 = b"GGUF".to_vec();
    v1.extend(1u32.to_le_bytes());
    assert!(read_bytes(&v1).unwrap_err().to_string().contains("version 1"));
    // A string claiming 2^60 bytes: refused without allocating.
    let mut huge = header(&[], &[]);
    huge[16..24].copy_from_slice(&1u64.to_le_bytes());
    huge.extend((1u64 << 60).to_le_bytes());
    let err = read_bytes(&huge).unwrap_err().to_string();
    assert!(err.contains("runs past the end"), "{err}");
    // An array of 2^62 strings.
    let mut arr = 9u32.to_le_bytes().to_vec();
    arr.extend(8u32.to_le_bytes());
    arr.extend((1u64 << 62).to_le_bytes());
    let err = read_bytes(&header(&[("x", arr)], &[])).unwrap_err().to_string();
    assert!(err.contains("runs past the end"), "{err}");
    // An array of 2^62 u64s overflows the multiplication or the file.
    let mut arr = 9u32.to_le_bytes().to_vec();
    arr.extend(10u32.to_le_bytes());
    arr.extend((1u64 << 62).to_le_bytes());
    assert!(read_bytes(&header(&[("x", arr)], &[])).is_err());
    // Counts beyond reason, an unknown type, a truncated header.
    let mut many = header(&[], &[]);
    many[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(read_bytes(&many).unwrap_err().to_string().contains("claims"));
    let mut unknown = 99u32.to_le_bytes().to_vec();
    unknown.extend([0u8; 8]);
    assert!(read_bytes(&header(&[("x", unknown)], &[])).unwrap_err().to_string().contains("unknown"));
    let full = header(&[("general.architecture", text("llama"))], &[("t", &[2, 2])]);
    for cut in [4, 10, 30, full.len() - 3] {
        let err = read_bytes(&full[..cut]).unwrap_err();
        assert!(matches!(err, GgufError::Corrupt { .. } | GgufError::NotGguf { .. }), "{cut}: {err}");
    }
    // Deeply nested arrays.
    let mut nested = Vec::new();
    for _ in 0..6 {
        nested.extend(9u32.to_le_bytes());
        nested.extend(1u64.to_le_bytes());
    }
    let mut value = 9u32.to_le_bytes().to_vec();
    value.extend(nested);
    assert!(read_bytes(&header(&[("x", value)], &[])).is_err());
}

#[test]
fn a_long_chat_template_is_noticed_and_an_empty_one_is_not() {
    let template = "{% for m in messages %}".repeat(1000);
    let long = header(
        &[("general.architecture", text("gemma3")), ("tokenizer.chat_template", text(&template))],
        &[],
    );
    assert!(
        read_bytes(&long).unwrap().has_chat_template,
        "a 23 KB template is skipped, not kept, and noticed"
    );
    let empty = header(&[("tokenizer.chat_template", text(""))], &[]);
    assert!(!read_bytes(&empty).unwrap().has_chat_template);
}

#[test]
fn info_is_read_again_when_the_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.gguf");
    std::fs::write(
        &path,
        header(&[("general.architecture", text("a")), ("a.context_length", u32v(4096))], &[]),
    )
    .unwrap();
    assert_eq!(info(&path).unwrap().context_length, Some(4096));
    assert_eq!(info(&path).unwrap().context_length, Some(4096), "cached");
    std::fs::write(
        &path,
        header(&[("general.architecture", text("a")), ("a.context_length", u32v(131072))], &[]),
    )
    .unwrap();
    assert_eq!(info(&path).unwrap().context_length, Some(131072), "a different size is a different file");
    std::fs::remove_file(&path).unwrap();
    assert!(info(&path).is_err());
}
