//! Naming per entity kind, from the graph's entities: per language, how functions, types and
//! constants are written (snake_case, camelCase, PascalCase, SCREAMING_SNAKE_CASE).
//!
//! Only names whose case can be told count (one lowercase word fits two styles); the rule is
//! offered when one style holds [`super::strong`] evidence.

use std::collections::BTreeMap;

use super::{Case, NamedEntity, Rule, RuleCategory, evidence, language, strong};

/// The kinds grouped as a rule speaks of them.
fn group(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "function" | "method" => "functions",
        "class" | "struct" | "enum" | "trait" | "interface" => "types",
        "constant" => "constants",
        _ => return None,
    })
}

pub fn mine(entities: &[NamedEntity]) -> Vec<Rule> {
    // (language, group) → case → examples
    let mut seen: BTreeMap<(&str, &str), BTreeMap<Case, Vec<&NamedEntity>>> = BTreeMap::new();
    for e in entities {
        let (Some(lang), Some(group), Some(case)) = (language(&e.file), group(&e.kind), Case::of(&e.name))
        else {
            continue;
        };
        seen.entry((lang, group)).or_default().entry(case).or_default().push(e);
    }
    let mut rules = Vec::new();
    for ((lang, group), by_case) in seen {
        let total: usize = by_case.values().map(Vec::len).sum();
        let Some((case, named)) = by_case.iter().max_by_key(|(_, v)| v.len()) else { continue };
        if !strong(named.len(), total) {
            continue;
        }
        let examples = named.iter().map(|e| format!("{}:{} {}", e.file, e.line, e.name));
        rules.push(Rule {
            id: format!("naming-{}-{group}", lang.to_lowercase()),
            category: RuleCategory::Naming,
            text: format!("Name {lang} {group} in {}.", case.as_str()),
            evidence: evidence(named.len(), total, examples),
        });
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(name: &str, kind: &str, file: &str, line: usize) -> NamedEntity {
        NamedEntity { name: name.into(), kind: kind.into(), file: file.into(), line }
    }

    #[test]
    fn a_clear_style_per_kind_and_language_becomes_a_rule_with_examples() {
        let mut entities: Vec<NamedEntity> = ["load_config", "parse_args", "run_job", "open_db", "read_all"]
            .iter()
            .enumerate()
            .map(|(i, n)| entity(n, "function", "src/lib.rs", i + 1))
            .collect();
        entities.push(entity("main", "function", "src/main.rs", 1)); // one word: not counted
        for (i, n) in ["Config", "JobQueue", "Store", "Parser", "Error"].iter().enumerate() {
            entities.push(entity(n, "struct", "src/types.rs", i + 10));
        }
        entities.push(entity("getThing", "function", "src/app.ts", 3));
        let rules = mine(&entities);
        let functions = rules.iter().find(|r| r.id == "naming-rust-functions").expect("functions rule");
        assert_eq!(functions.text, "Name Rust functions in snake_case.");
        assert_eq!((functions.evidence.count, functions.evidence.total), (5, 5));
        assert_eq!(functions.evidence.examples[0], "src/lib.rs:1 load_config");
        let types = rules.iter().find(|r| r.id == "naming-rust-types").expect("types rule");
        assert_eq!(types.text, "Name Rust types in PascalCase.");
        assert!(rules.iter().all(|r| !r.id.starts_with("naming-typescript")), "one case is too few");
    }

    #[test]
    fn mixed_styles_give_no_rule() {
        let names = ["load_config", "parseArgs", "runJob", "open_db", "readAll", "write_out"];
        let entities: Vec<_> = names.iter().map(|n| entity(n, "function", "a.py", 1)).collect();
        assert!(mine(&entities).is_empty());
    }
}
