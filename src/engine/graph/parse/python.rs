//! Python: classes (bases → inherits; SQLAlchemy/Django/Flask-SQLAlchemy/SQLModel bases →
//! database_model), functions/methods with docstrings, imports (relative ones made absolute),
//! calls with receivers (`self`/`cls` → the enclosing class), type hints from annotations and
//! `x = Class()` / `self.x = Class()`, FastAPI/Flask route decorators → api_endpoint,
//! `uses`/`returns` type references (parameter, `x: T` and return annotations).

use tree_sitter::Node;

use super::RefKind;
use super::extract::{Ctx, MAX_DEPTH, Scope, complexity, http_method, named_children, string_value, unquote};
use super::type_refs::add_type_refs;
use crate::engine::graph::model::{EntityKind, RelationKind};

const MODEL_BASES: &[&str] = &["Base", "Model", "DeclarativeBase", "SQLModel", "Document"];

pub fn walk(ctx: &mut Ctx, node: Node) {
    if node.kind() == "module" {
        ctx.entities[0].doc = docstring(ctx, Some(node));
    }
    for child in named_children(node) {
        statement(ctx, child, &[]);
    }
}

fn statement(ctx: &mut Ctx, node: Node, decorators: &[Node]) {
    if ctx.depth > MAX_DEPTH {
        return;
    }
    ctx.depth += 1;
    match node.kind() {
        "function_definition" => function(ctx, node, decorators),
        "class_definition" => class(ctx, node),
        "decorated_definition" => {
            let decs: Vec<Node> =
                named_children(node).into_iter().filter(|n| n.kind() == "decorator").collect();
            for d in &decs {
                expr(ctx, *d);
            }
            if let Some(def) = node.child_by_field_name("definition") {
                statement(ctx, def, &decs);
            }
        }
        "import_statement" => import(ctx, node),
        "import_from_statement" => import_from(ctx, node),
        "expression_statement" => {
            for c in named_children(node) {
                if c.kind() == "assignment" {
                    assignment(ctx, c);
                } else {
                    expr(ctx, c);
                }
            }
        }
        _ => expr(ctx, node),
    }
    ctx.depth -= 1;
}

fn docstring(ctx: &Ctx, body: Option<Node>) -> Option<String> {
    let first = named_children(body?).into_iter().next()?;
    if first.kind() != "expression_statement" {
        return None;
    }
    let s = named_children(first).into_iter().next()?;
    (s.kind() == "string").then(|| unquote(ctx.text(s))).filter(|d| !d.is_empty())
}

fn is_branch(node: Node) -> bool {
    matches!(
        node.kind(),
        "if_statement"
            | "elif_clause"
            | "for_statement"
            | "while_statement"
            | "except_clause"
            | "boolean_operator"
            | "conditional_expression"
            | "for_in_clause"
            | "if_clause"
            | "case_clause"
    )
}

fn is_fn(kind: &str) -> bool {
    matches!(kind, "function_definition" | "class_definition" | "lambda")
}

/// Dotted path of an identifier/attribute chain, `None` for other expressions.
fn dotted(ctx: &Ctx, node: Node) -> Option<Vec<String>> {
    match node.kind() {
        "identifier" => Some(vec![ctx.text(node).to_string()]),
        "attribute" => {
            let mut p = dotted(ctx, node.child_by_field_name("object")?)?;
            p.push(ctx.text(node.child_by_field_name("attribute")?).to_string());
            Some(p)
        }
        "dotted_name" => Some(ctx.text(node).split('.').map(|s| s.trim().to_string()).collect()),
        "subscript" => dotted(ctx, node.child_by_field_name("value")?),
        "string" => {
            // Forward references: `"Repository"`.
            let t = unquote(ctx.text(node));
            (!t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.'))
                .then(|| t.split('.').map(str::to_string).collect())
        }
        "type" => dotted(ctx, named_children(node).into_iter().next()?),
        _ => None,
    }
}

/// Replaces a leading `self`/`cls` with the canonical `self`.
fn norm_self(ctx: &Ctx, mut p: Vec<String>) -> Vec<String> {
    if let Some(first) = p.first_mut()
        && ctx.is_self(first)
    {
        *first = "self".into();
    }
    p
}

fn function(ctx: &mut Ctx, node: Node, decorators: &[Node]) {
    let Some(name) = ctx.field_text(node, "name") else { return };
    let in_class = ctx.entities[ctx.scope().entity].kind.is_type() && ctx.scope().self_names.is_empty();
    let kind = if in_class { EntityKind::Method } else { EntityKind::Function };
    let body = node.child_by_field_name("body");
    let doc = docstring(ctx, body);
    let sig = ctx.signature(node, body);
    let cx = complexity(body, is_branch, is_fn);
    let idx = ctx.add_entity(node, name, kind, sig, doc, cx);
    for d in decorators {
        route_decorator(ctx, *d, idx);
    }
    let params = node.child_by_field_name("parameters").map(named_children).unwrap_or_default();
    let mut self_names = Vec::new();
    if in_class && let Some(first) = params.first() {
        let t = ctx.text(*first);
        if matches!(first.kind(), "identifier") {
            self_names.push(t.to_string());
        }
    }
    let qn = ctx.entities[idx].qualified_name.clone();
    ctx.push_scope(Scope { entity: idx, qn, self_names });
    for p in params {
        if matches!(p.kind(), "typed_parameter" | "typed_default_parameter") {
            let var = named_children(p).into_iter().find(|n| n.kind() == "identifier");
            let var = p.child_by_field_name("name").or(var);
            if let Some(t) = p.child_by_field_name("type") {
                add_type_refs(ctx, idx, RefKind::Uses, t);
            }
            if let (Some(v), Some(t)) = (var, p.child_by_field_name("type"))
                && let Some(tp) = dotted(ctx, t)
            {
                let v = ctx.text(v).to_string();
                ctx.add_hint(&v, tp, p);
            }
        }
        if let Some(d) = p.child_by_field_name("value") {
            expr(ctx, d);
        }
    }
    if let Some(ret) = node.child_by_field_name("return_type") {
        add_type_refs(ctx, idx, RefKind::Returns, ret);
    }
    if let Some(b) = body {
        walk(ctx, b);
    }
    ctx.pop_scope();
}

/// `@app.get("/x")`, `@router.post(...)`, `@app.route("/x", methods=["POST"])`.
fn route_decorator(ctx: &mut Ctx, dec: Node, handler: usize) {
    let Some(call) = named_children(dec).into_iter().next().filter(|n| n.kind() == "call") else { return };
    let Some(f) = call.child_by_field_name("function").filter(|f| f.kind() == "attribute") else { return };
    let Some(attr) = ctx.field_text(f, "attribute") else { return };
    let args = call.child_by_field_name("arguments").map(named_children).unwrap_or_default();
    let Some(path) = args.first().and_then(|a| string_value(ctx, *a)) else { return };
    let methods: Vec<String> = if attr == "route" || attr == "api_route" {
        let listed = args
            .iter()
            .find(|a| a.kind() == "keyword_argument" && ctx.field_text(**a, "name") == Some("methods"));
        let mut ms: Vec<String> = listed
            .and_then(|a| a.child_by_field_name("value"))
            .map(|v| named_children(v).into_iter().filter_map(|s| string_value(ctx, s)).collect())
            .unwrap_or_default();
        if ms.is_empty() {
            ms.push("GET".into());
        }
        ms.into_iter().map(|m| m.to_ascii_uppercase()).collect()
    } else {
        match http_method(attr) {
            Some(m) => vec![m.to_string()],
            None => return,
        }
    };
    for m in methods {
        let sig = ctx.signature(dec, None);
        let ep = ctx.add_module_entity(dec, &format!("{m} {path}"), EntityKind::ApiEndpoint, sig);
        ctx.local_edges.push((ep, handler, RelationKind::Handles));
    }
}

fn class(ctx: &mut Ctx, node: Node) {
    let Some(name) = ctx.field_text(node, "name") else { return };
    let body = node.child_by_field_name("body");
    let bases: Vec<Vec<String>> = node
        .child_by_field_name("superclasses")
        .map(named_children)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|b| dotted(ctx, b))
        .collect();
    let is_model = bases.iter().any(|b| b.last().is_some_and(|l| MODEL_BASES.contains(&l.as_str())));
    let kind = if is_model { EntityKind::DatabaseModel } else { EntityKind::Class };
    let doc = docstring(ctx, body);
    let sig = ctx.signature(node, body);
    let idx = ctx.add_entity(node, name, kind, sig, doc, 1);
    for mut b in bases {
        if let Some(last) = b.pop() {
            ctx.add_ref_from(idx, RefKind::Inherits, &last, b, None, node);
        }
    }
    ctx.push_entity_scope(idx, Vec::new());
    if let Some(b) = body {
        walk(ctx, b);
    }
    ctx.pop_scope();
}

fn import(ctx: &mut Ctx, node: Node) {
    for c in named_children(node) {
        let (path_node, alias) = match c.kind() {
            "aliased_import" => (c.child_by_field_name("name"), ctx.field_text(c, "alias")),
            _ => (Some(c), None),
        };
        let Some(mut path) = path_node.and_then(|p| dotted(ctx, p)) else { continue };
        // `import a.b` binds `a`; `import a.b as c` binds `c` to `a.b`.
        if alias.is_none() {
            path.truncate(1);
        }
        let alias = alias.map(str::to_string).or_else(|| path.first().cloned());
        if let Some(last) = path.pop() {
            ctx.add_ref(RefKind::Imports, &last, path, alias, node);
        }
    }
}

fn import_from(ctx: &mut Ctx, node: Node) {
    let Some(module) = node.child_by_field_name("module_name") else { return };
    let base = if module.kind() == "relative_import" {
        let text = ctx.text(module);
        let dots = text.chars().take_while(|&c| c == '.').count();
        let mut pkg: Vec<String> = ctx.module_qn.split('.').map(str::to_string).collect();
        // A module's package is its parent; each extra dot goes one more level up.
        for _ in 0..dots {
            pkg.pop();
        }
        let rest = &text[dots..];
        pkg.extend(rest.split('.').filter(|s| !s.is_empty()).map(str::to_string));
        pkg
    } else {
        dotted(ctx, module).unwrap_or_default()
    };
    let mut any = false;
    for c in named_children(node) {
        if c == module {
            continue;
        }
        let (name, alias) = match c.kind() {
            "aliased_import" => {
                (c.child_by_field_name("name").map(|n| ctx.text(n)), ctx.field_text(c, "alias"))
            }
            "dotted_name" | "identifier" => (Some(ctx.text(c)), None),
            "wildcard_import" => (Some("*"), Some("*")),
            _ => (None, None),
        };
        let Some(name) = name else { continue };
        any = true;
        if name == "*" {
            if let Some((last, init)) = base.split_last() {
                ctx.add_ref(RefKind::Imports, last, init.to_vec(), Some("*".into()), node);
            }
            continue;
        }
        let alias = alias.unwrap_or(name).to_string();
        ctx.add_ref(RefKind::Imports, name, base.clone(), Some(alias), node);
    }
    if !any && let Some((last, init)) = base.split_last() {
        ctx.add_ref(RefKind::Imports, last, init.to_vec(), None, node);
    }
}

fn assignment(ctx: &mut Ctx, node: Node) {
    let left = node.child_by_field_name("left");
    let right = node.child_by_field_name("right");
    let at_module = ctx.scope().entity == 0 && ctx.scopes.len() == 1;
    // `x: T = …` in a class (a field) or a function (a local); not at module level.
    if let Some(t) = node.child_by_field_name("type").filter(|_| ctx.scope().entity != 0) {
        let source = ctx.scope().entity;
        add_type_refs(ctx, source, RefKind::Uses, t);
    }
    if let Some(l) = left {
        let target = dotted(ctx, l).map(|p| norm_self(ctx, p));
        if at_module && l.kind() == "identifier" {
            let name = ctx.text(l);
            let kind = if name.chars().all(|c| c.is_uppercase() || c == '_' || c.is_ascii_digit()) {
                EntityKind::Constant
            } else {
                EntityKind::Variable
            };
            let sig = ctx.signature(node, None);
            ctx.add_entity(node, name, kind, sig, None, 1);
        }
        let ty = node.child_by_field_name("type").and_then(|t| dotted(ctx, t)).or_else(|| {
            let r = right?;
            match r.kind() {
                "call" => {
                    let f = dotted(ctx, r.child_by_field_name("function")?)?;
                    f.last()?.chars().next()?.is_uppercase().then_some(f)
                }
                // Builtin values: their methods are never the repository's.
                "dictionary" | "dictionary_comprehension" => Some(vec!["dict".into()]),
                "list" | "list_comprehension" => Some(vec!["list".into()]),
                "set" | "set_comprehension" => Some(vec!["set".into()]),
                "string" | "concatenated_string" => Some(vec!["str".into()]),
                "integer" | "float" => Some(vec!["int".into()]),
                // `self.repo = repo` where `repo` is a typed parameter.
                "identifier" => {
                    let var = ctx.text(r);
                    let scope = ctx.scope().entity;
                    ctx.refs
                        .iter()
                        .rev()
                        .find(|h| h.kind == RefKind::TypeHint && h.source == scope && h.name == var)
                        .map(|h| h.path.clone())
                }
                _ => None,
            }
        });
        if let (Some(target), Some(ty)) = (target, ty) {
            let key = target.join(".");
            if target.first().map(String::as_str) == Some("self") && target.len() == 2 {
                // `self.x = T()` types the attribute for the whole class.
                let class = ctx.scopes.iter().rev().nth(1).map(|s| s.entity);
                if let Some(c) = class.filter(|&c| ctx.entities[c].kind.is_type()) {
                    let (name, path) = (ty.last().cloned().unwrap_or_default(), ty[..ty.len() - 1].to_vec());
                    let mut full = path;
                    full.push(name);
                    ctx.add_ref_from(c, RefKind::TypeHint, &key, full, None, node);
                }
            } else {
                ctx.add_hint(&key, ty, node);
            }
        }
    }
    if let Some(l) = left.filter(|l| l.kind() != "identifier") {
        expr(ctx, l);
    }
    if let Some(r) = right {
        expr(ctx, r);
    }
}

fn call(ctx: &mut Ctx, node: Node) {
    let Some(f) = node.child_by_field_name("function") else { return };
    match f.kind() {
        "identifier" => ctx.add_call(ctx.text(f), Vec::new(), node),
        "attribute" => {
            let Some(name) = ctx.field_text(f, "attribute") else { return };
            let object = f.child_by_field_name("object");
            let recv = match object.and_then(|o| dotted(ctx, o)) {
                Some(p) => norm_self(ctx, p),
                None => {
                    // Another call's result: remember that call's name.
                    let producer = object
                        .filter(|o| o.kind() == "call")
                        .and_then(|o| o.child_by_field_name("function"))
                        .map(|f| match f.kind() {
                            "attribute" => ctx.field_text(f, "attribute").unwrap_or(""),
                            _ => ctx.text(f),
                        });
                    match producer {
                        Some(p) => vec!["?".into(), p.to_string()],
                        None => vec!["?".into()],
                    }
                }
            };
            let recv =
                if recv.first().map(String::as_str) == Some("super") { vec!["super".into()] } else { recv };
            ctx.add_call(name, recv, node);
        }
        _ => {}
    }
}

fn expr(ctx: &mut Ctx, node: Node) {
    if ctx.depth > MAX_DEPTH {
        return;
    }
    ctx.depth += 1;
    match node.kind() {
        "function_definition"
        | "class_definition"
        | "decorated_definition"
        | "import_statement"
        | "import_from_statement" => statement(ctx, node, &[]),
        "assignment" => assignment(ctx, node),
        "call" => {
            call(ctx, node);
            for c in named_children(node) {
                expr(ctx, c);
            }
        }
        _ => {
            for c in named_children(node) {
                if c.kind() == "expression_statement" || c.kind().ends_with("_statement") {
                    statement(ctx, c, &[]);
                } else {
                    expr(ctx, c);
                }
            }
        }
    }
    ctx.depth -= 1;
}
