//! Go: package functions, methods (`func (r *Repo) Save()` → `pkg.Repo.Save`, the receiver
//! variable means "self"), structs/interfaces (embedded fields → inherits; interface methods are
//! entities), constants, imports (alias = last path element unless renamed), calls, type hints
//! from parameters, `x := T{}` / `&T{}` and struct fields, `uses`/`returns` type references
//! (parameters, fields, `var x T`, results), and `http.HandleFunc("/x", h)` / gin-style
//! `r.GET("/x", h)` routes.

use tree_sitter::Node;

use super::RefKind;
use super::extract::{
    Ctx, MAX_DEPTH, Scope, complexity, http_method, is_logical, member_path, named_children, string_value,
};
use super::type_refs::add_type_refs;
use crate::engine::graph::model::EntityKind;

pub fn walk(ctx: &mut Ctx, node: Node) {
    ctx.siblings.note(node);
    for child in named_children(node) {
        decl(ctx, child);
    }
}

fn is_doc(text: &str) -> bool {
    text.starts_with("//")
}

fn is_branch(node: Node) -> bool {
    match node.kind() {
        "if_statement" | "for_statement" | "expression_case" | "type_case" | "communication_case" => true,
        "binary_expression" => is_logical(node),
        _ => false,
    }
}

fn is_fn(kind: &str) -> bool {
    kind == "func_literal"
}

fn type_path(ctx: &Ctx, t: Node) -> Option<Vec<String>> {
    match t.kind() {
        "pointer_type" => type_path(ctx, named_children(t).into_iter().next()?),
        "type_identifier" => Some(vec![ctx.text(t).to_string()]),
        "qualified_type" => Some(ctx.text(t).split('.').map(str::to_string).collect()),
        "generic_type" => type_path(ctx, t.child_by_field_name("type")?),
        _ => None,
    }
}

fn decl(ctx: &mut Ctx, node: Node) {
    match node.kind() {
        "function_declaration" | "method_declaration" => function(ctx, node),
        "type_declaration" => {
            for spec in named_children(node).into_iter().filter(|s| s.kind() == "type_spec") {
                type_spec(ctx, node, spec);
            }
        }
        "const_declaration" | "var_declaration" => {
            let kind =
                if node.kind() == "const_declaration" { EntityKind::Constant } else { EntityKind::Variable };
            let mut specs = Vec::new();
            for c in named_children(node) {
                match c.kind() {
                    "const_spec" | "var_spec" => specs.push(c),
                    "var_spec_list" | "const_spec_list" => specs.extend(named_children(c)),
                    _ => {}
                }
            }
            for spec in specs {
                let doc = ctx.doc_above(spec, &[], is_doc).or_else(|| ctx.doc_above(node, &[], is_doc));
                for n in named_children(spec).into_iter().filter(|n| n.kind() == "identifier") {
                    let sig = ctx.signature(spec, None);
                    ctx.add_entity(spec, ctx.text(n), kind, sig, doc.clone(), 1);
                }
                if let Some(v) = spec.child_by_field_name("value") {
                    body(ctx, v);
                }
            }
        }
        "import_declaration" => {
            let mut specs = Vec::new();
            for c in named_children(node) {
                match c.kind() {
                    "import_spec" => specs.push(c),
                    "import_spec_list" => specs.extend(named_children(c)),
                    _ => {}
                }
            }
            for spec in specs {
                let Some(path) = spec.child_by_field_name("path").and_then(|p| string_value(ctx, p)) else {
                    continue;
                };
                let mut segs: Vec<String> = path.split('/').map(str::to_string).collect();
                let Some(last) = segs.pop() else { continue };
                let alias = ctx.field_text(spec, "name").unwrap_or(&last).to_string();
                ctx.add_ref(RefKind::Imports, &last, segs, Some(alias), spec);
            }
        }
        _ => {}
    }
}

fn type_spec(ctx: &mut Ctx, decl: Node, spec: Node) {
    let (Some(name), Some(ty)) = (ctx.field_text(spec, "name"), spec.child_by_field_name("type")) else {
        return;
    };
    let kind = match ty.kind() {
        "struct_type" => EntityKind::Struct,
        "interface_type" => EntityKind::Interface,
        _ => return,
    };
    let doc = ctx.doc_above(decl, &[], is_doc);
    let sig =
        ctx.signature(spec, Some(ty)) + " " + if kind == EntityKind::Struct { "struct" } else { "interface" };
    let idx = ctx.add_entity(decl, name, kind, sig, doc, 1);
    let mut is_model = false;
    // A struct's fields sit in a `field_declaration_list`; an interface's elements directly.
    let members: Vec<Node> = if kind == EntityKind::Interface {
        named_children(ty)
    } else {
        named_children(ty).into_iter().flat_map(named_children).collect()
    };
    for field in members {
        match field.kind() {
            "field_declaration" => {
                let ftype = field.child_by_field_name("type");
                let names: Vec<Node> =
                    named_children(field).into_iter().filter(|n| n.kind() == "field_identifier").collect();
                if ctx.text(field).contains("gorm:\"") {
                    is_model = true;
                }
                if let Some(t) = ftype.filter(|_| !names.is_empty()) {
                    add_type_refs(ctx, idx, RefKind::Uses, t);
                }
                let Some(tp) = ftype.and_then(|t| type_path(ctx, t)) else { continue };
                if names.is_empty() {
                    // Embedded field: the struct inherits its methods.
                    if tp.last().is_some_and(|l| l == "Model") && tp.first().is_some_and(|f| f == "gorm") {
                        is_model = true;
                    }
                    let mut p = tp.clone();
                    if let Some(last) = p.pop() {
                        ctx.add_ref_from(idx, RefKind::Inherits, &last, p, None, field);
                    }
                }
                for n in names {
                    let key = format!("self.{}", ctx.text(n));
                    ctx.add_ref_from(idx, RefKind::TypeHint, &key, tp.clone(), None, field);
                }
            }
            "type_elem" | "method_elem" | "method_spec" => {
                if let Some(m) = field.child_by_field_name("name") {
                    let sig = ctx.signature(field, None);
                    let name = ctx.text(m).to_string();
                    ctx.push_entity_scope(idx, Vec::new());
                    let m = ctx.add_entity(field, &name, EntityKind::Method, sig, None, 1);
                    ctx.pop_scope();
                    if let Some(params) = field.child_by_field_name("parameters") {
                        add_type_refs(ctx, m, RefKind::Uses, params);
                    }
                    if let Some(result) = field.child_by_field_name("result") {
                        add_type_refs(ctx, m, RefKind::Returns, result);
                    }
                }
            }
            _ => {}
        }
    }
    if is_model {
        ctx.entities[idx].kind = EntityKind::DatabaseModel;
    }
}

fn function(ctx: &mut Ctx, node: Node) {
    let Some(name) = ctx.field_text(node, "name") else { return };
    let body_node = node.child_by_field_name("body");
    let doc = ctx.doc_above(node, &[], is_doc);
    let sig = ctx.signature(node, body_node);
    let cx = complexity(body_node, is_branch, is_fn);
    let mut self_names = Vec::new();
    let mut scope_qn = ctx.module_qn.clone();
    let mut kind = EntityKind::Function;
    if let Some(recv) = node.child_by_field_name("receiver")
        && let Some(p) = named_children(recv).into_iter().next()
    {
        let tp = p.child_by_field_name("type").and_then(|t| type_path(ctx, t));
        if let Some(t) = tp.and_then(|t| t.last().cloned()) {
            scope_qn = format!("{}.{}", ctx.module_qn, t);
            kind = EntityKind::Method;
        }
        if let Some(n) = p.child_by_field_name("name") {
            self_names.push(ctx.text(n).to_string());
        }
    }
    // Methods hang under their type when it is in this file, else under the module.
    let owner = ctx.types.get(&scope_qn).copied().unwrap_or(0);
    ctx.push_scope(Scope { entity: owner, qn: scope_qn, self_names: Vec::new() });
    let idx = ctx.add_entity(node, name, kind, sig, doc, cx);
    ctx.pop_scope();
    let qn = ctx.entities[idx].qualified_name.clone();
    ctx.push_scope(Scope { entity: idx, qn, self_names });
    if let Some(params) = node.child_by_field_name("parameters") {
        for p in named_children(params) {
            if let Some(t) = p.child_by_field_name("type") {
                add_type_refs(ctx, idx, RefKind::Uses, t);
            }
            let Some(tp) = p.child_by_field_name("type").and_then(|t| type_path(ctx, t)) else { continue };
            for n in named_children(p).into_iter().filter(|n| n.kind() == "identifier") {
                let var = ctx.text(n).to_string();
                ctx.add_hint(&var, tp.clone(), p);
            }
        }
    }
    if let Some(result) = node.child_by_field_name("result") {
        add_type_refs(ctx, idx, RefKind::Returns, result);
    }
    if let Some(b) = body_node {
        body(ctx, b);
    }
    ctx.pop_scope();
}

fn receiver(ctx: &Ctx, node: Node) -> Vec<String> {
    match node.kind() {
        "identifier" => {
            let t = ctx.text(node);
            if ctx.is_self(t) { vec!["self".into()] } else { vec![t.to_string()] }
        }
        "selector_expression" => member_path(ctx, node, "operand", "field", receiver),
        "call_expression" => {
            let f = node.child_by_field_name("function");
            let name = match f {
                Some(f) if f.kind() == "selector_expression" => f.child_by_field_name("field"),
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
        "selector_expression" => {
            let (Some(o), Some(field)) = (f.child_by_field_name("operand"), f.child_by_field_name("field"))
            else {
                return;
            };
            let name = ctx.text(field);
            let recv = receiver(ctx, o);
            if name == "HandleFunc" || name == "Handle" || (name.len() > 2 && name == name.to_uppercase()) {
                route(ctx, node, name);
            }
            ctx.add_call(name, recv, node);
        }
        _ => {}
    }
}

fn route(ctx: &mut Ctx, node: Node, name: &str) {
    let args = node.child_by_field_name("arguments").map(named_children).unwrap_or_default();
    let Some(path) = args.first().and_then(|a| string_value(ctx, *a)) else { return };
    let method = if name.starts_with("Handle") { Some("ANY") } else { http_method(name) };
    let (Some(method), Some(h)) = (method, args.last().filter(|_| args.len() >= 2)) else { return };
    let sig = ctx.signature(node, None);
    let ep = ctx.add_module_entity(node, &format!("{method} {path}"), EntityKind::ApiEndpoint, sig);
    let mut p = receiver(ctx, *h);
    if p.first().map(String::as_str) == Some("?") {
        return;
    }
    if let Some(last) = p.pop() {
        ctx.add_ref_from(ep, RefKind::Handles, &last, p, None, *h);
    }
}

fn body(ctx: &mut Ctx, node: Node) {
    if ctx.depth > MAX_DEPTH {
        return;
    }
    ctx.depth += 1;
    match node.kind() {
        "call_expression" => {
            call(ctx, node);
            for c in named_children(node) {
                body(ctx, c);
            }
        }
        "var_spec" => {
            // `var x T` in a function body: a local annotation.
            if let Some(t) = node.child_by_field_name("type") {
                let source = ctx.scope().entity;
                add_type_refs(ctx, source, RefKind::Uses, t);
            }
            for c in named_children(node) {
                body(ctx, c);
            }
        }
        "short_var_declaration" | "assignment_statement" => {
            let left = node.child_by_field_name("left").map(named_children).unwrap_or_default();
            let right = node.child_by_field_name("right").map(named_children).unwrap_or_default();
            for (l, r) in left.iter().zip(&right) {
                let r = if r.kind() == "unary_expression" {
                    r.child_by_field_name("operand").unwrap_or(*r)
                } else {
                    *r
                };
                if r.kind() == "composite_literal"
                    && let Some(tp) = r.child_by_field_name("type").and_then(|t| type_path(ctx, t))
                    && l.kind() == "identifier"
                {
                    let var = ctx.text(*l).to_string();
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
