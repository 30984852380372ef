//! Scope-aware lookups of the resolver: enclosing entities and types, names visible from a
//! scope (nested scopes, the module, the same Go package), typed variables, and members of a
//! type including its bases (at most four levels).

use super::{Resolver, container, family};
use crate::engine::graph::model::EntityKind;
use crate::engine::graph::parse::RefKind;

impl<'a> Resolver<'a> {
    /// The chain of enclosing entities of `src` (itself first) in its file.
    pub(super) fn ancestors(&self, src: usize) -> Vec<usize> {
        let mut out = vec![src];
        let mut cur = src;
        for _ in 0..32 {
            let s = &self.syms[cur];
            let parent_qn = container(&s.qn, &s.name);
            match self.by_qn.get(&(s.file.as_str(), parent_qn)) {
                Some(&p) if p != cur => {
                    out.push(p);
                    cur = p;
                }
                _ => break,
            }
        }
        out
    }

    pub(super) fn enclosing_type(&self, src: Option<usize>) -> Option<usize> {
        self.ancestors(src?).into_iter().find(|&i| self.syms[i].kind.is_type())
    }

    /// A bare name visible from `src`: nested scopes up to the module, then the same package.
    pub(super) fn scoped(&self, src: Option<usize>, file: &str, name: &str, kind: RefKind) -> Option<usize> {
        let ok = Self::wants(kind, true);
        let cands: Vec<usize> = self
            .by_name
            .get(name)?
            .iter()
            .copied()
            .filter(|&i| ok(self.syms[i].kind) && self.syms[i].kind != EntityKind::Method)
            .collect();
        let src = src?;
        let chain = self.ancestors(src);
        for &a in &chain {
            let qn = self.syms[a].qn.as_str();
            if let Some(&c) =
                cands.iter().find(|&&c| self.syms[c].file == file && container(&self.syms[c].qn, name) == qn)
            {
                return Some(c);
            }
        }
        // Same module path in another file (a Go package spans its directory).
        let module = chain.last().map(|&m| self.syms[m].qn.as_str())?;
        let fam = family(file);
        let same: Vec<usize> = cands
            .into_iter()
            .filter(|&c| self.fams[c] == fam && container(&self.syms[c].qn, name) == module)
            .collect();
        (same.len() == 1).then(|| same[0])
    }

    pub(super) fn hint(&self, src: Option<usize>, key: &str) -> Option<&'a [String]> {
        let src = src?;
        for a in self.ancestors(src) {
            if let Some(t) = self.hints.get(&(self.syms[a].id, key)) {
                return Some(t);
            }
        }
        None
    }

    pub(super) fn scoped_type(&self, src: Option<usize>, file: &str, name: &str) -> Option<usize> {
        let cands = self.by_name.get(name)?;
        let chain = src.map(|s| self.ancestors(s)).unwrap_or_default();
        for a in chain {
            let qn = self.syms[a].qn.as_str();
            if let Some(&c) = cands.iter().find(|&&c| {
                self.syms[c].kind.is_type()
                    && self.syms[c].file == file
                    && container(&self.syms[c].qn, name) == qn
            }) {
                return Some(c);
            }
        }
        None
    }

    /// `name` as a member of type `t` (its body, an `impl` elsewhere, or its bases).
    pub(super) fn member(&self, t: usize, name: &str, depth: usize) -> Option<usize> {
        let ts = &self.syms[t];
        let cands = self.by_name.get(name)?;
        if let Some(&m) = cands.iter().find(|&&c| container(&self.syms[c].qn, name) == ts.qn) {
            return Some(m);
        }
        let elsewhere: Vec<usize> = cands
            .iter()
            .copied()
            .filter(|&c| {
                let s = &self.segs[c];
                self.fams[c] == self.fams[t] && s.len() >= 2 && s[s.len() - 2] == ts.name
            })
            .collect();
        if elsewhere.len() == 1 {
            return Some(elsewhere[0]);
        }
        if depth >= 4 {
            return None;
        }
        for b in self.bases.get(&ts.id).into_iter().flatten() {
            let mut p = b.path.clone();
            p.push(b.name.clone());
            if let Some(bt) = self.resolve_type(Some(t), &b.file, &p)
                && bt != t
                && let Some(m) = self.member(bt, name, depth + 1)
            {
                return Some(m);
            }
        }
        None
    }
}
