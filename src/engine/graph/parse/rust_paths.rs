//! Rust paths: making `crate`/`self`/`super` paths absolute, path segments of (scoped,
//! generic) identifiers, `use` trees → import refs, and the main type of a type node.
//!
//! Invariant: every path leaving here is absolute (starts with `crate` or an external crate
//! name), except `Self`/`self` receivers which callers normalise.

use tree_sitter::Node;

use super::RefKind;
use super::extract::{Ctx, named_children};

/// Absolute segments for a Rust path's leading `crate`/`self`/`super`.
pub fn absolute(ctx: &Ctx, mut segs: Vec<String>) -> Vec<String> {
    let module: Vec<String> = ctx.module_qn.split("::").map(str::to_string).collect();
    match segs.first().map(String::as_str) {
        Some("self") => {
            segs.remove(0);
            let mut out = module;
            out.extend(segs);
            out
        }
        Some("super") => {
            let mut out = module;
            while segs.first().map(String::as_str) == Some("super") {
                segs.remove(0);
                if out.len() > 1 {
                    out.pop();
                }
            }
            out.extend(segs);
            out
        }
        _ => segs,
    }
}

pub fn path_segments(ctx: &Ctx, node: Node, out: &mut Vec<String>) {
    match node.kind() {
        "scoped_identifier" | "scoped_type_identifier" | "scoped_use_list" => {
            if let Some(p) = node.child_by_field_name("path") {
                path_segments(ctx, p, out);
            }
            if let Some(n) = node.child_by_field_name("name") {
                out.push(ctx.text(n).to_string());
            }
        }
        "generic_type" | "generic_function" => {
            if let Some(t) = node.child_by_field_name("type").or_else(|| node.child_by_field_name("function"))
            {
                path_segments(ctx, t, out);
            }
        }
        _ => out.push(ctx.text(node).to_string()),
    }
}

pub fn use_tree(ctx: &mut Ctx, node: Node, prefix: Vec<String>, stmt: Node) {
    let add = |ctx: &mut Ctx, segs: Vec<String>, alias: Option<String>| {
        let mut full = prefix.clone();
        full.extend(segs);
        let mut full = absolute(ctx, full);
        if full.last().map(String::as_str) == Some("self") {
            full.pop();
        }
        let Some(name) = full.pop() else { return };
        let alias = alias.unwrap_or_else(|| name.clone());
        ctx.add_ref(RefKind::Imports, &name, full, Some(alias), stmt);
    };
    match node.kind() {
        "use_as_clause" => {
            let mut segs = Vec::new();
            if let Some(p) = node.child_by_field_name("path") {
                path_segments(ctx, p, &mut segs);
            }
            let alias = ctx.field_text(node, "alias").map(str::to_string);
            add(ctx, segs, alias);
        }
        "scoped_use_list" => {
            let mut p = prefix.clone();
            if let Some(path) = node.child_by_field_name("path") {
                path_segments(ctx, path, &mut p);
            }
            if let Some(list) = node.child_by_field_name("list") {
                use_tree(ctx, list, p, stmt);
            }
        }
        "use_list" => {
            for child in named_children(node) {
                use_tree(ctx, child, prefix.clone(), stmt);
            }
        }
        "use_wildcard" => {
            let mut segs = prefix.clone();
            if let Some(p) = named_children(node).first() {
                path_segments(ctx, *p, &mut segs);
            }
            let segs = absolute(ctx, segs);
            if let Some((last, init)) = segs.split_last() {
                ctx.add_ref(RefKind::Imports, last, init.to_vec(), Some("*".into()), stmt);
            }
        }
        _ => {
            let mut segs = Vec::new();
            path_segments(ctx, node, &mut segs);
            add(ctx, segs, None);
        }
    }
}

/// The main type path of a type node, unwrapping references and smart-pointer wrappers.
pub fn type_path(ctx: &Ctx, node: Node) -> Option<Vec<String>> {
    match node.kind() {
        "reference_type" | "pointer_type" => type_path(ctx, node.child_by_field_name("type")?),
        "generic_type" => {
            let base = type_path(ctx, node.child_by_field_name("type")?)?;
            let wrapper = matches!(
                base.last().map(String::as_str),
                Some("Arc" | "Rc" | "Box" | "Option" | "Mutex" | "RwLock" | "RefCell" | "Cell")
            );
            if wrapper {
                let args = node.child_by_field_name("type_arguments")?;
                return named_children(args).into_iter().find_map(|a| type_path(ctx, a));
            }
            Some(base)
        }
        "type_identifier" | "scoped_type_identifier" | "identifier" | "scoped_identifier" => {
            let mut segs = Vec::new();
            path_segments(ctx, node, &mut segs);
            Some(absolute(ctx, segs))
        }
        _ => None,
    }
}
