"""An oracle for the watercooler tools' reading of a thread file.

Written for this project from the reading rules in README.md ("How the watercooler
tools read a file"), in Python, so that Python's own `splitlines`, `strip` and `re`
(`\\s`, `\\d`, IGNORECASE) decide every Unicode question. `tests/tools_oracle.rs` feeds
it thousands of adversarial files and checks that `src/thread/tools_reader.rs` reads
each one the same way.

Input (stdin): a JSON list of documents. Output (stdout): a JSON list of readings, one
per document: {"entries": [...], "duplicates": [...], "open_fence": line or null},
where each entry is {"line", "agent", "timestamp", "role", "type", "title",
"entry_id"} and "line" is the 0-based index of its Entry line.
"""

import json
import re
import sys

ENTRY_LINE = re.compile(
    r"^Entry:\s*(?P<agent>.+?)\s+(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\s*$"
)
ENTRY_ID = re.compile(r"<!--\s*Entry-ID:\s*([A-Za-z0-9_-]+)\s*-->", re.IGNORECASE)
FENCE = re.compile(r"^(`{3,}|~{3,})")


def read(doc):
    # Universal newlines, as a file opened in text mode is read.
    text = doc.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.splitlines(keepends=True)

    starts = []
    fence = None  # (char, length, line index)
    for i, line in enumerate(lines):
        stripped = line.strip()
        m = FENCE.match(stripped)
        if m:
            run = m.group(1)
            if fence is None:
                fence = (run[0], len(run), i)
            elif run[0] == fence[0] and len(run) >= fence[1]:
                fence = None
            continue
        if fence is not None:
            continue
        if ENTRY_LINE.match(stripped):
            starts.append(i)

    entries, duplicates, seen = [], [], set()
    for n, first in enumerate(starts):
        found = ENTRY_LINE.match(lines[first].strip())
        last = starts[n + 1] if n + 1 < len(starts) else len(lines)
        entry = {"line": first, "agent": "", "timestamp": "", "role": None,
                 "type": None, "title": None, "entry_id": None}
        for line in lines[first:last]:
            line = line.strip()
            if not line:
                break
            m = ENTRY_LINE.match(line)
            if m:
                entry["agent"] = m.group("agent").strip()
                entry["timestamp"] = m.group("ts").strip()
                continue
            if ":" not in line:
                continue
            key, value = line.split(":", 1)
            key = key.strip().lower()
            if key in ("role", "type", "title"):
                entry[key] = value.strip()
        # The metadata lines win, unless they leave the author or time empty.
        entry["agent"] = entry["agent"] or found.group("agent").strip()
        entry["timestamp"] = entry["timestamp"] or found.group("ts").strip()
        for line in lines[first:last]:
            m = ENTRY_ID.search(line)
            if m:
                entry["entry_id"] = m.group(1).strip() or None
                break
        eid = entry["entry_id"]
        if eid and eid in seen:
            duplicates.append(entry)
            continue
        if eid:
            seen.add(eid)
        entries.append(entry)
    return {
        "entries": entries,
        "duplicates": duplicates,
        "open_fence": None if fence is None else fence[2],
    }


def main():
    docs = json.load(sys.stdin)
    json.dump([read(d) for d in docs], sys.stdout)


if __name__ == "__main__":
    main()
