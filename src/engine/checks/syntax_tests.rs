use super::*;

/// The one error `after` introduces (panics unless exactly one).
fn only_error(path: &str, before: Option<&str>, after: &str) -> SyntaxError {
    match check(path, before, after) {
        SyntaxVerdict::Broken { errors, total: 1, .. } => errors.into_iter().next().expect("listed"),
        other => panic!("{path}: expected one new error, got {other:?}"),
    }
}

fn assert_ok(path: &str, src: &str) {
    assert!(
        matches!(check(path, None, src), SyntaxVerdict::Ok { .. }),
        "{path}: {:?}",
        check(path, None, src)
    );
}

fn at(error: &SyntaxError) -> (u32, u32, &str) {
    (error.line, error.column, error.text.as_str())
}

#[test]
fn python() {
    assert_ok("app/calc.py", "def add(a, b):\n    return a + b\n");
    let e = only_error("app/calc.py", None, "def add(a, b):\n    return (a + b\n\nprint(add(1, 2))\n");
    assert_eq!(at(&e), (2, 5, "return (a + b"));
    assert_eq!(e.kind, SyntaxErrorKind::Unexpected);
}

#[test]
fn rust_names_the_missing_token() {
    assert_ok("src/main.rs", "fn main() {\n    foo(1, 2);\n}\n");
    let e = only_error("src/main.rs", None, "fn main() {\n    foo(1, 2;\n}\n");
    assert_eq!(at(&e), (2, 13, "foo(1, 2;"));
    assert_eq!(e.kind, SyntaxErrorKind::Missing(")".into()));
    assert_eq!(e.to_string(), "line 2 col 13: missing `)` at `foo(1, 2;`");
    let e = only_error("src/main.rs", None, "fn main() {\n    let x = ;\n}\n");
    assert_eq!(at(&e), (2, 11, "="));
}

#[test]
fn typescript_tsx_javascript() {
    assert_ok("web/a.ts", "const x: number = 1;\n");
    assert_eq!(at(&only_error("web/a.ts", None, "const x: number = ;\n")), (1, 17, "="));
    assert_ok("web/App.tsx", "export const App = () => <div>{1}</div>;\n");
    assert_eq!(at(&only_error("web/App.tsx", None, "export const App = () => <div>{1</div>;\n")).0, 1);
    for path in ["web/a.js", "web/a.mjs", "web/a.cjs", "web/a.jsx"] {
        assert_ok(path, "function f(a) {\n  return a;\n}\n");
        assert_eq!(at(&only_error(path, None, "function f( {\n  return 1;\n}\n")), (1, 1, "function f( {"));
    }
}

#[test]
fn go() {
    assert_ok("main.go", "package main\n\nfunc main() {\n\tx := 1\n\t_ = x\n}\n");
    let e = only_error("main.go", None, "package main\n\nfunc main() {\n\tx := \n}\n");
    assert_eq!((e.line, e.text.as_str()), (4, "x :="));
}

#[test]
fn data_formats() {
    assert_ok("package.json", "{\"a\": [1, 2], \"b\": null}\n");
    assert_eq!(at(&only_error("package.json", None, "{\"a\": 1,}\n")), (1, 8, ","));
    assert_ok(".github/ci.yml", "a: [1, 2]\nb:\n  - c\n");
    assert_eq!(at(&only_error(".github/ci.yml", None, "a: [1, 2\nb: 3\n")), (1, 4, "[1, 2"));
    assert_ok("Cargo.toml", "[package]\nname = \"x\"\n");
    assert_eq!(
        at(&only_error("Cargo.toml", None, "[package]\nname = \nversion = \"1\"\n")),
        (2, 1, "name =")
    );
}

#[test]
fn columns_count_characters() {
    let e = only_error("a.py", None, "s = \"héllo\" + (1\n");
    assert_eq!(e.line, 1);
    let e = only_error("a.rs", None, "fn f() { let é = ; }\n");
    assert_eq!(at(&e), (1, 16, "="));
}

#[test]
fn errors_the_file_already_had_are_not_blamed() {
    let before = "def ok():\n    return 1\n\ndef broken(:\n    pass\n";
    // Lines added above move the old error; it is still the file's own.
    let after = format!("import os\n\n{before}");
    match check("a.py", Some(before), &after) {
        SyntaxVerdict::PreExisting { count: 1, .. } => {}
        other => panic!("{other:?}"),
    }
    // A new error next to the old one is blamed, the old one is not.
    let after = before.replace("return 1", "return (1");
    let e = only_error("a.py", Some(before), &after);
    assert_eq!(at(&e), (2, 5, "return (1"));
    // The same broken content as a new file is blamed.
    assert!(check("a.py", None, before).is_broken());
}

#[test]
fn fixing_an_old_error_is_fine() {
    let before = "fn main() {\n    foo(1;\n}\n";
    assert!(matches!(check("a.rs", Some(before), "fn main() {\n    foo(1);\n}\n"), SyntaxVerdict::Ok { .. }));
}

#[test]
fn unknown_deleted_and_binary_are_not_checked() {
    let not_checked = |v: &SyntaxVerdict| matches!(v, SyntaxVerdict::NotChecked { .. });
    assert_eq!(
        check("README.md", None, "# x ((("),
        SyntaxVerdict::NotChecked { why: "no parser for .md files".into() }
    );
    assert!(not_checked(&check("Makefile", None, "all:\n")));
    let gone = FileChange { path: "a.py".into(), before: Some("x = 1\n".into()), after: None };
    assert!(not_checked(&check_change(&gone).verdict));
    assert!(not_checked(&check_bytes("a.py", None, Some(&[0xff, 0xfe, b'('][..])).verdict));
    assert!(check_bytes("a.py", None, Some(b"x = (\n")).verdict.is_broken());
}

#[test]
fn many_errors_are_counted_and_text_is_one_short_line() {
    let src: String = (0..20).map(|i| format!("fn f{i}() {{ let x = ; }}\n")).collect();
    match check("a.rs", None, &src) {
        SyntaxVerdict::Broken { errors, total, .. } => {
            assert_eq!(total, 20);
            assert_eq!(errors.len(), MAX_LISTED);
            assert_eq!(errors[1].line, 2);
        }
        other => panic!("{other:?}"),
    }
    let long = format!("x = ({}\n", "a + ".repeat(40));
    let e = only_error("a.py", None, &long);
    assert!(e.text.chars().count() <= MAX_TEXT_CHARS && e.text.ends_with('…') && !e.text.contains('\n'));
}
