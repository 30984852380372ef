//! Error-handling style, from the source text outside tests: Rust functions with a return type
//! that return `Result`, errors propagated with `?` versus `unwrap()`/`expect(`; Python `except`
//! clauses that name what they catch versus a bare `except:`.
//!
//! Test code (files under `tests/`, and a Rust file from its `#[cfg(test)]` on) is left out: an
//! `unwrap()` in a test is a convention of its own.

use super::testing::in_tests_dir;
use super::{Rule, RuleCategory, SourceFile, evidence, strong};

/// The code part of a line: before a `//` comment (a crude cut; strings with `//` are rare).
fn code(line: &str) -> &str {
    line.split_once("//").map_or(line, |(c, _)| c)
}

/// `(line number, text)` of the non-test code of a Rust file.
fn rust_code(f: &SourceFile) -> impl Iterator<Item = (usize, &str)> {
    f.text
        .lines()
        .enumerate()
        .take_while(|(_, l)| !l.trim_start().starts_with("#[cfg(test)]"))
        .map(|(i, l)| (i + 1, code(l)))
}

pub fn mine(files: &[SourceFile]) -> Vec<Rule> {
    let mut rules = Vec::new();
    let rust: Vec<&SourceFile> =
        files.iter().filter(|f| f.path.ends_with(".rs") && !in_tests_dir(&f.path)).collect();
    rules.extend(rust_results(&rust));
    rules.extend(rust_propagation(&rust));
    let python: Vec<&SourceFile> =
        files.iter().filter(|f| f.path.ends_with(".py") && !in_tests_dir(&f.path)).collect();
    rules.extend(python_except(&python));
    rules
}

/// Of the functions that return something, those that return a `Result`.
fn rust_results(files: &[&SourceFile]) -> Option<Rule> {
    let (mut total, mut results) = (0, Vec::new());
    for f in files {
        for (n, line) in rust_code(f) {
            let t = line.trim_start();
            let is_fn = t.starts_with("fn ") || t.contains(" fn ") && !t.starts_with("let ");
            let Some((_, ret)) = line.split_once("->").filter(|_| is_fn) else { continue };
            total += 1;
            if ret.contains("Result") {
                results.push(format!("{}:{n}", f.path));
            }
        }
    }
    strong(results.len(), total).then(|| Rule {
        id: "errors-rust-result".into(),
        category: RuleCategory::Errors,
        text: "Return `Result` from Rust functions that can fail; do not panic.".into(),
        evidence: evidence(results.len(), total, results),
    })
}

/// `?` against `unwrap()` and `expect(` outside tests.
fn rust_propagation(files: &[&SourceFile]) -> Option<Rule> {
    let (mut questions, mut panics, mut examples) = (0, 0, Vec::new());
    for f in files {
        for (n, line) in rust_code(f) {
            let bytes = line.as_bytes();
            let q = (1..bytes.len())
                .filter(|&i| {
                    bytes[i] == b'?'
                        && (bytes[i - 1].is_ascii_alphanumeric() || b")]_".contains(&bytes[i - 1]))
                })
                .count();
            if q > 0 && examples.len() < 3 {
                examples.push(format!("{}:{n}", f.path));
            }
            questions += q;
            panics += line.matches(".unwrap()").count() + line.matches(".expect(").count();
        }
    }
    let total = questions + panics;
    strong(questions, total).then(|| Rule {
        id: "errors-rust-question-mark".into(),
        category: RuleCategory::Errors,
        text: "Propagate errors with `?`; no `unwrap()` or `expect()` outside tests.".into(),
        evidence: evidence(questions, total, examples),
    })
}

/// `except SomeError` against a bare `except:`.
fn python_except(files: &[&SourceFile]) -> Option<Rule> {
    let (mut named, mut total, mut examples) = (0, 0, Vec::new());
    for f in files {
        for (i, line) in f.text.lines().enumerate() {
            let t = line.trim_start();
            if !(t.starts_with("except ") || t.starts_with("except:")) {
                continue;
            }
            total += 1;
            if !t.starts_with("except:") {
                named += 1;
                examples.push(format!("{}:{}", f.path, i + 1));
            }
        }
    }
    strong(named, total).then(|| Rule {
        id: "errors-python-except".into(),
        category: RuleCategory::Errors,
        text: "Catch specific Python exceptions; never a bare `except:`.".into(),
        evidence: evidence(named, total, examples),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile { path: path.into(), text: text.into() }
    }

    const LIB: &str = "\
pub fn load(p: &str) -> Result<String, Error> {
    let text = std::fs::read_to_string(p)?;
    Ok(text)
}
pub fn parse(t: &str) -> Result<u32, Error> {
    let n = t.trim().parse()?; // comment .unwrap()
    Ok(n)
}
fn open() -> io::Result<File> { File::open(\"x\") }
pub fn save(v: u32) -> anyhow::Result<()> {
    write(v)?;
    flush()?;
    Ok(())
}
fn id(x: u8) -> u8 { x }
fn run() -> Result<(), E> { go().map_err(E::from)?; Ok(()) }
#[cfg(test)]
mod tests {
    fn t() -> u8 { 1.try_into().unwrap() }
}
";

    #[test]
    fn result_returning_functions_and_question_marks_become_rules() {
        let rules = mine(&[file("src/lib.rs", LIB), file("tests/it.rs", "fn a() -> u8 { x().unwrap() }\n")]);
        let result = rules.iter().find(|r| r.id == "errors-rust-result").expect("result rule");
        assert_eq!((result.evidence.count, result.evidence.total), (5, 6));
        assert_eq!(result.evidence.examples[0], "src/lib.rs:1");
        let q = rules.iter().find(|r| r.id == "errors-rust-question-mark").expect("? rule");
        assert_eq!((q.evidence.count, q.evidence.total), (5, 5), "test code and comments left out");
    }

    #[test]
    fn unwraps_everywhere_give_no_question_mark_rule() {
        let text = "fn a() { x().unwrap(); y().unwrap(); z().expect(\"z\"); w()?; v().unwrap(); }\n";
        assert!(mine(&[file("src/a.rs", text)]).iter().all(|r| r.id != "errors-rust-question-mark"));
    }

    #[test]
    fn python_bare_except_absent() {
        let text = "try:\n    x()\nexcept ValueError:\n    pass\n".repeat(5);
        let rules = mine(&[file("pkg/a.py", &text)]);
        assert!(rules.iter().any(|r| r.id == "errors-python-except" && r.evidence.count == 5));
        let bare = text + "try:\n    y()\nexcept:\n    pass\n";
        assert!(
            mine(&[file("pkg/a.py", &bare)]).iter().any(|r| r.id == "errors-python-except"),
            "5 of 6 is 83 %"
        );
        let mostly_bare = "try:\n  x()\nexcept:\n  pass\n".repeat(5);
        assert!(mine(&[file("pkg/a.py", &mostly_bare)]).is_empty());
    }
}
