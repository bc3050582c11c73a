#!/usr/bin/env python3
"""Counts `switch` statements over an `Op` value in Sources: the subject is an Op (`self` inside
`extension Op`, `op`, `n.op`, `node.op`, `ops[i]`, `ins.op`) and the first case label names Op cases.
Also counts the ones that name every elementwise operator: the places a new elementwise operator
must be added to (the compiler lists them, since such a switch has no `default`).

    python3 scripts/op-census.py [REPO_ROOT]"""
import re, sys, pathlib
root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
op_src = (root / "Sources/LossDSL/Operators/Op.swift").read_text()
enum = op_src[op_src.index("public enum Op"):]
enum = enum[:enum.index("\n}")]
cases = set()
for line in enum.splitlines():
    line = line.split("//")[0].strip()
    if line.startswith("case "):
        cases |= {c.strip() for c in line[5:].split(",")}
hits = []
for f in sorted((root / "Sources").rglob("*.swift")):
    lines = f.read_text().splitlines()
    top = ""
    for i, l in enumerate(lines):
        if re.match(r"^(public |package |private |fileprivate )?(final )?(extension|enum|struct|class|protocol) ", l): top = l
        m = re.match(r"\s*(?:return |let \w+ = |[a-z]\w* = )?switch (.+?) \{", l)
        if not m: continue
        subj = m.group(1)
        if subj == "self":
            if not re.match(r"^(public )?extension Op\b|^public enum Op\b", top): continue
        elif not re.fullmatch(r"op|n\.op|node\.op|ops\[\w+\]|ins\.op|self\.op", subj): continue
        for j in range(i + 1, min(i + 40, len(lines))):
            c = re.match(r"\s*case\s+(.*?):", lines[j])
            if c:
                labels = re.findall(r"\.(\w+)", c.group(1))
                if labels and all(x in cases for x in labels):
                    # every Op case named before the switch's closing brace (same indentation)
                    indent = len(l) - len(l.lstrip())
                    body = []
                    for k in range(i + 1, len(lines)):
                        if lines[k].strip() == "}" and len(lines[k]) - len(lines[k].lstrip()) == indent: break
                        body.append(lines[k].split("//")[0])
                    named = set()
                    for c2 in re.finditer(r"^\s*case\s+([^:]*):", "\n".join(body), re.M):
                        named |= set(re.findall(r"\.(\w+)", c2.group(1))) & cases
                    mark = "  [names every operator]" if len(named) >= len(cases) - 1 else ""
                    hits.append(f"{f.relative_to(root)}:{i+1}: {l.strip()}{mark}")
                break
print("\n".join(hits)); print(len(hits), "switches over Op,", sum("every operator" in h for h in hits), "of them name every operator")
