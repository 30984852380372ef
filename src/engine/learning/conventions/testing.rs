//! Test layout and naming, from the source text: where tests live (Rust: `tests/` versus inline
//! `#[cfg(test)]` modules), how test files are named (`test_*.py` / `*_test.py`, `*.test.ts` /
//! `*.spec.ts`) and how test functions are named (snake_case, a `test_` prefix).
//!
//! A Rust test is a `fn` after a `#[test]` or `#[…::test]` attribute; a Python test a `def test_…`
//! in a test file; a Go test a `func Test…` in a `*_test.go` file.

use std::collections::BTreeMap;

use super::{Case, Rule, RuleCategory, SourceFile, evidence, strong};

/// A test function found in the source: its language, file, line and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFn {
    pub language: &'static str,
    pub file: String,
    pub line: usize,
    pub name: String,
}

/// Whether `path` is in a `tests/` (or `test/`) directory.
pub fn in_tests_dir(path: &str) -> bool {
    path.split('/').rev().skip(1).any(|d| d == "tests" || d == "test")
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_python_test_file(path: &str) -> bool {
    let name = file_name(path);
    name.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py"))
}

/// The identifier after `keyword ` on `line` (`fn name(`, `def name(`).
fn name_after<'a>(line: &'a str, keyword: &str) -> Option<&'a str> {
    let at = line.find(keyword)?;
    let rest = &line[at + keyword.len()..];
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Every test function in `files`.
pub fn test_fns(files: &[SourceFile]) -> Vec<TestFn> {
    let mut found = Vec::new();
    for f in files {
        let mut push = |language, line: usize, name: &str| {
            found.push(TestFn { language, file: f.path.clone(), line: line + 1, name: name.to_string() })
        };
        if f.path.ends_with(".rs") {
            let mut attribute = false;
            for (i, line) in f.text.lines().enumerate() {
                let t = line.trim_start();
                if t.starts_with("#[test]") || (t.starts_with("#[") && t.contains("::test")) {
                    attribute = true;
                } else if attribute && (t.starts_with("fn ") || t.contains(" fn ")) {
                    if let Some(name) = name_after(t, "fn ") {
                        push("Rust", i, name);
                    }
                    attribute = false;
                } else if attribute && !t.starts_with("#[") && !t.starts_with("//") && !t.is_empty() {
                    attribute = false;
                }
            }
        } else if is_python_test_file(&f.path) {
            for (i, line) in f.text.lines().enumerate() {
                let t = line.trim_start();
                if (t.starts_with("def ") || t.starts_with("async def "))
                    && let Some(name) = name_after(t, "def ").filter(|n| n.starts_with("test"))
                {
                    push("Python", i, name);
                }
            }
        } else if f.path.ends_with("_test.go") {
            for (i, line) in f.text.lines().enumerate() {
                if let Some(name) = line.strip_prefix("func ").and_then(|_| name_after(line, "func "))
                    && name.starts_with("Test")
                {
                    push("Go", i, name);
                }
            }
        }
    }
    found
}

pub fn mine(files: &[SourceFile]) -> Vec<Rule> {
    let tests = test_fns(files);
    let mut rules = Vec::new();
    rules.extend(rust_layout(&tests));
    rules.extend(test_names(&tests));
    rules.extend(file_naming(files));
    rules
}

fn example(t: &TestFn) -> String {
    format!("{}:{} {}", t.file, t.line, t.name)
}

/// Rust: integration tests under `tests/`, or inline test modules.
fn rust_layout(tests: &[TestFn]) -> Option<Rule> {
    let rust: Vec<&TestFn> = tests.iter().filter(|t| t.language == "Rust").collect();
    let (under, inline): (Vec<&TestFn>, Vec<&TestFn>) = rust.iter().partition(|t| in_tests_dir(&t.file));
    let (text, agree) = if under.len() >= inline.len() {
        ("Put Rust tests under `tests/`, not in inline `#[cfg(test)]` modules.", under)
    } else {
        ("Put Rust unit tests in an inline `#[cfg(test)] mod tests` beside the code they test.", inline)
    };
    strong(agree.len(), rust.len()).then(|| Rule {
        id: "tests-rust-layout".into(),
        category: RuleCategory::Tests,
        text: text.into(),
        evidence: evidence(agree.len(), rust.len(), agree.iter().map(|t| example(t))),
    })
}

/// Per language: test functions in snake_case, and with a `test_` prefix when most have one.
fn test_names(tests: &[TestFn]) -> Vec<Rule> {
    let mut by_lang: BTreeMap<&str, Vec<&TestFn>> = BTreeMap::new();
    for t in tests.iter().filter(|t| t.language != "Go") {
        by_lang.entry(t.language).or_default().push(t);
    }
    let mut rules = Vec::new();
    for (lang, tests) in by_lang {
        let total = tests.len();
        let snake: Vec<&&TestFn> =
            tests.iter().filter(|t| matches!(Case::of(&t.name), Some(Case::Snake) | None)).collect();
        if !strong(snake.len(), total) {
            continue;
        }
        let prefixed: Vec<&&TestFn> = snake.iter().copied().filter(|t| t.name.starts_with("test_")).collect();
        let under = tests.iter().filter(|t| in_tests_dir(&t.file)).count();
        let place = if strong(under, total) { " under `tests/`" } else { "" };
        let (text, agree) = if strong(prefixed.len(), total) {
            (format!("Name {lang} test functions `test_<behaviour>` in snake_case{place}."), prefixed)
        } else {
            (
                format!("Name {lang} test functions in snake_case after the behaviour they check{place}."),
                snake,
            )
        };
        rules.push(Rule {
            id: format!("tests-{}-names", lang.to_lowercase()),
            category: RuleCategory::Tests,
            text,
            evidence: evidence(agree.len(), total, agree.iter().map(|t| example(t))),
        });
    }
    rules
}

/// Test file naming where the language leaves a choice.
fn file_naming(files: &[SourceFile]) -> Vec<Rule> {
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let pick = |id: &str, lang: &str, a: (&str, fn(&str) -> bool), b: (&str, fn(&str) -> bool)| {
        let first: Vec<&str> = names.iter().copied().filter(|p| a.1(file_name(p))).collect();
        let second: Vec<&str> = names.iter().copied().filter(|p| b.1(file_name(p))).collect();
        let total = first.len() + second.len();
        let (pattern, agree) = if first.len() >= second.len() { (a.0, first) } else { (b.0, second) };
        strong(agree.len(), total).then(|| Rule {
            id: id.into(),
            category: RuleCategory::Tests,
            text: format!("Name {lang} test files `{pattern}`."),
            evidence: evidence(agree.len(), total, agree.iter().map(|p| p.to_string())),
        })
    };
    let mut rules = Vec::new();
    rules.extend(pick(
        "tests-python-files",
        "Python",
        ("test_*.py", |n| n.starts_with("test_") && n.ends_with(".py")),
        ("*_test.py", |n| n.ends_with("_test.py")),
    ));
    rules.extend(pick(
        "tests-js-files",
        "JavaScript/TypeScript",
        ("*.test.*", |n| [".test.ts", ".test.tsx", ".test.js", ".test.jsx"].iter().any(|s| n.ends_with(s))),
        ("*.spec.*", |n| [".spec.ts", ".spec.tsx", ".spec.js", ".spec.jsx"].iter().any(|s| n.ends_with(s))),
    ));
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile { path: path.into(), text: text.into() }
    }

    fn rust_tests(names: &[&str]) -> String {
        names.iter().map(|n| format!("#[test]\nfn {n}() {{\n    assert!(true);\n}}\n\n")).collect()
    }

    #[test]
    fn snake_case_tests_under_tests_dir_give_layout_and_naming_rules() {
        let files = vec![
            file(
                "tests/parse.rs",
                &rust_tests(&["test_parses_empty", "test_parses_list", "test_rejects_junk"]),
            ),
            file("tests/store.rs", &rust_tests(&["test_opens", "test_saves_twice"])),
            file("src/lib.rs", "pub fn f() -> u8 { 1 }\n"),
        ];
        let rules = mine(&files);
        let layout = rules.iter().find(|r| r.id == "tests-rust-layout").expect("layout rule");
        assert!(layout.text.contains("under `tests/`"), "{}", layout.text);
        assert_eq!((layout.evidence.count, layout.evidence.total), (5, 5));
        let names = rules.iter().find(|r| r.id == "tests-rust-names").expect("naming rule");
        assert_eq!(names.text, "Name Rust test functions `test_<behaviour>` in snake_case under `tests/`.");
        assert_eq!(names.evidence.examples[0], "tests/parse.rs:2 test_parses_empty");
    }

    #[test]
    fn inline_test_modules_and_attributes_between_are_understood() {
        let text =
            "fn f() {}\n#[cfg(test)]\nmod tests {\n    #[tokio::test]\n    #[ignore]\n    async fn a_b() {}\n"
                .to_string() + &rust_tests(&["c_d", "e_f", "g_h", "i_j"]);
        let found = test_fns(&[file("src/lib.rs", &text)]);
        assert_eq!(found.len(), 5, "{found:?}");
        assert_eq!(found[0].name, "a_b");
        let rules = mine(&[file("src/lib.rs", &text)]);
        assert!(rules.iter().any(|r| r.id == "tests-rust-layout" && r.text.contains("inline")));
        let names = rules.iter().find(|r| r.id == "tests-rust-names").unwrap();
        assert!(!names.text.contains("test_<"), "no prefix: {}", names.text);
    }

    #[test]
    fn python_test_files_and_functions() {
        let body = "def test_one():\n    pass\n\ndef helper():\n    pass\n";
        let files: Vec<SourceFile> = (0..5)
            .map(|i| file(&format!("tests/test_mod{i}.py"), body))
            .chain([file("pkg/mod.py", body)])
            .collect();
        let rules = mine(&files);
        assert!(rules.iter().any(|r| r.id == "tests-python-files" && r.text.contains("`test_*.py`")));
        let names = rules.iter().find(|r| r.id == "tests-python-names").unwrap();
        assert_eq!(names.evidence.total, 5, "pkg/mod.py is not a test file");
    }

    #[test]
    fn too_few_tests_give_no_rule() {
        assert!(mine(&[file("tests/a.rs", &rust_tests(&["test_a", "test_b"]))]).is_empty());
    }
}
