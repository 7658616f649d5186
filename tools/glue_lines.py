#!/usr/bin/env python3
"""Counts lines of code in Rust files: no blank lines, no comments (`//`, `///`, `//!`,
`/* */`), no `#[cfg(test)]` or `#[cfg(doctest)]` items. Used to report each adapter's
protocol glue.

Usage: python3 tools/glue_lines.py FILE...   (prints `lines file` per file and a total)
"""
import re
import sys


def code_lines(text):
    lines = text.splitlines()
    count = 0
    in_block = False
    skip_depth = None  # brace depth at which a #[cfg(test)] item ends
    depth = 0
    pending_cfg_test = False
    for raw in lines:
        line = raw.strip()
        if in_block:
            if "*/" in line:
                in_block = False
                line = line.split("*/", 1)[1].strip()
            else:
                continue
        if line.startswith("/*"):
            if "*/" not in line:
                in_block = True
            continue
        # Drop trailing comments (ignoring `//` inside string literals is good enough
        # for counting: a line with code stays a line with code).
        code = re.sub(r'"(\\.|[^"\\])*"', '""', line)
        code = code.split("//", 1)[0].strip()
        if line.startswith(("#[cfg(test)]", "#[cfg(doctest)]")):
            pending_cfg_test = True
            continue
        opens, closes = code.count("{"), code.count("}")
        if pending_cfg_test and skip_depth is None and code:
            skip_depth = depth
            pending_cfg_test = False
        depth += opens - closes
        if skip_depth is not None:
            if depth <= skip_depth and (opens or closes or code.endswith(";")):
                skip_depth = None
            continue
        if code:
            count += 1
    return count


total = 0
for path in sys.argv[1:]:
    n = code_lines(open(path, encoding="utf-8").read())
    total += n
    print(f"{n:6} {path}")
print(f"{total:6} total")
