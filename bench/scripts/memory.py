#!/usr/bin/env python3
"""Prints where a process's resident memory is: its totals (/proc/PID/status) and its mappings grouped by what backs
them (a file, the heap, anonymous memory), largest first, in MiB. Usage: memory.py PID"""
import collections, re, sys

pid = sys.argv[1]
status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
for key in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "Threads"):
    print(f"{key:10} {status[key].strip()}")
groups = collections.Counter()
name = None
for line in open(f"/proc/{pid}/smaps"):
    head = re.match(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
    if head:
        name = head.group(1) or "[anonymous]"
    elif line.startswith("Rss:"):
        groups[name] += int(line.split()[1])
print()
print("  RSS MiB  mapping")
for mapping, kb in groups.most_common(25):
    print(f"{kb / 1024:9.1f}  {mapping}")
