#!/usr/bin/env python3
"""Aggregates bench/run.sh's wrk runs and the BenchmarkDotNet export into one table and one JSON file.

Each wrk run wrote {requests, rps, p50_us, p99_us, errors_status, errors_socket} (scenario.lua's done()).
Rounds are averaged per side; ratios are SliceApi / floor from the same run.
"""
import argparse, glob, json, os, platform, statistics, subprocess

TARGETS = {  # scenario: (min rps ratio, max p99 ratio or None); issue 20: p99 <= 2 x the floor on every route
    "get_by_id": (0.85, 2.0),
    "list_first_page": (0.80, 2.0),
    "list_deep_page": (0.80, 2.0),
    "list_user_page": (0.80, 2.0),
    "create": (0.80, 2.0),
    "changes_page": (0.80, 2.0),
}


def load_runs(folder, clk_tck):
    runs = {}
    for path in glob.glob(os.path.join(folder, "*.*.*.json")):
        name, side, _round, _ = os.path.basename(path).split(".")
        with open(path) as f:
            run = json.load(f)
        cpu_file = path[:-len(".json")] + ".cpu"
        if os.path.exists(cpu_file):
            with open(cpu_file) as f:
                run["cpu_us"] = int(f.read().strip()) * 1_000_000 / clk_tck
        runs.setdefault(name, {}).setdefault(side, []).append(run)
    return runs


def side_summary(samples):
    return {
        "rps": round(statistics.mean(s["rps"] for s in samples), 1),
        "p50_ms": round(statistics.mean(s["p50_us"] for s in samples) / 1000, 3),
        "p99_ms": round(statistics.mean(s["p99_us"] for s in samples) / 1000, 3),
        "requests": sum(s["requests"] for s in samples),
        "non_2xx": sum(s["errors_status"] for s in samples),
        "socket_errors": sum(s["errors_socket"] for s in samples),
        # CPU time the server process used per request (user + system), in microseconds
        "cpu_us_per_request": round(sum(s.get("cpu_us", 0) for s in samples) / max(1, sum(s["requests"] for s in samples)), 1),
    }


def load_pipeline(folder):
    """BenchmarkDotNet's JSON export: one file per benchmark class; ratios are to each class's baseline."""
    rows = {}
    for path in sorted(glob.glob(os.path.join(folder or "", "results", "*-report-full*.json"))):
        with open(path) as f:
            report = json.load(f)
        benchmarks = [b for b in report["Benchmarks"] if b.get("Statistics")]
        baseline = next((b for b in benchmarks if b["Method"] in ("BareMinimalApi", "RawNpgsql", "WritePageReflection")), None)
        for b in benchmarks:
            mean = b["Statistics"]["Mean"] / 1000
            rows[b["Method"]] = {
                "class": b["Type"], "mean_us": round(mean, 2), "median_us": round(b["Statistics"]["Median"] / 1000, 2),
                # half the 99.9 % confidence interval of the mean, and the spread of the iterations
                "ci_us": round(b["Statistics"].get("ConfidenceInterval", {}).get("Margin", 0) / 1000, 2),
                "stddev_us": round(b["Statistics"].get("StandardDeviation", 0) / 1000, 2),
                "allocated_bytes": b.get("Memory", {}).get("BytesAllocatedPerOperation"),
                "ratio": round(mean / (baseline["Statistics"]["Mean"] / 1000), 2) if baseline else None,
            }
    return rows or None


def verdict(ok):
    return "met" if ok else "MISSED"


def main():
    p = argparse.ArgumentParser()
    for name in ("runs", "pipeline", "json"):
        p.add_argument("--" + name)
    for name in ("tasks", "users", "duration", "rounds", "connections", "threads", "ready-ms", "peak-rss-kb", "clk-tck"):
        p.add_argument("--" + name, type=int)
    a = p.parse_args()

    scenarios = {}
    for name, sides in sorted(load_runs(a.runs, a.clk_tck).items()):
        row = {side: side_summary(samples) for side, samples in sides.items()}
        if "floor" in row:
            row["rps_ratio"] = round(row["sliceapi"]["rps"] / row["floor"]["rps"], 3)
            row["p99_ratio"] = round(row["sliceapi"]["p99_ms"] / row["floor"]["p99_ms"], 3)
        if "peer" in row:
            row["peer_ratio"] = round(row["sliceapi"]["rps"] / max(0.1, row["peer"]["rps"]), 2)
        scenarios[name] = row

    checks = []
    for name, (min_ratio, max_p99) in TARGETS.items():
        if name in scenarios:
            r = scenarios[name]
            checks.append((f"{name}: requests/s >= {min_ratio} x floor", f"{r['rps_ratio']:.2f} x", r["rps_ratio"] >= min_ratio))
            if max_p99:
                checks.append((f"{name}: p99 <= {max_p99} x floor", f"{r['p99_ratio']:.2f} x", r["p99_ratio"] <= max_p99))
    for name, r in scenarios.items():
        if "peer_ratio" in r:
            checks.append((f"{name}: requests/s >= 8 x the FastAPI peer (aim)", f"{r['peer_ratio']:.2f} x", r["peer_ratio"] >= 8))
    if "list_deep_page" in scenarios and "list_first_page" in scenarios:
        depth = scenarios["list_deep_page"]["sliceapi"]["p50_ms"] / scenarios["list_first_page"]["sliceapi"]["p50_ms"]
        checks.append((f"deep page p50 <= 1.5 x first page p50 ({a.tasks:,} tasks; target set at 1,000,000)", f"{depth:.2f} x", depth <= 1.5))
    rss_mb = a.peak_rss_kb / 1024
    checks.append(("peak RSS of SliceApi <= 200 MB", f"{rss_mb:.0f} MB", rss_mb <= 200))
    checks.append(("start-up to /health/ready <= 1.5 s (migrated)", f"{a.ready_ms} ms", a.ready_ms <= 1500))
    pipeline = load_pipeline(a.pipeline)
    if pipeline and "SliceApiPipeline" in pipeline:
        ratio = pipeline["SliceApiPipeline"]["ratio"]
        checks.append(("in-process pipeline <= 1.10 x bare Minimal API (mean)", f"{ratio:.2f} x", ratio <= 1.10))

    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
    machine = f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}"
    print()
    print(f"SliceApi benchmark: {a.tasks:,} tasks over {a.users:,} users; wrk -t{a.threads} -c{a.connections}, "
          f"{a.rounds} round(s) of {a.duration} s per side after warm-up; {machine}")
    print()
    print("| scenario | floor req/s | SliceApi req/s | ratio | floor p50 ms | SliceApi p50 ms | floor p99 ms | SliceApi p99 ms | p99 ratio | floor CPU us/req | SliceApi CPU us/req |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in scenarios.items():
        s, f = r["sliceapi"], r.get("floor")
        if f:
            print(f"| {name} | {f['rps']:,.0f} | {s['rps']:,.0f} | {r['rps_ratio']:.2f} | {f['p50_ms']:.2f} | {s['p50_ms']:.2f} | {f['p99_ms']:.2f} | {s['p99_ms']:.2f} | {r['p99_ratio']:.2f} | {f['cpu_us_per_request']:.0f} | {s['cpu_us_per_request']:.0f} |")
        else:
            print(f"| {name} | - | {s['rps']:,.0f} | - | - | {s['p50_ms']:.2f} | - | {s['p99_ms']:.2f} | - | - | {s['cpu_us_per_request']:.0f} |")
    peers = {n: r for n, r in scenarios.items() if "peer" in r}
    if peers:
        print()
        print("The seeds' own framework: bench/peers/fastapi (FastAPI + asyncpg, uvicorn with 2 workers, uvloop and httptools, Debian's packages)")
        print()
        print("| scenario | FastAPI req/s | SliceApi req/s | SliceApi / FastAPI | FastAPI p50 ms | FastAPI p99 ms | FastAPI CPU us/req |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, r in peers.items():
            f, s_ = r["peer"], r["sliceapi"]
            print(f"| {name} | {f['rps']:,.0f} | {s_['rps']:,.0f} | {r['peer_ratio']:.2f} | {f['p50_ms']:.2f} | {f['p99_ms']:.2f} | {f['cpu_us_per_request']:.0f} |")
    bad = [(n, side, v) for n, r in scenarios.items() for side in ("floor", "peer", "sliceapi") if side in r
           for v in [r[side]] if v["non_2xx"] or v["socket_errors"]]
    for n, side, v in bad:
        print(f"WARNING: {n} on {side}: {v['non_2xx']} non-2xx responses, {v['socket_errors']} socket errors")
    if pipeline:
        print()
        print("In process (BenchmarkDotNet): PipelineBenchmarks sends one valid POST /api/v1/tasks through TestServer, no I/O;")
        print("DataSessionBenchmarks reads one task by id on the benchmark database; SerializationBenchmarks writes a list page,")
        print("writes a task and reads a create body under the API's JSON options, by reflection and by a source-generated context.")
        print("Ratios are to each class's baseline.")
        print()
        print("| class | benchmark | mean us | 99.9 % CI +- us | std dev us | median us | ratio | allocated |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for name, row in pipeline.items():
            print(f"| {row['class']} | {name} | {row['mean_us']:.2f} | {row['ci_us']:.2f} | {row['stddev_us']:.2f} | {row['median_us']:.2f} | {row['ratio']:.2f} | {row['allocated_bytes'] or 0:,} B |")
    print()
    print("| target | measured | |")
    print("|---|---:|---|")
    for label, measured, ok in checks:
        print(f"| {label} | {measured} | {verdict(ok)} |")

    with open(a.json, "w") as f:
        json.dump({"settings": vars(a), "machine": machine, "scenarios": scenarios, "pipeline": pipeline,
                   "peak_rss_mb": round(rss_mb, 1), "ready_ms": a.ready_ms,
                   "targets": [{"target": l, "measured": m, "met": ok} for l, m, ok in checks]}, f, indent=2)


if __name__ == "__main__":
    main()
