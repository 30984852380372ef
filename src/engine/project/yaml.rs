//! YAML documents as JSON values (for schema validation and reading deployment files), with
//! bounded work: the event stream is screened first — at most [`MAX_EVENTS`] events and
//! [`MAX_ALIASES`] aliases, so anchors and aliases (common in compose files) are accepted
//! but a "billion laughs" expansion is not — and only then built by `yaml-rust2`.

use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::{Yaml, YamlLoader};

pub const MAX_EVENTS: usize = 200_000;
pub const MAX_ALIASES: usize = 10;

/// Every document of `text` as JSON (mapping keys as strings).
pub fn load(text: &str) -> Result<Vec<Value>, String> {
    let mut parser = Parser::new_from_str(text);
    let (mut events, mut aliases) = (0usize, 0usize);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((Event::Alias(_), mark)) => {
                aliases += 1;
                if aliases > MAX_ALIASES {
                    return Err(format!(
                        "line {}: more than {MAX_ALIASES} YAML aliases; not read",
                        mark.line() + 1
                    ));
                }
            }
            Ok(_) => {}
            Err(e) => return Err(format!("not valid YAML: {e}")),
        }
        events += 1;
        if events > MAX_EVENTS {
            return Err("too large a YAML document; not read".into());
        }
    }
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    Ok(docs.iter().map(to_json).collect())
}

fn to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(s.clone()), Value::Number),
        Yaml::Integer(n) => Value::from(*n),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(h) => {
            let mut map = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) | Yaml::Real(s) => s.clone(),
                    Yaml::Integer(n) => n.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    Yaml::Null => "null".into(),
                    other => format!("{other:?}"),
                };
                map.insert(key, to_json(v));
            }
            Value::Object(map)
        }
        Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_become_json_and_bombs_are_refused() {
        let docs = load("a: 1\nb: [x, 2.5, true, ~]\n---\nc: {d: e}\n").unwrap();
        assert_eq!(
            docs,
            [serde_json::json!({"a": 1, "b": ["x", 2.5, true, null]}), serde_json::json!({"c": {"d": "e"}})]
        );
        let anchors = load("base: &b {x: 1}\none: *b\n").unwrap();
        assert_eq!(anchors[0]["one"]["x"], 1);
        let mut bomb = String::from("a: &a [x, x]\n");
        for i in 1..12 {
            bomb.push_str(&format!(
                "l{i}: &l{i} [*{p}, *{p}]\n",
                p = if i == 1 { "a".to_string() } else { format!("l{}", i - 1) }
            ));
        }
        assert!(load(&bomb).unwrap_err().contains("aliases"));
        assert!(load("a: [\n").unwrap_err().contains("not valid YAML"));
    }
}
