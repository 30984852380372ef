use std::path::Path;

use super::*;

const WS: &str = "/work/proj";

fn read(format: OutputFormat, stdout: &str, stderr: &str) -> Vec<Diagnostic> {
    parse(format, "test", stdout, stderr, Path::new(WS))
}

fn brief(d: &[Diagnostic]) -> Vec<(String, usize, usize, Severity, Option<String>)> {
    d.iter().map(|d| (d.file.clone(), d.line, d.col, d.severity, d.code.clone())).collect()
}

fn s(text: &str) -> Option<String> {
    Some(text.to_string())
}

#[test]
fn cargo_check_json_gives_the_primary_span_of_each_compiler_message() {
    let d =
        read(OutputFormat::CargoJson, include_str!("../../../tests/fixtures/checks/cargo_check.jsonl"), "");
    assert_eq!(
        brief(&d),
        vec![
            ("src/util.rs".into(), 2, 18, Severity::Error, s("E0308")),
            ("src/main.rs".into(), 3, 9, Severity::Warning, s("unused_variables")),
        ]
    );
    assert_eq!(d[0].message, "mismatched types");
    assert_eq!(d[0].check, "test");
}

#[test]
fn cargo_clippy_json_keeps_the_lint_names() {
    let d =
        read(OutputFormat::CargoJson, include_str!("../../../tests/fixtures/checks/cargo_clippy.jsonl"), "");
    let codes: Vec<_> = d.iter().map(|d| d.code.clone().unwrap_or_default()).collect();
    assert_eq!(codes, ["unused_variables", "clippy::len_zero", "clippy::useless_vec"]);
    assert!(d.iter().all(|d| d.severity == Severity::Warning));
    assert_eq!((d[1].line, d[1].col), (5, 20));
}

#[test]
fn ruff_json_paths_become_relative_and_only_fatal_codes_are_errors() {
    let text = include_str!("../../../tests/fixtures/checks/ruff.json").replace("/tmp/fx/py", WS);
    let d = read(OutputFormat::RuffJson, &text, "");
    assert_eq!(
        d[0],
        Diagnostic {
            file: "broken.py".into(),
            line: 1,
            col: 7,
            severity: Severity::Error,
            code: s("invalid-syntax"),
            message: "Expected a parameter or the end of the parameter list".into(),
            check: "test".into(),
        }
    );
    let by_code = |c: &str| d.iter().find(|d| d.code.as_deref() == Some(c)).unwrap().clone();
    assert_eq!((by_code("F401").file.as_str(), by_code("F401").severity), ("calc.py", Severity::Warning));
    assert_eq!(
        (by_code("F821").line, by_code("F821").col, by_code("F821").severity),
        (6, 16, Severity::Error)
    );
}

#[test]
fn pyflakes_text_skips_the_source_and_caret_lines() {
    let d = read(OutputFormat::Gcc, include_str!("../../../tests/fixtures/checks/pyflakes.txt"), "");
    assert_eq!(
        brief(&d),
        vec![
            ("calc.py".into(), 1, 1, Severity::Warning, None),
            ("calc.py".into(), 2, 1, Severity::Warning, None),
            ("calc.py".into(), 6, 16, Severity::Error, None),
            ("broken.py".into(), 1, 7, Severity::Error, None),
        ]
    );
    assert_eq!(d[2].message, "undefined name 'c'");
}

#[test]
fn go_vet_findings_are_warnings_and_type_errors_errors() {
    let d = read(OutputFormat::Gcc, "", include_str!("../../../tests/fixtures/checks/go_vet.txt"));
    assert_eq!(
        brief(&d),
        vec![
            ("main.go".into(), 9, 2, Severity::Warning, None),
            ("main.go".into(), 7, 2, Severity::Warning, None)
        ]
    );
    assert_eq!(d[1].message, "fmt.Printf format %s has arg n of wrong type int");
    let d = read(OutputFormat::Gcc, "", include_str!("../../../tests/fixtures/checks/go_vet_type.txt"));
    assert_eq!(brief(&d), vec![("bad.go".into(), 4, 9, Severity::Error, None)]);
}

#[test]
fn tsc_lines_give_code_and_position() {
    let d = read(OutputFormat::Tsc, include_str!("../../../tests/fixtures/checks/tsc.txt"), "");
    assert_eq!(
        brief(&d),
        vec![
            ("src/index.ts".into(), 3, 7, Severity::Error, s("TS2322")),
            ("src/util.ts".into(), 10, 1, Severity::Error, s("TS2304")),
        ]
    );
    assert_eq!(d[1].message, "Cannot find name 'foo'.");
}

#[test]
fn eslint_stylish_groups_under_the_file_line() {
    let d = read(OutputFormat::Eslint, include_str!("../../../tests/fixtures/checks/eslint.txt"), "");
    assert_eq!(
        brief(&d),
        vec![
            ("src/app.js".into(), 1, 10, Severity::Error, s("no-unused-vars")),
            ("src/app.js".into(), 3, 1, Severity::Warning, s("no-console")),
        ]
    );
    assert_eq!(d[0].message, "'unused' is defined but never used");
}

#[test]
fn gcc_lines_with_severity_words_and_codes() {
    let text = "src/a.c:3:5: warning: unused variable 'x' [-Wunused-variable]\n\
                pkg/m.py:12: error: Incompatible types in assignment  [assignment]\n\
                just some text: with a colon\n";
    let d = read(OutputFormat::Gcc, text, "");
    assert_eq!(
        brief(&d),
        vec![
            ("src/a.c".into(), 3, 5, Severity::Warning, s("-Wunused-variable")),
            ("pkg/m.py".into(), 12, 0, Severity::Error, s("assignment")),
        ]
    );
    assert_eq!(d[1].message, "Incompatible types in assignment");
}

#[test]
fn garbage_gives_nothing_and_no_panic() {
    for format in [
        OutputFormat::CargoJson,
        OutputFormat::RuffJson,
        OutputFormat::Tsc,
        OutputFormat::Gcc,
        OutputFormat::Eslint,
    ] {
        assert!(read(format, "{not json\n(((: :: ::\n\u{1F600} smile: x\n", "a(1,: error").is_empty());
    }
}

#[test]
fn cargo_json_is_shown_as_cargo_would_print_it() {
    let text = include_str!("../../../tests/fixtures/checks/cargo_check.jsonl");
    let mut display = Display::new(OutputFormat::CargoJson);
    // Fed in awkward pieces, as a pipe delivers it.
    let shown: String = text.as_bytes().chunks(37).map(|chunk| display.feed(chunk)).collect();
    assert!(shown.contains("error[E0308]: mismatched types"), "{shown}");
    assert!(shown.contains("--> src/util.rs:2:18"), "{shown}");
    assert!(!shown.contains("\"reason\""), "no JSON records: {shown}");
    assert_eq!(Display::new(OutputFormat::Gcc).feed(b"a.c:1:2: error: x\n"), "a.c:1:2: error: x\n");
}
