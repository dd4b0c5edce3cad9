#!/usr/bin/python3
"""Every source file with translatable strings is listed in po/POTFILES.in,
and every listed file exists."""
import os
import re
import sys

root = sys.argv[1]
listed = set()
for line in open(os.path.join(root, "po", "POTFILES.in")):
    line = line.strip()
    if line and not line.startswith("#"):
        listed.add(line)
missing_files = [f for f in sorted(listed) if not os.path.exists(os.path.join(root, f))]
needed = set()
for folder in ("src", "ui", "data"):
    for dirpath, _, names in os.walk(os.path.join(root, folder)):
        for n in names:
            path = os.path.join(dirpath, n)
            rel = os.path.relpath(path, root)
            if n.endswith((".c", ".h")):
                if re.search(r'\b(N?_|g_dngettext|C_)\s*\(\s*"', open(path, errors="replace").read()):
                    needed.add(rel)
            elif n.endswith(".ui"):
                if 'translatable="yes"' in open(path).read():
                    needed.add(rel)
            elif n.endswith((".desktop.in", ".metainfo.xml.in", ".gschema.xml")):
                needed.add(rel)
unlisted = sorted(needed - listed)
if missing_files or unlisted:
    for f in missing_files:
        print(f"po/POTFILES.in lists a missing file: {f}")
    for f in unlisted:
        print(f"not in po/POTFILES.in: {f}")
    sys.exit(1)
print(f"POTFILES.in lists all {len(needed)} files with translatable strings")
