#!/usr/bin/env python3
"""Sampling and reporting for accuracy-side-by-side.sh (stdlib only).

  accuracy_sampler.py sample MANIFEST.json   one run: a sample of every pair each second
  accuracy_sampler.py report OUT             tables, summary.txt/.json and SVGs over all runs

Errors are in seconds against the machine's clock, which is the truth here: the upstream
chronyd -x serves it and neither client ever changes it. Ours is the overlay clock's offset
from the system clock; chrony's is the 'System time' field of `chronyc -c tracking` (its
estimate of true time minus the system clock).

Ours also publishes an error bound (bounded time, docs/bounded-time.md): each second the
sampler reads that segment as any program would and records the bound and whether the true
error at that instant (the overlay's offset from the system clock, from the same segment)
lay outside it. A violation is a bug.
"""
import csv
import json
import math
import os
import socket
import struct
import subprocess
import sys
import time

WITHIN = 100e-6


def read_ours(path):
    """The overlay clock's offset from the observation socket (one JSON document per connection)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(path)
            chunks = []
            total = 0
            while total < (1 << 20):
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        document = json.loads(b"".join(chunks))
        value = document["clock"].get("offset_from_system_seconds")
        return float(value) if value is not None else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


# The bounds segment, version 1 (Sources/CPendulumShim/include/pendulum_bounds.h).
BOUNDS_FORMAT = "=QIIQqqqdqIIq"
BOUNDS_MAGIC = 0x31444E4255444E50


def read_bounds(path):
    """(error, bound) in seconds at this instant from the bounds segment, or None."""
    try:
        with open(path, "rb") as f:
            for _ in range(100):
                first = f.read(struct.calcsize(BOUNDS_FORMAT))
                realtime = time.clock_gettime_ns(time.CLOCK_REALTIME)
                monotonic = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
                f.seek(0)
                second = f.read(struct.calcsize(BOUNDS_FORMAT))
                f.seek(0)
                fields = struct.unpack(BOUNDS_FORMAT, first)
                if first != second or fields[3] % 2 == 1:
                    continue  # the seqlock: an update was being written
                (magic, version, _size, _sequence, as_of_realtime, as_of_monotonic, offset, rate,
                 bound, drift_ppb, status, void_after) = fields
                if magic != BOUNDS_MAGIC or version != 1 or status == 0 or monotonic > void_after:
                    return None
                error = (offset + rate * (realtime - as_of_realtime)) * 1e-9
                grown = (bound + drift_ppb * (monotonic - as_of_monotonic) / 1e9) * 1e-9
                return error, grown
    except (OSError, struct.error):
        return None
    return None


def parse_chrony(output):
    """System time of a synchronised chronyd; None before it has a reference (it reports 0 then)."""
    fields = output.strip().split(",")
    if len(fields) < 14:
        return None
    try:
        stratum = int(fields[2])
        value = float(fields[4])
    except ValueError:
        return None
    if stratum == 0 or fields[-1].strip() == "Not synchronised":
        return None
    return value


def sample(manifest_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    pairs = manifest["pairs"]
    total = manifest["warmup"] + manifest["duration"]
    start = manifest["start_wall"]
    writers = {}
    files = []
    for pair in pairs:
        f = open(pair["csv"], "w", newline="")
        files.append(f)
        w = csv.writer(f)
        w.writerow(["elapsed_s", "ours_error_s", "chrony_error_s", "ours_bound_s", "ours_bound_violated"])
        writers[pair["name"]] = w
    tick = 1
    while tick <= total:
        # Sleep to the tick on the wall clock the start was taken on; nobody steers it.
        delay = start + tick - time.time()
        if delay > 0:
            time.sleep(delay)
        chronycs = [
            subprocess.Popen(["chronyc", "-h", pair["chrony_socket"], "-c", "tracking"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for pair in pairs
        ]
        ours = [read_ours(pair["observe"]) for pair in pairs]
        bounds = [read_bounds(pair["bounds"]) if pair.get("bounds") else None for pair in pairs]
        elapsed = time.time() - start
        for pair, process, our_error, bound in zip(pairs, chronycs, ours, bounds):
            try:
                output, _ = process.communicate(timeout=2)
                chrony_error = parse_chrony(output)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                chrony_error = None
            writers[pair["name"]].writerow([
                f"{elapsed:.3f}",
                "" if our_error is None else repr(our_error),
                "" if chrony_error is None else repr(chrony_error),
                "" if bound is None else repr(bound[1]),
                "" if bound is None else int(abs(bound[0]) > bound[1]),
            ])
        for f in files:
            f.flush()
        # A slow tick is skipped rather than sampled late twice.
        tick = max(tick + 1, math.floor(time.time() - start) + 1)
    for f in files:
        f.close()
    resources = {}
    for pair in pairs:
        resources[pair["name"]] = {
            "ours": process_resources(pair["ours_pid"]),
            "chrony": process_resources(pair["chrony_pid"]),
        }
    with open(manifest["resources"], "w") as f:
        json.dump(resources, f, indent=1)


def process_resources(pid):
    """VmRSS (KiB) and utime+stime (s) of a running process; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), None)
        with open(f"/proc/{pid}/stat") as f:
            # The command name may hold spaces and parentheses: count fields after the last ')'.
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks
        return {"rss_kib": rss, "cpu_seconds": cpu}
    except (OSError, ValueError, IndexError, StopIteration):
        return {"rss_kib": None, "cpu_seconds": None}


def load_series(path):
    rows = []
    with open(path) as f:
        for row in csv.DictReader(f):
            t = float(row["elapsed_s"])
            ours = float(row["ours_error_s"]) if row["ours_error_s"] else None
            chrony = float(row["chrony_error_s"]) if row["chrony_error_s"] else None
            rows.append((t, ours, chrony))
    return rows


def load_bounds(path):
    """(elapsed, bound, violated) of every sample that had a published bound."""
    rows = []
    with open(path) as f:
        for row in csv.DictReader(f):
            if row.get("ours_bound_s"):
                rows.append((float(row["elapsed_s"]), float(row["ours_bound_s"]), row["ours_bound_violated"] == "1"))
    return rows


def statistics(values, expected):
    if not values:
        return {"samples": 0, "missing": expected, "rms_us": None, "mean_us": None, "p99_us": None, "max_us": None}
    magnitudes = sorted(abs(v) for v in values)
    p99 = magnitudes[min(len(magnitudes) - 1, math.ceil(0.99 * len(magnitudes)) - 1)]
    return {
        "samples": len(values),
        "missing": max(0, expected - len(values)),
        "rms_us": math.sqrt(sum(v * v for v in values) / len(values)) * 1e6,
        "mean_us": sum(values) / len(values) * 1e6,
        "p99_us": p99 * 1e6,
        "max_us": magnitudes[-1] * 1e6,
    }


def time_within(series):
    """First time |error| < 100 µs, and the time from which it stayed so to the end."""
    first = None
    settled = None
    for t, value in series:
        if value is None:
            continue
        if abs(value) < WITHIN:
            if first is None:
                first = t
            if settled is None:
                settled = t
        else:
            settled = None
    return first, settled


def startup_errors(run_series, run_bounds, warmup):
    """Each client's errors from its first synchronised sample to the end of the warm-up, all
    runs: how far it wandered while settling. Ours counts from its first published bound (it
    publishes one once synchronised), chrony's samples before synchronisation are not recorded;
    so neither is charged for the time before it claimed to know the time."""
    ours, chrony = [], []
    for series, bounds in zip(run_series, run_bounds):
        synchronised = bounds[0][0] if bounds else None
        for t, o, c in series:
            if t >= warmup:
                continue
            if o is not None and synchronised is not None and t >= synchronised:
                ours.append(o)
            if c is not None:
                chrony.append(c)
    return ours, chrony


def polyline(points, x_of, y_of, colour):
    text = " ".join(f"{x_of(t):.1f},{y_of(v):.1f}" for t, v in points)
    return f'<polyline fill="none" stroke="{colour}" stroke-width="1.2" points="{text}"/>'


def draw_svg(path, title, runs, warmup):
    """Error over time, ours and chrony's, first run; the y range fits the measured part, so
    the start-up excursion is clipped at the edges."""
    series = runs[0]
    ours = [(t, o * 1e6) for t, o, _ in series if o is not None]
    chrony = [(t, c * 1e6) for t, _, c in series if c is not None]
    measured = [abs(v) for t, v in ours + chrony if t >= warmup]
    limit = max(measured) * 1.1 if measured else 1000.0
    limit = max(limit, 1.0)
    t_end = max((t for t, _, _ in series), default=1.0)
    width, height, left, right, top, bottom = 960, 420, 70, 20, 30, 40
    x_of = lambda t: left + (width - left - right) * t / max(t_end, 1e-9)
    y_of = lambda v: top + (height - top - bottom) * (1 - (max(-limit, min(limit, v)) + limit) / (2 * limit))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="18">{title}: clock error (µs) over time (s); ours blue, chrony red; clipped at ±{limit:.0f} µs</text>',
        f'<line x1="{left}" y1="{y_of(0):.1f}" x2="{width - right}" y2="{y_of(0):.1f}" stroke="#999"/>',
        f'<line x1="{x_of(warmup):.1f}" y1="{top}" x2="{x_of(warmup):.1f}" y2="{height - bottom}" stroke="#999" stroke-dasharray="4"/>',
        f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" fill="none" stroke="#333"/>',
    ]
    for fraction in (-1, -0.5, 0, 0.5, 1):
        v = fraction * limit
        parts.append(f'<text x="{left - 6}" y="{y_of(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        t = fraction * t_end
        parts.append(f'<text x="{x_of(t):.1f}" y="{height - bottom + 16}" text-anchor="middle">{t:.0f}</text>')
    parts.append(polyline(ours, x_of, y_of, "#1f5fbf"))
    parts.append(polyline(chrony, x_of, y_of, "#c8312b"))
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def fmt(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f}"


def report(out):
    with open(os.path.join(out, "settings.json")) as f:
        settings = json.load(f)
    warmup, duration, runs = settings["warmup"], settings["duration"], settings["runs"]
    results = []
    for polling in settings["polling"]:
        for scenario in settings["scenarios"]:
            name = f"{polling}-{scenario}"
            run_series = []
            resources = []
            for run in range(1, runs + 1):
                run_dir = os.path.join(out, f"run-{run}")
                run_series.append(load_series(os.path.join(run_dir, f"{name}.csv")))
                with open(os.path.join(run_dir, "resources.json")) as f:
                    resources.append(json.load(f).get(name, {}))
            ours_values = [o for series in run_series for t, o, _ in series if t >= warmup and o is not None]
            chrony_values = [c for series in run_series for t, _, c in series if t >= warmup and c is not None]
            expected = duration * runs
            ours_stats = statistics(ours_values, expected)
            chrony_stats = statistics(chrony_values, expected)
            ratio = None
            if ours_stats["rms_us"] is not None and chrony_stats["rms_us"]:
                ratio = ours_stats["rms_us"] / chrony_stats["rms_us"]
            run_bounds = [load_bounds(os.path.join(out, f"run-{run}", f"{name}.csv")) for run in range(1, runs + 1)]
            bound_rows = [b for bounds in run_bounds for b in bounds]
            bound_after_warmup = [b for t, b, _ in bound_rows if t >= warmup]
            startup = startup_errors(run_series, run_bounds, warmup)
            ours_startup = statistics(startup[0], 0)["rms_us"]
            chrony_startup = statistics(startup[1], 0)["rms_us"]
            ours_first, ours_settled = time_within([(t, o) for t, o, _ in run_series[0]])
            chrony_first, chrony_settled = time_within([(t, c) for t, _, c in run_series[0]])

            def last(side, key):
                values = [r.get(side, {}).get(key) for r in resources]
                values = [v for v in values if v is not None]
                return max(values) if values else None

            results.append({
                "polling": polling, "scenario": scenario,
                "ours": ours_stats, "chrony": chrony_stats, "rms_ratio": ratio,
                "ours_first_within_100us_s": ours_first, "ours_settled_within_100us_s": ours_settled,
                "chrony_first_within_100us_s": chrony_first, "chrony_settled_within_100us_s": chrony_settled,
                "ours_startup_rms_us": ours_startup, "chrony_startup_rms_us": chrony_startup,
                "ours_rss_kib": last("ours", "rss_kib"), "chrony_rss_kib": last("chrony", "rss_kib"),
                "ours_cpu_seconds": last("ours", "cpu_seconds"), "chrony_cpu_seconds": last("chrony", "cpu_seconds"),
                "bound_samples": len(bound_rows), "bound_violations": sum(1 for _, _, v in bound_rows if v),
                "mean_bound_us": (sum(bound_after_warmup) / len(bound_after_warmup) * 1e6) if bound_after_warmup else None,
            })
            draw_svg(os.path.join(out, f"{name}.svg"), f"{scenario}, polling {polling}", run_series, warmup)

    lines = []
    header = (f"{'scenario':<11} {'ours RMS':>9} {'mean':>8} {'p99':>8} {'max':>8} | {'chrony RMS':>10} {'mean':>8} "
              f"{'p99':>8} {'max':>8} | {'RMS ours/chrony':>15} | {'<100µs ours/chrony (s)':>22} | "
              f"{'RSS KiB ours/chrony':>19} | {'CPU s ours/chrony':>17}")
    for polling in settings["polling"]:
        lines.append(f"polling {polling}: clock error in µs over {duration} s after {warmup} s of warm-up"
                     f" ({runs} run{'s' if runs != 1 else ''}); <100µs: first |error| < 100 µs, settled in brackets")
        lines.append(header)
        for r in (r for r in results if r["polling"] == polling):
            o, c = r["ours"], r["chrony"]
            within = (f"{fmt(r['ours_first_within_100us_s'], 0)}({fmt(r['ours_settled_within_100us_s'], 0)})/"
                      f"{fmt(r['chrony_first_within_100us_s'], 0)}({fmt(r['chrony_settled_within_100us_s'], 0)})")
            lines.append(
                f"{r['scenario']:<11} {fmt(o['rms_us']):>9} {fmt(o['mean_us']):>8} {fmt(o['p99_us']):>8} {fmt(o['max_us']):>8} | "
                f"{fmt(c['rms_us']):>10} {fmt(c['mean_us']):>8} {fmt(c['p99_us']):>8} {fmt(c['max_us']):>8} | "
                f"{fmt(r['rms_ratio'], 2):>15} | {within:>22} | "
                f"{fmt(r['ours_rss_kib'], 0) + '/' + fmt(r['chrony_rss_kib'], 0):>19} | "
                f"{fmt(r['ours_cpu_seconds'], 2) + '/' + fmt(r['chrony_cpu_seconds'], 2):>17}")
            missing = o["missing"] + c["missing"]
            if missing:
                lines.append(f"{'':<11} (missing samples: ours {o['missing']}, chrony {c['missing']})")
        lines.append("")
    lines.append(f"start-up: RMS error in µs from each client's first synchronised sample to the end of the {warmup} s warm-up"
                 f" ({runs} run{'s' if runs != 1 else ''}), ours / chrony (ratio)")
    for r in results:
        ours_s, chrony_s = r["ours_startup_rms_us"], r["chrony_startup_rms_us"]
        ratio = fmt(ours_s / chrony_s, 2) if ours_s is not None and chrony_s else "-"
        lines.append(f"{r['polling'] + '-' + r['scenario']:<20} {fmt(ours_s):>9} / {fmt(chrony_s):<9} ({ratio})")
    lines.append("")
    lines.append("published error bound (ours): samples from the first synchronisation on, how many the true error"
                 " exceeded (a violation is a bug), mean bound after the warm-up in µs")
    for r in results:
        lines.append(f"{r['polling'] + '-' + r['scenario']:<20} {r['bound_samples']:>6} samples, "
                     f"{r['bound_violations']} violations, mean {fmt(r['mean_bound_us'])}")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"settings": settings, "results": results}, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "sample":
        sample(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "report":
        report(sys.argv[2])
    else:
        sys.exit("usage: accuracy_sampler.py sample MANIFEST | report OUT")
