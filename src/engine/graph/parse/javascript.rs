//! JavaScript (`.js`, `.mjs`, `.cjs`, `.jsx`) uses the ECMAScript walker in
//! [`super::typescript`] (`class A extends B` has no `extends_clause` there, which it handles).
//! This file holds what both languages share around it: module paths of import sources, ES
//! `import` clauses, CommonJS `require`, and Express route registrations.
//!
//! Invariant: import refs carry the absolute module path (`./x` resolved against the
//! importing file's directory, `index` and extensions dropped).

use tree_sitter::Node;

use super::RefKind;
use super::extract::{Ctx, Scope, named_children, string_value};
use crate::engine::graph::model::EntityKind;

pub fn walk(ctx: &mut Ctx, node: Node) {
    super::typescript::walk_ecma(ctx, node);
}

/// Module path of an import source relative to this file's module.
pub fn module_of(ctx: &Ctx, source: &str) -> Vec<String> {
    if !source.starts_with('.') {
        return source.split('/').map(str::to_string).collect();
    }
    let mut dir: Vec<&str> = ctx.module_qn.split('/').collect();
    // The module path names a file (or a directory's index): its directory is the parent.
    if !ctx.module_qn.is_empty() {
        dir.pop();
    }
    for part in source.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                dir.pop();
            }
            p => dir.push(p),
        }
    }
    let mut out: Vec<String> = dir.into_iter().map(str::to_string).collect();
    if let Some(last) = out.last_mut() {
        for ext in [".js", ".ts", ".tsx", ".jsx", ".mjs", ".cjs"] {
            if let Some(s) = last.strip_suffix(ext) {
                *last = s.to_string();
            }
        }
        if last == "index" && out.len() > 1 {
            out.pop();
        }
    }
    out
}

pub fn import(ctx: &mut Ctx, node: Node) {
    let Some(source) = node.child_by_field_name("source").and_then(|s| string_value(ctx, s)) else { return };
    let module = module_of(ctx, &source);
    let Some(clause) = named_children(node).into_iter().find(|c| c.kind() == "import_clause") else { return };
    for c in named_children(clause) {
        match c.kind() {
            // Default import: resolve to the module's entity of that name, else the module.
            "identifier" => {
                let alias = ctx.text(c);
                ctx.add_ref(RefKind::Imports, alias, module.clone(), Some(alias.to_string()), node);
            }
            "namespace_import" => {
                if let (Some(id), Some((last, init))) =
                    (named_children(c).into_iter().next(), module.split_last())
                {
                    let alias = ctx.text(id).to_string();
                    ctx.add_ref(RefKind::Imports, last, init.to_vec(), Some(alias), node);
                }
            }
            "named_imports" => {
                for spec in named_children(c).into_iter().filter(|s| s.kind() == "import_specifier") {
                    let Some(name) = ctx.field_text(spec, "name") else { continue };
                    let alias = ctx.field_text(spec, "alias").unwrap_or(name).to_string();
                    ctx.add_ref(RefKind::Imports, name, module.clone(), Some(alias), node);
                }
            }
            _ => {}
        }
    }
}

/// Express: `app.get('/x', handler)` / `router.post('/x', mw, (req, res) => ...)`.
pub fn express_route(ctx: &mut Ctx, node: Node, method: &str) {
    let args = node.child_by_field_name("arguments").map(named_children).unwrap_or_default();
    let Some(path) = args.first().and_then(|a| string_value(ctx, *a)) else { return };
    let Some(handler) = args.last().filter(|_| args.len() >= 2) else { return };
    let sig = ctx.signature(node, None);
    let ep = ctx.add_module_entity(node, &format!("{method} {path}"), EntityKind::ApiEndpoint, sig);
    match handler.kind() {
        "identifier" | "member_expression" => {
            let mut p = super::typescript::receiver(ctx, *handler);
            if let Some(last) = p.pop() {
                ctx.add_ref_from(ep, RefKind::Handles, &last, p, None, *handler);
            }
        }
        "arrow_function" | "function_expression" => {
            // An inline handler: its calls are the endpoint's.
            let qn = ctx.entities[ep].qualified_name.clone();
            ctx.push_scope(Scope { entity: ep, qn, self_names: Vec::new() });
            if let Some(b) = handler.child_by_field_name("body") {
                super::typescript::expr(ctx, b);
            }
            ctx.pop_scope();
        }
        _ => {}
    }
}

/// `const x = require('./m')` / `const { a, b: c } = require('./m')`.
pub fn require(ctx: &mut Ctx, n: Node, v: Node, decl: Node) {
    let source = v
        .child_by_field_name("arguments")
        .and_then(|a| named_children(a).into_iter().next())
        .and_then(|s| string_value(ctx, s));
    if let Some(source) = source {
        let module = module_of(ctx, &source);
        if n.kind() == "identifier" {
            let alias = ctx.text(n).to_string();
            if let Some((last, init)) = module.split_last() {
                ctx.add_ref(RefKind::Imports, last, init.to_vec(), Some(alias), decl);
            }
        } else {
            // `const { a, b: c } = require('./m')`
            for p in named_children(n) {
                let (key, alias) = match p.kind() {
                    "shorthand_property_identifier_pattern" => (ctx.text(p), ctx.text(p)),
                    "pair_pattern" => {
                        (ctx.field_text(p, "key").unwrap_or(""), ctx.field_text(p, "value").unwrap_or(""))
                    }
                    _ => continue,
                };
                ctx.add_ref(RefKind::Imports, key, module.clone(), Some(alias.to_string()), decl);
            }
        }
    }
}
