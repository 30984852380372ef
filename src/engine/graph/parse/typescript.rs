//! TypeScript/TSX (and, through [`walk_ecma`], JavaScript): classes (`extends` → inherits,
//! `implements` → implements), interfaces, functions and arrow-function constants, methods,
//! JSDoc, ES imports and `require`, calls (`this.x()` → the enclosing class), type hints from
//! `new C()`, annotations and constructor parameter properties, Express routes, `uses`/`returns`
//! type references (parameters, fields, interface members, local annotations, return types;
//! JavaScript: JSDoc `@param {T}` / `@returns {T}`).

use tree_sitter::Node;

use super::extract::{
    Ctx, MAX_DEPTH, Scope, complexity, http_method, is_logical, member_path, named_children,
};
use super::{Language, RefKind, type_refs};
use crate::engine::graph::model::EntityKind;

pub fn walk(ctx: &mut Ctx, node: Node) {
    walk_ecma(ctx, node);
}

/// The walker shared by TypeScript and JavaScript (their grammars agree on these nodes).
pub fn walk_ecma(ctx: &mut Ctx, node: Node) {
    ctx.siblings.note(node);
    for child in named_children(node) {
        stmt(ctx, child);
    }
}

fn is_jsdoc(text: &str) -> bool {
    text.starts_with("/**")
}

fn doc(ctx: &Ctx, node: Node) -> Option<String> {
    let target = match node.parent() {
        Some(p) if p.kind() == "export_statement" => p,
        _ => node,
    };
    ctx.doc_above(target, &["decorator"], is_jsdoc)
}

fn is_branch(node: Node) -> bool {
    match node.kind() {
        "if_statement" | "for_statement" | "for_in_statement" | "while_statement" | "do_statement"
        | "switch_case" | "catch_clause" | "ternary_expression" => true,
        "binary_expression" => is_logical(node),
        _ => false,
    }
}

fn is_fn(kind: &str) -> bool {
    matches!(
        kind,
        "function_declaration"
            | "function_expression"
            | "arrow_function"
            | "method_definition"
            | "class_declaration"
    )
}

fn stmt(ctx: &mut Ctx, node: Node) {
    if ctx.depth > MAX_DEPTH {
        return;
    }
    ctx.depth += 1;
    match node.kind() {
        "export_statement" => {
            if let Some(d) = node.child_by_field_name("declaration") {
                stmt(ctx, d);
            } else {
                for c in named_children(node) {
                    stmt(ctx, c);
                }
            }
        }
        "function_declaration" | "generator_function_declaration" => {
            if let Some(name) = ctx.field_text(node, "name") {
                function(ctx, node, node, name, EntityKind::Function);
            }
        }
        "class_declaration" | "abstract_class_declaration" | "class" => class(ctx, node),
        "interface_declaration" => {
            let Some(name) = ctx.field_text(node, "name") else { return ctx.depth -= 1 };
            let d = doc(ctx, node);
            let sig = ctx.signature(node, node.child_by_field_name("body"));
            let idx = ctx.add_entity(node, name, EntityKind::Interface, sig, d, 1);
            if let Some(body) = node.child_by_field_name("body") {
                type_refs::add_type_refs(ctx, idx, RefKind::Uses, body);
            }
            for c in named_children(node).into_iter().filter(|c| c.kind() == "extends_type_clause") {
                for t in named_children(c) {
                    heritage_ref(ctx, idx, t, RefKind::Inherits);
                }
            }
        }
        "enum_declaration" => {
            if let Some(name) = ctx.field_text(node, "name") {
                let d = doc(ctx, node);
                let sig = ctx.signature(node, node.child_by_field_name("body"));
                ctx.add_entity(node, name, EntityKind::Enum, sig, d, 1);
            }
        }
        "lexical_declaration" | "variable_declaration" => {
            let is_const = ctx.text(node).starts_with("const");
            for decl in named_children(node).into_iter().filter(|c| c.kind() == "variable_declarator") {
                declarator(ctx, node, decl, is_const);
            }
        }
        "import_statement" => super::javascript::import(ctx, node),
        _ => expr(ctx, node),
    }
    ctx.depth -= 1;
}

fn heritage_ref(ctx: &mut Ctx, source: usize, t: Node, kind: RefKind) {
    let t = if t.kind() == "generic_type" { t.child_by_field_name("name").unwrap_or(t) } else { t };
    let mut path: Vec<String> = ctx.text(t).split('.').map(|s| s.trim().to_string()).collect();
    if let Some(last) = path.pop() {
        ctx.add_ref_from(source, kind, &last, path, None, t);
    }
}

fn function(ctx: &mut Ctx, decl: Node, func: Node, name: &str, kind: EntityKind) -> usize {
    let body = func.child_by_field_name("body");
    let d = doc(ctx, decl);
    let sig = ctx.signature(decl, body);
    let cx = complexity(body, is_branch, is_fn);
    let jsdoc = match (&d, ctx.lang) {
        (Some(d), Language::JavaScript) => type_refs::jsdoc_types(d),
        _ => Vec::new(),
    };
    let idx = ctx.add_entity(decl, name, kind, sig, d, cx);
    for (is_return, path) in jsdoc {
        let kind = if is_return { RefKind::Returns } else { RefKind::Uses };
        type_refs::add(ctx, idx, kind, path, decl.start_position().row as u32 + 1);
    }
    if let Some(ret) = func.child_by_field_name("return_type") {
        type_refs::add_type_refs(ctx, idx, RefKind::Returns, ret);
    }
    let self_names =
        if kind == EntityKind::Method { vec!["this".to_string()] } else { ctx.scope().self_names.clone() };
    let qn = ctx.entities[idx].qualified_name.clone();
    ctx.push_scope(Scope { entity: idx, qn, self_names });
    if let Some(params) = func.child_by_field_name("parameters") {
        params_hints(ctx, params, kind == EntityKind::Method && name == "constructor");
    }
    if let Some(b) = body {
        expr(ctx, b);
    }
    ctx.pop_scope();
    idx
}

fn type_name(ctx: &Ctx, t: Node) -> Option<Vec<String>> {
    let t = if t.kind() == "type_annotation" { named_children(t).into_iter().next()? } else { t };
    let t = if t.kind() == "generic_type" { t.child_by_field_name("name")? } else { t };
    matches!(t.kind(), "type_identifier" | "nested_type_identifier" | "identifier")
        .then(|| ctx.text(t).split('.').map(str::to_string).collect())
}

fn params_hints(ctx: &mut Ctx, params: Node, constructor: bool) {
    let source = ctx.scope().entity;
    for p in named_children(params) {
        let (Some(pat), Some(t)) = (p.child_by_field_name("pattern"), p.child_by_field_name("type")) else {
            continue;
        };
        type_refs::add_type_refs(ctx, source, RefKind::Uses, t);
        let Some(tp) = type_name(ctx, t) else { continue };
        let var = ctx.text(pat).to_string();
        let property = named_children(p).iter().any(|c| c.kind() == "accessibility_modifier");
        if constructor && property {
            // `constructor(private repo: Repo)` declares `this.repo`.
            let class = ctx.scopes.iter().rev().nth(1).map(|s| s.entity);
            if let Some(c) = class {
                let mut full = tp.clone();
                let last = full.pop().unwrap_or_default();
                full.push(last);
                ctx.add_ref_from(c, RefKind::TypeHint, &format!("self.{var}"), full, None, p);
            }
        }
        ctx.add_hint(&var, tp, p);
    }
}

fn class(ctx: &mut Ctx, node: Node) {
    let Some(name) = ctx.field_text(node, "name") else {
        return expr_children(ctx, node);
    };
    let body = node.child_by_field_name("body");
    let d = doc(ctx, node);
    let sig = ctx.signature(node, body);
    let idx = ctx.add_entity(node, name, EntityKind::Class, sig, d, 1);
    for h in named_children(node).into_iter().filter(|c| c.kind() == "class_heritage") {
        for c in named_children(h) {
            match c.kind() {
                "extends_clause" => {
                    if let Some(v) = c.child_by_field_name("value") {
                        heritage_ref(ctx, idx, v, RefKind::Inherits);
                    }
                }
                "implements_clause" => {
                    for t in named_children(c) {
                        heritage_ref(ctx, idx, t, RefKind::Implements);
                    }
                }
                // JavaScript: `class A extends B` has the expression directly.
                "identifier" | "member_expression" => heritage_ref(ctx, idx, c, RefKind::Inherits),
                _ => {}
            }
        }
    }
    ctx.push_entity_scope(idx, Vec::new());
    for m in body.map(named_children).unwrap_or_default() {
        match m.kind() {
            "method_definition" | "method_signature" | "abstract_method_signature" => {
                if let Some(n) = ctx.field_text(m, "name") {
                    function(ctx, m, m, n, EntityKind::Method);
                }
            }
            "public_field_definition" | "field_definition" => {
                let fname = m.child_by_field_name("name").or_else(|| m.child_by_field_name("property"));
                let Some(fname) = fname.map(|n| ctx.text(n).to_string()) else { continue };
                let value = m.child_by_field_name("value");
                if let Some(t) = m.child_by_field_name("type") {
                    type_refs::add_type_refs(ctx, idx, RefKind::Uses, t);
                }
                let ty = m
                    .child_by_field_name("type")
                    .and_then(|t| type_name(ctx, t))
                    .or_else(|| new_type(ctx, value?));
                if let Some(tp) = ty {
                    ctx.add_hint(&format!("self.{fname}"), tp, m);
                }
                if let Some(v) = value {
                    expr(ctx, v);
                }
            }
            _ => {}
        }
    }
    ctx.pop_scope();
}

/// `new C(...)` → `["C"]`.
fn new_type(ctx: &Ctx, value: Node) -> Option<Vec<String>> {
    let v =
        if value.kind() == "await_expression" { named_children(value).into_iter().next()? } else { value };
    (v.kind() == "new_expression")
        .then(|| v.child_by_field_name("constructor"))
        .flatten()
        .map(|c| ctx.text(c).split('.').map(str::to_string).collect())
}

fn declarator(ctx: &mut Ctx, decl_stmt: Node, decl: Node, is_const: bool) {
    let name_node = decl.child_by_field_name("name");
    let value = decl.child_by_field_name("value");
    let at_module = ctx.scopes.len() == 1;
    if let (Some(n), Some(v)) = (name_node, value) {
        if n.kind() == "identifier"
            && matches!(v.kind(), "arrow_function" | "function_expression" | "function")
        {
            let name = ctx.text(n);
            let kind = EntityKind::Function;
            let decl_node = if at_module { decl_stmt } else { decl };
            function(ctx, decl_node, v, name, kind);
            return;
        }
        if v.kind() == "call_expression" && ctx.field_text(v, "function") == Some("require") {
            super::javascript::require(ctx, n, v, decl);
            return;
        }
        if let Some(t) = decl.child_by_field_name("type").filter(|_| !at_module) {
            let source = ctx.scope().entity;
            type_refs::add_type_refs(ctx, source, RefKind::Uses, t);
        }
        if n.kind() == "identifier" {
            let var = ctx.text(n).to_string();
            let ty =
                decl.child_by_field_name("type").and_then(|t| type_name(ctx, t)).or_else(|| new_type(ctx, v));
            if let Some(tp) = ty {
                ctx.add_hint(&var, tp, decl);
            }
        }
    }
    if at_module && let Some(n) = name_node.filter(|n| n.kind() == "identifier") {
        let name = ctx.text(n);
        let upper = name.chars().all(|c| c.is_uppercase() || c == '_' || c.is_ascii_digit());
        let kind = if is_const && upper { EntityKind::Constant } else { EntityKind::Variable };
        let sig = ctx.signature(decl_stmt, None);
        let d = doc(ctx, decl_stmt);
        ctx.add_entity(decl_stmt, name, kind, sig, d, 1);
    }
    if let Some(v) = value {
        expr(ctx, v);
    }
}

/// Receiver segments of a member expression's object.
pub fn receiver(ctx: &Ctx, node: Node) -> Vec<String> {
    match node.kind() {
        "this" => vec!["self".into()],
        "identifier" => vec![ctx.text(node).to_string()],
        "member_expression" => member_path(ctx, node, "object", "property", receiver),
        "call_expression" | "await_expression" => {
            let inner = if node.kind() == "await_expression" {
                named_children(node).into_iter().next()
            } else {
                Some(node)
            };
            let f = inner.and_then(|n| n.child_by_field_name("function"));
            let name = match f {
                Some(f) if f.kind() == "member_expression" => f.child_by_field_name("property"),
                other => other,
            };
            vec!["?".into(), name.map_or("", |n| ctx.text(n)).to_string()]
        }
        _ => vec!["?".into()],
    }
}

fn call(ctx: &mut Ctx, node: Node) {
    let Some(f) = node.child_by_field_name("function") else { return };
    match f.kind() {
        "identifier" => ctx.add_call(ctx.text(f), Vec::new(), node),
        "member_expression" => {
            let (Some(o), Some(p)) = (f.child_by_field_name("object"), f.child_by_field_name("property"))
            else {
                return;
            };
            let name = ctx.text(p);
            let recv = receiver(ctx, o);
            if let Some(m) = http_method(name)
                && recv.len() == 1
                && matches!(recv[0].as_str(), "app" | "router" | "server" | "api")
            {
                super::javascript::express_route(ctx, node, m);
            }
            ctx.add_call(name, recv, node);
        }
        _ => {}
    }
}

fn expr_children(ctx: &mut Ctx, node: Node) {
    for c in named_children(node) {
        expr(ctx, c);
    }
}

pub fn expr(ctx: &mut Ctx, node: Node) {
    if ctx.depth > MAX_DEPTH {
        return;
    }
    ctx.depth += 1;
    match node.kind() {
        "function_declaration"
        | "class_declaration"
        | "lexical_declaration"
        | "variable_declaration"
        | "import_statement"
        | "interface_declaration" => stmt(ctx, node),
        "call_expression" => {
            call(ctx, node);
            let args = node.child_by_field_name("arguments");
            let handled_route = ctx.entities.last().is_some_and(|e| e.kind == EntityKind::ApiEndpoint)
                && ctx.entities.last().is_some_and(|e| e.start_line == node.start_position().row as u32 + 1);
            if let Some(f) = node.child_by_field_name("function") {
                expr(ctx, f);
            }
            if let Some(a) = args {
                for c in named_children(a) {
                    if handled_route && matches!(c.kind(), "arrow_function" | "function_expression") {
                        continue;
                    }
                    expr(ctx, c);
                }
            }
        }
        "new_expression" => {
            if let Some(c) = node.child_by_field_name("constructor") {
                let mut p: Vec<String> = ctx.text(c).split('.').map(str::to_string).collect();
                if let Some(last) = p.pop() {
                    ctx.add_call(&last, p, node);
                }
            }
            expr_children(ctx, node);
        }
        "assignment_expression" => {
            // `this.repo = new Repo()`
            if let (Some(l), Some(r)) = (node.child_by_field_name("left"), node.child_by_field_name("right"))
                && let Some(tp) = new_type(ctx, r)
            {
                let target = receiver(ctx, l);
                if target.first().map(String::as_str) == Some("self") && target.len() == 2 {
                    let class = ctx.scopes.iter().rev().nth(1).map(|s| s.entity);
                    if let Some(c) = class.filter(|&c| ctx.entities[c].kind.is_type()) {
                        ctx.add_ref_from(c, RefKind::TypeHint, &target.join("."), tp, None, node);
                    }
                } else if target.len() == 1 {
                    ctx.add_hint(&target[0], tp, node);
                }
            }
            expr_children(ctx, node);
        }
        _ => expr_children(ctx, node),
    }
    ctx.depth -= 1;
}
