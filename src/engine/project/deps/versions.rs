//! Version requirements as intervals, to tell whether two manifests' requirements for one
//! package can be met by a single version (a *conflict* when not). Each ecosystem's syntax is
//! read into [`Clause`]s: Cargo and npm carets and tildes, `=`/`==` pins, comparison operators,
//! PEP 440 `~=` and Poetry's `^`/`~`, Go's `vX.Y.Z` (compatible within its major version).
//!
//! Invariant: when a requirement cannot be read (`||` alternatives, URLs, git sources, `*`,
//! markers only) it constrains nothing, so an unreadable requirement never makes a conflict.

/// A version as numbers; missing parts are 0 and pre-release tags are ignored.
pub type Version = (u64, u64, u64);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clause {
    pub op: Op,
    pub version: Version,
}

/// How requirements are written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Syntax {
    /// Cargo: a bare version is a caret.
    Cargo,
    /// npm: a bare version is exact.
    Npm,
    /// PEP 440 and Poetry.
    Python,
    /// go.mod: `v1.2.3` is the minimum within major 1.
    Go,
}

/// The parts of `text` (`1.2.3-beta`, `v2`, `1.x`) and how many were given.
fn version(text: &str) -> Option<(Version, usize)> {
    let text = text.trim().trim_start_matches(['v', 'V']);
    let core = text.split(['-', '+']).next()?;
    let mut parts = [0u64; 3];
    let mut given = 0;
    for (i, p) in core.split('.').enumerate() {
        if i >= 3 || matches!(p, "x" | "X" | "*") {
            break;
        }
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        parts[i] = digits.parse().ok()?;
        given += 1;
        if digits.len() != p.len() {
            break; // `0rc1`: the rest is a pre-release tag
        }
    }
    (given > 0).then_some(((parts[0], parts[1], parts[2]), given))
}

/// A key that sorts version strings as versions (`0.8.8` before `0.10.4`).
pub fn sort_key(text: &str) -> (Version, String) {
    (version(text).map_or((0, 0, 0), |(v, _)| v), text.to_string())
}

/// The first version a caret excludes: the next at the left-most non-zero part given.
fn caret_end((ma, mi, pa): Version, given: usize) -> Version {
    if ma > 0 || given == 1 {
        (ma + 1, 0, 0)
    } else if mi > 0 || given == 2 {
        (0, mi + 1, 0)
    } else {
        (0, 0, pa + 1)
    }
}

fn tilde_end((ma, mi, _): Version, given: usize) -> Version {
    if given == 1 { (ma + 1, 0, 0) } else { (ma, mi + 1, 0) }
}

/// The clauses of one requirement; empty when it cannot be read (constrains nothing).
pub fn parse(requirement: &str, syntax: Syntax) -> Vec<Clause> {
    let req = requirement.split(';').next().unwrap_or("").trim();
    if req.contains("||") || req.contains("://") || req.contains(" - ") {
        return Vec::new();
    }
    let mut out = Vec::new();
    let pieces: Vec<&str> = if syntax == Syntax::Npm {
        req.split([' ', ',']).filter(|s| !s.is_empty()).collect()
    } else {
        req.split(',').map(str::trim).filter(|s| !s.is_empty()).collect()
    };
    for piece in pieces {
        let (op, rest) = ["===", "==", "~=", ">=", "<=", "!=", "=", ">", "<", "^", "~"]
            .iter()
            .find_map(|op| piece.strip_prefix(op).map(|r| (*op, r.trim())))
            .unwrap_or(("", piece));
        if op == "!=" {
            continue;
        }
        let Some((v, given)) = version(rest) else { return Vec::new() };
        let wildcard = rest.contains(['x', 'X', '*']) || rest.ends_with(".*");
        let range = |end: Version| [Clause { op: Op::Ge, version: v }, Clause { op: Op::Lt, version: end }];
        match (op, syntax) {
            ("^", _) | ("", Syntax::Cargo) | ("", Syntax::Go) => out.extend(range(caret_end(v, given))),
            ("", Syntax::Npm) | ("=", Syntax::Npm) if wildcard || given < 3 => {
                out.extend(range(tilde_end(v, given.min(2))))
            }
            ("~", _) => out.extend(range(tilde_end(v, given))),
            ("~=", _) => out.extend(range(tilde_end(v, given.saturating_sub(1).max(1)))),
            ("==" | "===" | "=", _) if wildcard => out.extend(range(tilde_end(v, given))),
            ("" | "==" | "===" | "=", _) => out.push(Clause { op: Op::Eq, version: v }),
            (">=", _) => out.push(Clause { op: Op::Ge, version: v }),
            (">", _) => out.push(Clause { op: Op::Gt, version: v }),
            ("<=", _) => out.push(Clause { op: Op::Le, version: v }),
            ("<", _) => out.push(Clause { op: Op::Lt, version: v }),
            _ => return Vec::new(),
        }
    }
    out
}

fn satisfies(v: Version, c: &Clause) -> bool {
    match c.op {
        Op::Eq => v == c.version,
        Op::Ge => v >= c.version,
        Op::Gt => v > c.version,
        Op::Le => v <= c.version,
        Op::Lt => v < c.version,
    }
}

/// Whether some version meets every clause (of both requirements together).
pub fn satisfiable(clauses: &[Clause]) -> bool {
    if let Some(pin) = clauses.iter().find(|c| c.op == Op::Eq) {
        return clauses.iter().all(|c| satisfies(pin.version, c));
    }
    // The lowest candidate: the highest lower bound (just above it for `>`).
    let lower = clauses
        .iter()
        .filter(|c| matches!(c.op, Op::Ge | Op::Gt))
        .max_by_key(|c| (c.version, c.op == Op::Gt));
    let candidate = match lower {
        None => (0, 0, 0),
        Some(c) if c.op == Op::Gt => (c.version.0, c.version.1, c.version.2 + 1),
        Some(c) => c.version,
    };
    clauses.iter().filter(|c| matches!(c.op, Op::Le | Op::Lt)).all(|c| satisfies(candidate, c))
}

/// Whether two requirements (as written) can be met by one version.
pub fn compatible(a: &str, b: &str, syntax: Syntax) -> bool {
    let mut all = parse(a, syntax);
    all.extend(parse(b, syntax));
    satisfiable(&all)
}

#[cfg(test)]
mod tests {
    use super::Syntax::*;
    use super::*;

    #[test]
    fn requirements_that_no_version_meets_are_incompatible() {
        assert!(!compatible("0.7", "0.8", Cargo));
        assert!(compatible("1.2", "1.9", Cargo));
        assert!(!compatible("=1.2.3", "^1.3", Cargo));
        assert!(!compatible("^17.0.2", "^18.2.0", Npm));
        assert!(compatible("^4.17.0", "~4.17.21", Npm));
        assert!(!compatible("4.17.20", "^4.17.21", Npm));
        assert!(!compatible("==2.28.0", ">=2.31", Python));
        assert!(compatible(">=2.0,<3", "~=2.31", Python));
        assert!(!compatible("^1.26", ">=2.0", Python));
        assert!(!compatible("v0.3.0", "v0.4.1", Go));
        assert!(compatible("v1.3.0", "v1.9.1", Go));
        assert!(compatible("*", "0.1", Cargo), "unreadable constrains nothing");
        assert!(compatible("^1 || ^2", "^3", Npm));
        assert!(compatible("", ">=1", Python));
    }
}
