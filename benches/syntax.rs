//! The syntax gate's cost (`checks::syntax::check`) on an edit of a 2,000-line file, Rust and
//! Python: a clean edit and an edit that breaks it (whose old content's errors are needed too),
//! each cold (nothing cached: a file the model never read, so full parses) and warm (what a
//! session pays: the model read the file, its tree was cached as `read_file` does, and the edit
//! is re-parsed incrementally from it). Only the `check` call is timed; clearing and filling
//! the cache are the untimed setup of each iteration.
//! Goal (issue 12): ≤ 2 ms for a 2,000-line file — met warm (0.18–0.47 ms, see
//! `checks::syntax`); cold stays one or two full parses (6–16 ms).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kv1nt::engine::checks::syntax::{check, remember};
use kv1nt::engine::checks::tree_cache;
use kv1nt::engine::protocol::SyntaxVerdict;

const LINES: usize = 2_000;

/// A 40-line Rust block (a struct, an impl with a match, closures, generics, a test), numbered.
fn rust_block(i: usize) -> String {
    format!(
        r#"/// A record of kind {i}: what the store keeps for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record{i}<T: Clone> {{
    pub id: u64,
    pub name: String,
    pub values: Vec<T>,
    pub parent: Option<Box<Record{i}<T>>>,
}}

impl<T: Clone + std::fmt::Debug> Record{i}<T> {{
    pub fn new(id: u64, name: &str) -> Self {{
        Self {{ id, name: name.to_string(), values: Vec::new(), parent: None }}
    }}

    /// Sums what `f` makes of each value, skipping the ones it refuses.
    pub fn total<F>(&self, f: F) -> Result<u64, String>
    where
        F: Fn(&T) -> Option<u64>,
    {{
        let mut sum = 0u64;
        for (n, value) in self.values.iter().enumerate() {{
            match f(value) {{
                Some(v) if v > 1_000 => return Err(format!("value {{n}} of {{}} too big: {{v}}", self.name)),
                Some(v) => sum += v,
                None => continue,
            }}
        }}
        Ok(sum + self.parent.as_ref().map_or(0, |p| p.id))
    }}

    pub fn depth(&self) -> usize {{
        let mut depth = 0;
        let mut node = self.parent.as_deref();
        while let Some(p) = node {{
            depth += 1;
            node = p.parent.as_deref();
        }}
        depth
    }}
}}

"#
    )
}

/// A 40-line Python block (a dataclass, methods, a comprehension, a test), numbered.
fn python_block(i: usize) -> String {
    format!(
        r#"@dataclass
class Record{i}:
    """A record of kind {i}: what the store keeps for it."""

    id: int
    name: str
    values: list[int] = field(default_factory=list)
    parent: "Record{i} | None" = None

    def total(self, limit: int = 1000) -> int:
        total = 0
        for n, value in enumerate(self.values):
            if value > limit:
                raise ValueError(f"value {{n}} of {{self.name}} too big: {{value}}")
            elif value < 0:
                continue
            total += value
        return total + (self.parent.id if self.parent else 0)

    def depth(self) -> int:
        depth, node = 0, self.parent
        while node is not None:
            depth += 1
            node = node.parent
        return depth

    def evens(self) -> dict[str, list[int]]:
        return {{self.name: [v for v in self.values if v % 2 == 0]}}


def test_record_{i}():
    r = Record{i}(id={i}, name="r{i}", values=[1, 2, 3])
    assert r.total() == 6
    assert r.depth() == 0
    with pytest.raises(ValueError):
        Record{i}(id=1, name="big", values=[5000]).total()
    assert r.evens() == {{"r{i}": [2]}}


"#
    )
}

fn file(block: fn(usize) -> String) -> String {
    let mut out = String::new();
    let mut i = 0;
    while out.lines().count() < LINES {
        out.push_str(&block(i));
        i += 1;
    }
    // Whole blocks only: a cut block would leave the file with errors of its own.
    out
}

fn bench(c: &mut Criterion, path: &str, before: &str, clean: &str, broken: &str) {
    assert!(matches!(check(path, Some(before), clean), SyntaxVerdict::Ok { .. }), "{path}: clean edit");
    assert!(check(path, Some(before), broken).is_broken(), "{path}: broken edit");
    let mut group = c.benchmark_group(format!("syntax gate, {}-line {path}", before.lines().count()));
    group.throughput(Throughput::Bytes(clean.len() as u64));
    for (name, after) in [("clean edit", clean), ("broken edit", broken)] {
        // Cold: nothing cached (a file the model never read), so full parses.
        group.bench_function(format!("{name}, cold"), |b| {
            b.iter_batched(tree_cache::clear, |()| check(path, Some(before), after), BatchSize::PerIteration)
        });
        // Warm: what a session pays. The model read the file (its tree is cached, as
        // `read_file` does off the critical path), then proposes the edit.
        group.bench_function(format!("{name}, warm"), |b| {
            let read = || {
                tree_cache::clear();
                remember(path, before);
            };
            b.iter_batched(read, |()| check(path, Some(before), after), BatchSize::PerIteration)
        });
    }
    group.finish();
}

fn syntax(c: &mut Criterion) {
    let rust = file(rust_block);
    let clean = rust.replacen("sum += v,", "sum = sum.saturating_add(v),", 1);
    let broken = rust.replacen("Ok(sum + self", "Ok((sum + self", 1);
    bench(c, "src/store/records.rs", &rust, &clean, &broken);

    let python = file(python_block);
    let clean = python.replacen("total += value", "total = total + value", 1);
    let broken = python.replacen("return depth", "return (depth", 1);
    bench(c, "app/records.py", &python, &clean, &broken);
}

criterion_group!(benches, syntax);
criterion_main!(benches);
