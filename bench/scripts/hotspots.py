#!/usr/bin/env python3
"""Summarises a thread-time profile from `dotnet-trace collect --profile dotnet-sampled-thread-time`,
converted with `dotnet-trace convert --format Speedscope`. Only time with managed code running
(the CPU_TIME leaf) counts, so threads waiting on I/O or locks do not drown the picture.

Prints the frames with the largest inclusive share of that time, then the top-of-stack frames."""
import collections, json, sys

with open(sys.argv[1]) as f:
    doc = json.load(f)
frames = [fr["name"] for fr in doc["shared"]["frames"]]
inclusive, exclusive = collections.Counter(), collections.Counter()
total = 0.0
for profile in doc["profiles"]:
    if profile["type"] != "evented":
        continue
    stack, last = [], profile["startValue"]
    for ev in profile["events"]:
        elapsed = ev["at"] - last
        last = ev["at"]
        if stack and frames[stack[-1]] == "CPU_TIME" and elapsed > 0:
            total += elapsed
            managed = [frames[i] for i in stack[:-1]]
            if managed:
                exclusive[managed[-1]] += elapsed
            for name in set(managed):
                inclusive[name] += elapsed
        if ev["type"] == "O":
            stack.append(ev["frame"])
        else:
            stack.pop()


def short(name):
    return name.split("!", 1)[-1][:150]


print(f"managed running time sampled: {total:.0f} ms")
print("inclusive %  frame")
for name, weight in inclusive.most_common(300):
    if any(k in name for k in ("SliceApi", "Microsoft.", "Npgsql", "Json", "FluentValidation", "Swashbuckle")) and "MoveNext" not in name:
        print(f"{100 * weight / total:9.1f}  {short(name)}")
print("exclusive %  frame")
for name, weight in exclusive.most_common(30):
    print(f"{100 * weight / total:9.1f}  {short(name)}")
