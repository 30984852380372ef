//! The incremental path must give exactly the verdict of full parses: chains of edits (each
//! edit's `after` is the next one's `before`, its tree the incrementally made one, as in a
//! session) over Rust, Python and the data formats — insertions, deletions, replacements,
//! multi-byte text, edits at the start and the end, edits that break and edits that repair.

use super::*;
use crate::engine::grammars::Language;

const RUST: Grammar = Grammar::Code(Language::Rust);
const PYTHON: Grammar = Grammar::Code(Language::Python);

fn rust_file() -> String {
    (0..12)
        .map(|i| {
            format!(
                "/// Record {i}: « größe » — 日本語 ✓\n#[derive(Debug)]\npub struct R{i} {{\n    pub name: String,\n    \
                 pub values: Vec<u64>,\n}}\n\nimpl R{i} {{\n    pub fn total(&self) -> u64 {{\n        \
                 let s = \"é{i}\";\n        self.values.iter().map(|v| v * 2).sum::<u64>() + s.len() as u64\n    \
                 }}\n}}\n\n"
            )
        })
        .collect()
}

fn python_file() -> String {
    (0..12)
        .map(|i| {
            format!(
                "class R{i}:\n    \"\"\"Record {i}: « größe » — 日本語 ✓\"\"\"\n\n    def total(self, limit=10):\n        \
                 s = 'é{i}'\n        return sum(v * 2 for v in self.values if v < limit) + len(s)\n\n    \
                 def depth(self):\n        if self.parent:\n            return 1 + self.parent.depth()\n        \
                 return 0\n\n\n"
            )
        })
        .collect()
}

/// What the edits insert: brackets and quotes that break, code that repairs, multi-byte text.
const SNIPPETS: &[&str] = &[
    "",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    ":",
    ";",
    ",",
    "\n",
    "    ",
    "é",
    "日本",
    "✓ ",
    "=",
    "#",
    "return (x",
    "let y = ;",
    "fn g() {}\n",
    "def g(:\n",
    "x = [1, 2\n",
    "    pass\n",
    "if x:\n    ",
    "/* ",
    " */",
    "\"\"\"",
    "→ «ü» ",
    "\r\n",
];

/// A small deterministic generator (xorshift), so a failure is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as usize
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// A character boundary of `s`, often the very start or end.
    fn boundary(&mut self, s: &str) -> usize {
        match self.below(8) {
            0 => 0,
            1 => s.len(),
            _ => {
                let mut at = self.below(s.len() + 1);
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                at
            }
        }
    }
}

/// One random edit of `s`: a range replaced by a snippet (an insertion when the range is
/// empty, a deletion when the snippet is).
fn edit(rng: &mut Rng, s: &str) -> String {
    let a = rng.boundary(s);
    let mut b = (a + rng.below(40)).min(s.len());
    if rng.below(3) == 0 {
        b = a;
    }
    while !s.is_char_boundary(b) {
        b -= 1;
    }
    let snippet = SNIPPETS[rng.below(SNIPPETS.len())];
    format!("{}{snippet}{}", &s[..a], &s[b..])
}

fn full(grammar: Grammar, before: &str, after: &str) -> SyntaxVerdict {
    check_parsed(grammar, Some(before), None, after, Reuse::Full).verdict
}

/// Runs `steps` chained edits from `start`, comparing every incremental verdict with the full
/// one; returns how many of the steps were broken (so a test can insist it saw both kinds).
fn chain(grammar: Grammar, start: &str, seed: u64, steps: usize) -> usize {
    let mut rng = Rng(seed);
    let mut before = start.to_string();
    let mut tree = grammars::parse(grammar, &before).expect("parses");
    let mut broken = 0;
    for step in 0..steps {
        let after = edit(&mut rng, &before);
        let checked = check_parsed(grammar, Some(&before), Some(tree.clone()), &after, Reuse::Incremental);
        let expected = full(grammar, &before, &after);
        assert_eq!(
            checked.verdict, expected,
            "{grammar:?} seed {seed} step {step}: incremental and full verdicts differ\n--- before\n{before}\n--- after\n{after}"
        );
        // The other incremental direction: the old content re-parsed from the new tree.
        let cold = check_parsed(grammar, Some(&before), None, &after, Reuse::Incremental);
        assert_eq!(
            cold.verdict, expected,
            "{grammar:?} seed {seed} step {step}: old content from the new tree"
        );
        broken += usize::from(expected.is_broken());
        tree = checked.new_tree.expect("a tree");
        before = after;
    }
    broken
}

#[test]
fn incremental_matches_full_for_rust() {
    let start = rust_file();
    let broken: usize = (1..=6).map(|seed| chain(RUST, &start, seed * 7919, 60)).sum();
    assert!(broken > 20 && broken < 6 * 60, "the edits broke {broken} of 360 steps: both kinds must be seen");
}

#[test]
fn incremental_matches_full_for_python() {
    let start = python_file();
    let broken: usize = (1..=6).map(|seed| chain(PYTHON, &start, seed * 104_729, 60)).sum();
    assert!(broken > 20 && broken < 6 * 60, "the edits broke {broken} of 360 steps: both kinds must be seen");
}

#[test]
fn incremental_matches_full_for_data_formats() {
    let json = "{\"name\": \"größe ✓\", \"values\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}\n";
    let yaml = "name: größe ✓\nvalues:\n  - 1\n  - 2\nnested:\n  a: null\n  b: [1, 2]\n";
    let toml =
        "[package]\nname = \"größe\"\nversion = \"1.0.0\"\n\n[dependencies]\nserde = { version = \"1\" }\n";
    for (grammar, start) in [(Grammar::Json, json), (Grammar::Yaml, yaml), (Grammar::Toml, toml)] {
        for seed in 1..=3 {
            chain(grammar, start, seed * 31_337, 40);
        }
    }
}

/// The named cases, each through `check` and the cache as the gate runs it.
#[test]
fn named_edits_through_the_cache() {
    let rust = rust_file();
    let python = python_file();
    let cases: Vec<(&str, String, String)> = vec![
        ("src/start.rs", rust.clone(), format!("use std::fmt;\n{rust}")),
        ("src/end.rs", rust.clone(), format!("{rust}fn tail() {{}}\n")),
        ("src/cut_end.rs", rust.clone(), rust[..rust.len() - 3].to_string()),
        ("src/multibyte.rs", rust.clone(), rust.replacen("日本語", "中文 ✓✓", 1)),
        ("src/breaks.rs", rust.clone(), rust.replacen("self.values.iter()", "self.values.iter(", 1)),
        ("src/deletes.rs", rust.clone(), rust.replacen("    pub name: String,\n", "", 1)),
        ("app/start.py", python.clone(), format!("import os\n{python}")),
        ("app/breaks.py", python.clone(), python.replacen("return 0", "return (0", 1)),
        ("app/multibyte.py", python.clone(), python.replacen("größe", "g", 1)),
        ("app/empty.py", python.clone(), String::new()),
    ];
    for (path, before, after) in cases {
        let grammar = Grammar::from_path(path).unwrap();
        remember(path, &before);
        let verdict = check(path, Some(&before), &after);
        assert_eq!(verdict, full(grammar, &before, &after), "{path}");
        // The repair: the broken content (cached by the check above) back to the original.
        assert_eq!(check(path, Some(&after), &before), full(grammar, &after, &before), "{path}: back");
    }
}

#[test]
fn the_edited_range_is_exact() {
    let edit = grammars::edit_between("ab\ncé\nxyz", "ab\ncé!\nxyz");
    assert_eq!((edit.start_byte, edit.old_end_byte, edit.new_end_byte), (6, 6, 7));
    assert_eq!(edit.start_position, tree_sitter::Point::new(1, 3));
    assert_eq!(edit.new_end_position, tree_sitter::Point::new(1, 4));
    // é (c3 a9) → è (c3 a8): the shared first byte is not split from its character.
    let edit = grammars::edit_between("é", "è");
    assert_eq!((edit.start_byte, edit.old_end_byte, edit.new_end_byte), (0, 2, 2));
    // A repeated run: the prefix and the suffix do not overlap.
    let edit = grammars::edit_between("aaaa", "aaaaaa");
    assert_eq!((edit.start_byte, edit.old_end_byte, edit.new_end_byte), (4, 4, 6));
    let edit = grammars::edit_between("x\ny\n", "");
    assert_eq!(
        (edit.old_end_position, edit.new_end_position),
        (tree_sitter::Point::new(2, 0), tree_sitter::Point::new(0, 0))
    );
    let same = grammars::edit_between("same", "same");
    assert_eq!((same.start_byte, same.old_end_byte, same.new_end_byte), (4, 4, 4));
}
