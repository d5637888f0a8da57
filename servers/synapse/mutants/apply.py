"""Applies one unified diff to the installed Synapse source (the image has no `patch`).

    python3 apply.py PATCH ROOT

Every hunk must match the file exactly (at its stated line or, if the file moved, at exactly
one other place); otherwise nothing is written and the exit status is 1, so a Synapse upgrade
that breaks a variant stops the container with a message instead of running unmodified code.
"""

import glob
import os
import sys


def parse(text):
    """Returns [(path, [(old_start, old_lines, new_lines)])] from a unified diff."""
    files, hunks, path = [], None, None
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- "):
            path = lines[i + 1][4:].split("\t")[0].strip()
            path = path.split("/", 1)[1]  # strip b/ (patch -p1)
            hunks = []
            files.append((path, hunks))
            i += 2
            continue
        if line.startswith("@@ "):
            old_start = int(line.split()[1][1:].split(",")[0])
            old, new = [], []
            i += 1
            while i < len(lines) and lines[i][:1] in (" ", "-", "+", "\\"):
                body = lines[i]
                if body.startswith("---") and i + 1 < len(lines) and lines[i + 1].startswith("+++"):
                    break
                if body[:1] in (" ", "-"):
                    old.append(body[1:])
                if body[:1] in (" ", "+"):
                    new.append(body[1:])
                i += 1
            hunks.append((old_start, old, new))
            continue
        i += 1
    return files


def find(src, old, hint):
    """Index where the block old starts in src: at hint if it matches, else its only place."""
    n = len(old)
    if src[hint:hint + n] == old:
        return hint
    places = [k for k in range(len(src) - n + 1) if src[k:k + n] == old]
    return places[0] if len(places) == 1 else None


def main():
    patch, root = sys.argv[1], sys.argv[2]
    files = parse(open(patch).read())
    if not files:
        sys.exit("mutant: %s holds no unified diff" % patch)
    results = {}
    for path, hunks in files:
        full = os.path.join(root, path)
        if not os.path.isfile(full):
            sys.exit("mutant: %s: %s does not exist in this image" % (patch, full))
        src = results.get(full) or open(full).readlines()
        shift = 0
        for n, (start, old, new) in enumerate(hunks, 1):
            at = find(src, old, start - 1 + shift)
            if at is None:
                sys.exit("mutant: %s: hunk %d does not apply to %s (the installed Synapse differs "
                         "from the one the variant was written for); first line expected: %r"
                         % (patch, n, full, old[0] if old else ""))
            src[at:at + len(old)] = new
            shift += len(new) - len(old)
        results[full] = src
    for full, src in results.items():
        tmp = full + ".mutant-tmp"
        with open(tmp, "w") as f:
            f.writelines(src)
        os.replace(tmp, full)
        # Stale bytecode would be ignored (mtime differs) but is removed to leave no doubt.
        base = os.path.splitext(os.path.basename(full))[0]
        for pyc in glob.glob(os.path.join(os.path.dirname(full), "__pycache__", base + ".*.pyc")):
            os.remove(pyc)
        print("mutant: patched %s" % full, file=sys.stderr)


if __name__ == "__main__":
    main()
