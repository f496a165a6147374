#!/usr/bin/env python3
"""Lists the pairs of files of a crate's src/ that refer to each other (through crate::,
super::, self:: or child-module paths, in `use` lines and inline; test modules left out),
then any longer import cycle. Usage: python3 sim/scripts/mutual_imports.py sim/src"""
import re, sys, pathlib

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "sim/src")
mods = {}  # module path tuple -> file
def modpath(f):
    rel = f.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts = parts[:-1]
    return tuple(parts)
files = sorted(root.rglob("*.rs"))
for f in files:
    if f.name == "main.rs":
        continue
    mods.setdefault(modpath(f), f)
# #[path = "x.rs"] pub mod name;
for f in files:
    text = f.read_text()
    for m in re.finditer(r'#\[path\s*=\s*"([^"]+)"\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)', text):
        target = (f.parent / m.group(1)).resolve()
        for k, v in list(mods.items()):
            if v.resolve() == target:
                del mods[k]
        mods[modpath(f) + (m.group(2),)] = target.relative_to(pathlib.Path.cwd()) if target.is_relative_to(pathlib.Path.cwd()) else target
file_mod = {str(v): k for k, v in mods.items()}

def resolve(segs):
    for n in range(len(segs), -1, -1):
        if tuple(segs[:n]) in mods:
            return str(mods[tuple(segs[:n])])
    return None

def strip_tests(text):
    # drop `#[cfg(test)] mod tests { ... }` (to end of file, as they sit last)
    i = text.find("#[cfg(test)]")
    return text if i < 0 else text[:i]

def expand(path):
    # "a::{b, c::{d}}" -> ["a::b", "a::c::d"]
    m = re.match(r'^(.*?)\{(.*)\}$', path, re.S)
    if not m:
        return [path]
    head, body = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(cur); cur = ""; continue
        depth += ch == "{"; depth -= ch == "}"
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        p = p.strip()
        if p:
            out += expand(head + p)
    return out

edges = set()
for f in files:
    if f.name == "main.rs":
        continue
    me = str(f) if str(f) in file_mod else None
    me = me or next(str(v) for v in mods.values() if pathlib.Path(v).resolve() == f.resolve())
    here = file_mod[me]
    text = strip_tests(f.read_text())
    text = re.sub(r'//[^\n]*', '', text)
    children = set(re.findall(r'(?:pub(?:\([^)]*\))?\s+)?\bmod\s+(\w+)\s*;', text))
    paths = []
    for m in re.finditer(r'\buse\s+([^;]+);', text, re.S):
        paths += expand(re.sub(r'\s+', '', m.group(1)))
    paths += re.findall(r'\b((?:crate|super|self)(?:::\w+)+)', text)
    paths += [p for p in re.findall(r'(?<![:\w])(\w+(?:::\w+)+)', text) if p.split("::")[0] in children]
    for p in paths:
        p = re.sub(r'\s+as\s+\w+$', '', p)
        segs = [s for s in p.split("::") if s]
        if not segs:
            continue
        if segs[0] == "crate":
            abs_ = segs[1:]
        elif segs[0] in ("super", "self"):
            base = list(here)
            while segs and segs[0] in ("super", "self"):
                if segs[0] == "super":
                    base = base[:-1]
                segs = segs[1:]
            abs_ = base + segs
        elif segs[0] in children:
            abs_ = list(here) + segs
        else:
            continue
        t = resolve(abs_)
        if t and pathlib.Path(t).resolve() != f.resolve():
            edges.add((me, t))
pairs = sorted({tuple(sorted((a, b))) for a, b in edges if (b, a) in edges})
for a, b in pairs:
    print(f"{a} <-> {b}")
print(f"{len(pairs)} mutual pair(s)", file=sys.stderr)

# Longer cycles: strongly connected components of more than one file.
graph = {}
for a, b in edges:
    graph.setdefault(a, set()).add(b)
index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in graph.get(v, ()):
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(sorted(comp))
for v in list(graph):
    if v not in index: strong(v)
for c in sccs:
    print("cycle among: " + ", ".join(c))
print(f"{len(sccs)} import cycle(s)", file=sys.stderr)
sys.exit(1 if pairs or sccs else 0)
