//! Unit tests for `load`: good files, and every kind of bad file named with its line.

use super::*;

const GOOD: &str = r#"
description = "A handler"
language = "rust"
target = "src/{{ name }}.rs"
guidance = "Use the app's error type."
body = """
pub async fn {{ name }}() -> &'static str {
    "{{ greeting }}"
}
"""

[[params]]
name = "name"
type = "identifier"

[[params]]
name = "greeting"
type = "string"
default = "hi"

[[params]]
name = "method"
type = "enum"
choices = ["get", "post"]
default = "post"
"#;

fn parse_str(text: &str) -> Result<Template, String> {
    parse("t.toml", "handler", text, TemplateSource::User)
}

#[test]
fn a_good_file_loads_with_typed_parameters() {
    let t = parse_str(GOOD).unwrap();
    assert_eq!(t.info.name, "handler");
    assert_eq!(t.info.source, TemplateSource::User);
    let names: Vec<&str> = t.info.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["name", "greeting", "method"]);
    assert!(t.info.params[0].required && !t.info.params[1].required);
    assert_eq!(t.info.params[2].kind, ParamKind::Choice(vec!["get".into(), "post".into()]));
    assert_eq!(t.body_line, 7);
}

#[test]
fn a_missing_type_names_the_line() {
    let bad = GOOD.replace("type = \"string\"\n", "");
    let err = parse_str(&bad).unwrap_err();
    assert!(err.starts_with("t.toml: line 16: "), "{err}");
    assert!(err.contains("missing field `type`"), "{err}");
}

#[test]
fn bad_parameters_name_their_line_and_problem() {
    let err = parse_str(&GOOD.replace("type = \"identifier\"", "type = \"ident\"")).unwrap_err();
    assert!(err.starts_with("t.toml: line 12: parameter `name`: unknown type `ident`"), "{err}");
    let err = parse_str(&GOOD.replace("choices = [\"get\", \"post\"]\n", "")).unwrap_err();
    assert!(err.contains("line 21: parameter `method`: type `enum` needs `choices"), "{err}");
    let err = parse_str(&GOOD.replace("default = \"post\"", "default = \"put\"")).unwrap_err();
    assert!(err.contains("parameter `method`: default: `put` is not one of: get, post"), "{err}");
    let err = parse_str(&GOOD.replace("name = \"greeting\"", "name = \"name\"")).unwrap_err();
    assert!(err.contains("line 16: parameter `name` is declared twice"), "{err}");
}

#[test]
fn placeholders_and_syntax_are_checked_at_load_with_the_line() {
    let err = parse_str(&GOOD.replace("\"{{ greeting }}\"", "\"{{ greting }}\"")).unwrap_err();
    assert!(err.starts_with("t.toml: line 8: "), "{err}");
    assert!(err.contains("greting"), "{err}");
    let err = parse_str(&GOOD.replace("{{ name }}()", "{{ name ()")).unwrap_err();
    assert!(err.starts_with("t.toml: line 7: "), "{err}");
    let err = parse_str("description = \"x\"\nlanguage = \"rust\"\ntarget = \"a\"\nbody = 3\n").unwrap_err();
    assert!(err.starts_with("t.toml: line 4: "), "{err}");
    let err = parse_str("not toml [").unwrap_err();
    assert!(err.starts_with("t.toml: line 1: "), "{err}");
}
