//! Rust: items, impls (`impl Trait for Type` → implements), `use` trees, calls (also inside
//! macro token trees, heuristically), type hints from parameters/`let`/struct fields, axum
//! `.route("/x", get(h))` and actix `#[get("/x")]` endpoints, diesel/sea-orm models, `uses`/
//! `returns` type references (parameters, fields, enum variants, `let x: T`, return types).
//!
//! Invariants: methods are qualified `module::Type::method` whether or not `Type` is defined in
//! this file; `super::`/`self::` paths are made absolute here.

use tree_sitter::Node;

use super::RefKind;
use super::extract::{
    Ctx, MAX_DEPTH, Scope, complexity, http_method, is_logical, member_path, named_children,
};
use super::rust_paths::{absolute, path_segments, type_path, use_tree};
use super::type_refs::add_type_refs;
use crate::engine::graph::model::{EntityKind, RelationKind};

const ATTR_SKIP: &[&str] = &["attribute_item", "inner_attribute_item"];

pub fn walk(ctx: &mut Ctx, node: Node) {
    if node.kind() == "source_file" {
        let inner: Vec<String> = named_children(node)
            .into_iter()
            .take_while(|c| c.kind().contains("comment"))
            .map(|c| ctx.text(c))
            .filter(|t| t.starts_with("//!") || t.starts_with("/*!"))
            .flat_map(super::siblings::clean_comment)
            .collect();
        let doc = inner.join("\n").trim().to_string();
        if !doc.is_empty() {
            ctx.entities[0].doc = Some(doc);
        }
    }
    ctx.siblings.note(node);
    for child in named_children(node) {
        item(ctx, child);
    }
}

fn is_doc(text: &str) -> bool {
    (text.starts_with("///") && !text.starts_with("////")) || text.starts_with("/**")
}

fn item(ctx: &mut Ctx, node: Node) {
    match node.kind() {
        "function_item" | "function_signature_item" => function(ctx, node),
        "struct_item" | "union_item" | "enum_item" | "trait_item" => type_item(ctx, node),
        "impl_item" => impl_item(ctx, node),
        "mod_item" => {
            let (Some(name), Some(body)) = (ctx.field_text(node, "name"), node.child_by_field_name("body"))
            else {
                return;
            };
            let doc = ctx.doc_above(node, ATTR_SKIP, is_doc);
            let idx = ctx.add_entity(node, name, EntityKind::Module, ctx.signature(node, Some(body)), doc, 1);
            ctx.push_entity_scope(idx, Vec::new());
            walk(ctx, body);
            ctx.pop_scope();
        }
        "const_item" | "static_item" => {
            if let Some(name) = ctx.field_text(node, "name") {
                let doc = ctx.doc_above(node, ATTR_SKIP, is_doc);
                let sig = ctx.signature(node, node.child_by_field_name("value"));
                ctx.add_entity(node, name, EntityKind::Constant, sig, doc, 1);
            }
            if let Some(v) = node.child_by_field_name("value") {
                body(ctx, v);
            }
        }
        "use_declaration" => {
            if let Some(arg) = node.child_by_field_name("argument") {
                use_tree(ctx, arg, Vec::new(), node);
            }
        }
        "macro_invocation" | "expression_statement" => body(ctx, node),
        _ => {}
    }
}

fn attrs_text<'a>(ctx: &Ctx<'a>, node: Node) -> Vec<&'a str> {
    let mut out = Vec::new();
    for p in ctx.siblings.above(node) {
        match p.kind {
            "attribute_item" => out.push(ctx.bytes_text(p.start_byte, p.end_byte)),
            k if k.contains("comment") => {}
            _ => break,
        }
    }
    out
}

fn is_rust_fn(kind: &str) -> bool {
    kind == "function_item"
}

fn is_branch(node: Node) -> bool {
    match node.kind() {
        "if_expression" | "match_arm" | "for_expression" | "while_expression" | "try_expression" => true,
        "binary_expression" => is_logical(node),
        _ => false,
    }
}

fn function(ctx: &mut Ctx, node: Node) {
    let Some(name) = ctx.field_text(node, "name") else { return };
    let in_type = ctx.scope().self_names.iter().any(|s| s == "Self");
    let kind = if in_type { EntityKind::Method } else { EntityKind::Function };
    let body_node = node.child_by_field_name("body");
    let doc = ctx.doc_above(node, ATTR_SKIP, is_doc);
    let sig = ctx.signature(node, body_node);
    let cx = complexity(body_node, is_branch, is_rust_fn);
    let idx = ctx.add_entity(node, name, kind, sig, doc, cx);
    // actix-web style `#[get("/path")]`.
    for attr in attrs_text(ctx, node) {
        let inner = attr.trim_start_matches("#[").trim_end_matches(']');
        let Some((method, rest)) = inner.split_once('(') else { continue };
        let (Some(m), Some(path)) = (http_method(method.trim()), rest.split('"').nth(1)) else { continue };
        let ep = endpoint(ctx, node, &format!("{m} {path}"));
        ctx.local_edges.push((ep, idx, RelationKind::Handles));
    }
    let self_names = if in_type { vec!["self".to_string(), "Self".to_string()] } else { Vec::new() };
    let qn = ctx.entities[idx].qualified_name.clone();
    ctx.push_scope(Scope { entity: idx, qn, self_names });
    if let Some(params) = node.child_by_field_name("parameters") {
        for p in named_children(params) {
            if p.kind() != "parameter" {
                continue;
            }
            let (Some(pat), Some(ty)) = (p.child_by_field_name("pattern"), p.child_by_field_name("type"))
            else {
                continue;
            };
            add_type_refs(ctx, idx, RefKind::Uses, ty);
            if let Some(tp) = type_path(ctx, ty) {
                let var = ctx.text(pat).trim_start_matches("mut ").to_string();
                ctx.add_hint(&var, tp, p);
            }
        }
    }
    if let Some(ret) = node.child_by_field_name("return_type") {
        add_type_refs(ctx, idx, RefKind::Returns, ret);
    }
    if let Some(b) = body_node {
        body(ctx, b);
    }
    ctx.pop_scope();
}

fn endpoint(ctx: &mut Ctx, node: Node, name: &str) -> usize {
    let sig = ctx.signature(node, None);
    ctx.add_module_entity(node, name, EntityKind::ApiEndpoint, sig)
}

fn type_item(ctx: &mut Ctx, node: Node) {
    let Some(name) = ctx.field_text(node, "name") else { return };
    let body_node = node.child_by_field_name("body");
    let mut kind = match node.kind() {
        "enum_item" => EntityKind::Enum,
        "trait_item" => EntityKind::Trait,
        _ => EntityKind::Struct,
    };
    if kind == EntityKind::Struct {
        let model = attrs_text(ctx, node).iter().any(|a| {
            ["Queryable", "Insertable", "DeriveEntityModel", "diesel(table_name", "sea_orm(table_name"]
                .iter()
                .any(|m| a.contains(m))
        });
        if model {
            kind = EntityKind::DatabaseModel;
        }
    }
    let doc = ctx.doc_above(node, ATTR_SKIP, is_doc);
    let sig = ctx.signature(node, body_node);
    let idx = ctx.add_entity(node, name, kind, sig, doc, 1);
    let self_names = vec!["self".to_string(), "Self".to_string()];
    ctx.push_entity_scope(idx, self_names);
    if let Some(b) = body_node {
        match node.kind() {
            "trait_item" => walk(ctx, b),
            "enum_item" => {
                for variant in named_children(b) {
                    if let Some(fields) = variant.child_by_field_name("body") {
                        add_type_refs(ctx, idx, RefKind::Uses, fields);
                    }
                }
            }
            "struct_item" | "union_item" => {
                add_type_refs(ctx, idx, RefKind::Uses, b);
                for field in named_children(b) {
                    let (Some(fname), Some(ty)) =
                        (ctx.field_text(field, "name"), field.child_by_field_name("type"))
                    else {
                        continue;
                    };
                    if let Some(tp) = type_path(ctx, ty) {
                        ctx.add_hint(&format!("self.{fname}"), tp, field);
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(bounds) = node.child_by_field_name("bounds") {
        for b in named_children(bounds) {
            if let Some(mut tp) = type_path(ctx, b)
                && let Some(last) = tp.pop()
            {
                ctx.add_ref(RefKind::Inherits, &last, tp, None, b);
            }
        }
    }
    ctx.pop_scope();
}

fn impl_item(ctx: &mut Ctx, node: Node) {
    let Some(ty) = node.child_by_field_name("type").and_then(|t| type_path(ctx, t)) else { return };
    let Some(type_name) = ty.last().cloned() else { return };
    let qn = format!("{}::{}", ctx.module_qn, type_name);
    let own = ctx.types.get(&qn).copied();
    if let Some(tr) = node.child_by_field_name("trait").and_then(|t| type_path(ctx, t)) {
        let mut tr = tr;
        if let Some(last) = tr.pop() {
            // Source by index when the type is in this file, else by name (alias).
            let alias = if own.is_none() { Some(type_name.clone()) } else { None };
            let source = own.unwrap_or(0);
            ctx.add_ref_from(source, RefKind::Implements, &last, tr, alias, node);
        }
    }
    let Some(b) = node.child_by_field_name("body") else { return };
    let entity = own.unwrap_or(0);
    ctx.push_scope(Scope { entity, qn, self_names: vec!["self".into(), "Self".into()] });
    walk(ctx, b);
    ctx.pop_scope();
}

/// Receiver path of a method call's value: `self` → `["self"]`, `a.b` → `["a","b"]`.
fn receiver(ctx: &Ctx, node: Node) -> Vec<String> {
    match node.kind() {
        "self" => vec!["self".into()],
        "identifier" => {
            let t = ctx.text(node);
            if ctx.is_self(t) { vec!["self".into()] } else { vec![t.to_string()] }
        }
        "field_expression" => member_path(ctx, node, "value", "field", receiver),
        "call_expression" => {
            // The receiver is another call's result: remember that call's name.
            let f = node.child_by_field_name("function");
            let name = match f {
                Some(f) if f.kind() == "field_expression" => f.child_by_field_name("field"),
                Some(f) if f.kind() == "scoped_identifier" => f.child_by_field_name("name"),
                other => other,
            };
            vec!["?".into(), name.map_or("", |n| ctx.text(n)).to_string()]
        }
        "try_expression" | "await_expression" | "reference_expression" | "parenthesized_expression" => {
            match named_children(node).first() {
                Some(inner) => receiver(ctx, *inner),
                None => vec!["?".into()],
            }
        }
        _ => vec!["?".into()],
    }
}

fn call(ctx: &mut Ctx, node: Node) {
    let Some(func) = node.child_by_field_name("function") else { return };
    let func = if func.kind() == "generic_function" {
        func.child_by_field_name("function").unwrap_or(func)
    } else {
        func
    };
    match func.kind() {
        "identifier" => ctx.add_call(ctx.text(func), Vec::new(), node),
        "scoped_identifier" => {
            let mut segs = Vec::new();
            path_segments(ctx, func, &mut segs);
            let mut segs = absolute(ctx, segs);
            if segs.first().map(String::as_str) == Some("Self") {
                segs[0] = "self".into();
            }
            if let Some(name) = segs.pop() {
                ctx.add_call(&name, segs, node);
            }
        }
        "field_expression" => {
            let (Some(v), Some(f)) = (func.child_by_field_name("value"), func.child_by_field_name("field"))
            else {
                return;
            };
            let name = ctx.text(f);
            if name == "route" {
                axum_route(ctx, node);
            }
            let recv = receiver(ctx, v);
            ctx.add_call(name, recv, node);
        }
        _ => {}
    }
}

/// axum: `.route("/x", get(handler).post(other))`.
fn axum_route(ctx: &mut Ctx, node: Node) {
    let Some(args) = node.child_by_field_name("arguments") else { return };
    let args = named_children(args);
    let (Some(path), Some(handlers)) = (args.first(), args.get(1)) else { return };
    let Some(path) = super::extract::string_value(ctx, *path) else { return };
    let mut cur = Some(*handlers);
    while let Some(c) = cur.filter(|c| c.kind() == "call_expression") {
        let f = c.child_by_field_name("function");
        let (method, next) = match f {
            Some(f) if f.kind() == "identifier" => (ctx.text(f), None),
            Some(f) if f.kind() == "field_expression" => {
                (f.child_by_field_name("field").map_or("", |n| ctx.text(n)), f.child_by_field_name("value"))
            }
            _ => break,
        };
        let handler = c.child_by_field_name("arguments").and_then(|a| named_children(a).into_iter().next());
        if let (Some(m), Some(h)) = (http_method(method), handler) {
            let mut segs = Vec::new();
            path_segments(ctx, h, &mut segs);
            let mut segs = absolute(ctx, segs);
            let ep = endpoint(ctx, node, &format!("{m} {path}"));
            if let Some(name) = segs.pop() {
                ctx.add_ref_from(ep, RefKind::Handles, &name, segs, None, h);
            }
        }
        cur = next;
    }
}

/// Walks a function body (or any expression) for calls, hints and nested items.
fn body(ctx: &mut Ctx, node: Node) {
    if ctx.depth > MAX_DEPTH {
        return;
    }
    ctx.depth += 1;
    match node.kind() {
        "function_item" | "struct_item" | "enum_item" | "impl_item" | "trait_item" | "mod_item"
        | "use_declaration" | "const_item" | "static_item" => item(ctx, node),
        "call_expression" => {
            call(ctx, node);
            for c in named_children(node) {
                body(ctx, c);
            }
        }
        "token_tree" => macro_calls(ctx, node),
        "let_declaration" => {
            if let (Some(pat), Some(value)) =
                (node.child_by_field_name("pattern"), node.child_by_field_name("value"))
            {
                if let Some(t) = node.child_by_field_name("type") {
                    let source = ctx.scope().entity;
                    add_type_refs(ctx, source, RefKind::Uses, t);
                }
                let ty = node.child_by_field_name("type").and_then(|t| type_path(ctx, t)).or_else(|| {
                    // `Type::new(..)` / `Type { .. }`
                    let f = match value.kind() {
                        "call_expression" => value.child_by_field_name("function")?,
                        "struct_expression" => value.child_by_field_name("name")?,
                        _ => return None,
                    };
                    let mut segs = Vec::new();
                    path_segments(ctx, f, &mut segs);
                    if value.kind() == "call_expression" {
                        segs.pop();
                    }
                    let first = segs.last()?.chars().next()?;
                    first.is_uppercase().then(|| absolute(ctx, segs))
                });
                if let Some(tp) = ty {
                    let var = ctx.text(pat).trim_start_matches("mut ").to_string();
                    ctx.add_hint(&var, tp, node);
                }
            }
            for c in named_children(node) {
                body(ctx, c);
            }
        }
        _ => {
            for c in named_children(node) {
                body(ctx, c);
            }
        }
    }
    ctx.depth -= 1;
}

/// Heuristic calls inside macro arguments: `ident (` , `a::b (`, `self.x (`.
fn macro_calls(ctx: &mut Ctx, node: Node) {
    let mut cursor = node.walk();
    let kids: Vec<Node> = node.children(&mut cursor).collect();
    for (i, k) in kids.iter().enumerate() {
        if k.kind() == "token_tree" {
            if ctx.depth <= MAX_DEPTH {
                ctx.depth += 1;
                macro_calls(ctx, *k);
                ctx.depth -= 1;
            }
            let Some(prev) = i.checked_sub(1).map(|j| kids[j]) else { continue };
            if prev.kind() != "identifier" || !ctx.text(*k).starts_with('(') {
                continue;
            }
            let name = ctx.text(prev);
            // Walk back over `a::b::` or `self.` prefixes.
            let mut path = Vec::new();
            let mut j = i - 1;
            while j >= 2 && matches!(ctx.text(kids[j - 1]), "::" | ".") && kids[j - 2].kind() != "token_tree"
            {
                path.insert(0, ctx.text(kids[j - 2]).to_string());
                j -= 2;
            }
            let mut path = absolute(ctx, path);
            if let Some(first) = path.first_mut()
                && (first == "Self" || first == "self")
            {
                *first = "self".into();
            }
            if !path.is_empty() && path.iter().any(|p| p.is_empty()) {
                continue;
            }
            ctx.add_call(name, path, prev);
        }
    }
}
