# Summarises a run of benches/anycast/run.sh: python3 analyze.py WORK
# Reads WORK/events.txt ("mode event run node event_ns client_log"), WORK/tput.txt ("label run
# client_log busy idle busy idle [client_cpu_s nI=ticks,periods,throttled/ticks,periods,throttled
# ...]": /proc/stat jiffies before and after, the clients' CPU seconds, each node's proxy CPU
# ticks and cgroup CFS periods before/after) and the client logs (benches/proxy/client.py: index
# scheduled start end outcome backend, ns; CLIENT_LOG itself, or CLIENT_LOG.1... with several
# client processes); prints Markdown.
import collections
import glob
import os
import statistics
import sys

W = sys.argv[1]
EVENTS = {
    "none": "no event (3 s of load)",
    "backends": "the node's backends all fail (server SIGKILLed)",
    "graceful": "graceful stop (SIGTERM to the proxy)",
    "kill": "proxy process SIGKILLed (crash supervisor left)",
    "death": "node dies (off the switch, every process killed)",
}
MODES = ("anycast", "vrrp")


def load(path):
    rows = []
    paths = [path] if os.path.exists(path) else sorted(glob.glob(glob.escape(path) + ".*"))
    for line in (line for p in paths for line in open(p)):
        _, sched, start, end, kind, backend = line.split()
        rows.append((int(sched), int(start), int(end), kind, backend))
    return rows


def outage_ms(rows, t0):
    """Longest gap between consecutive successful completions that ends after the event and
    (when requests failed) starts before the last failed request started: how long nothing
    was served (benches/proxy's definition)."""
    ends = sorted(r[2] for r in rows if r[3] == "ok")
    last_fail = max((r[1] for r in rows if r[3] != "ok"), default=None)
    gaps = [b - a for a, b in zip(ends, ends[1:]) if b > t0 and (last_fail is None or a <= last_fail)]
    return max(gaps) / 1e6 if gaps else 0.0


def window_ms(rows):
    """From the first to the last failed request's start: how long some requests failed."""
    starts = [r[1] for r in rows if r[3] != "ok"]
    return (max(starts) - min(starts)) / 1e6 if starts else 0.0


def med(xs, fmt="%.0f"):
    if not xs:
        return "-"
    m = statistics.median(xs)
    if len(xs) == 1:
        return fmt % m
    return f"{fmt % m} ({fmt % min(xs)}-{fmt % max(xs)})"


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


print(open(f"{W}/info.txt").read().strip())
print()

# ------------------------------------------------------------------ failover
runs = collections.defaultdict(list)  # (mode, event) -> [(failed, outage, window, kinds, total)]
order = []
for line in open(f"{W}/events.txt"):
    mode, event, _run, _node, t, path = line.split()
    rows = load(path)
    t0 = int(t)
    kinds = collections.Counter(r[3] for r in rows if r[3] != "ok")
    failed = sum(kinds.values())
    runs[(mode, event)].append((failed, outage_ms(rows, t0), window_ms(rows), kinds, len(rows)))
    if event not in order:
        order.append(event)

if order:  # no events with MODES empty (throughput only)
    print("#### Failed requests per event, open loop (new connection per request), median (min-max)")
    print()
    head = ["event on one node"]
    for what in ("failed requests", "outage ms", "failure window ms", "errors seen (sum)"):
        head += [f"anycast (3 nodes): {what}", f"VRRP pair: {what}"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for event in sorted(order, key=lambda e: list(EVENTS).index(e) if e in EVENTS else 99):
        cells = [EVENTS.get(event, event)]
        for i, fmt in ((0, "%.0f"), (1, "%.1f"), (2, "%.0f")):
            for mode in MODES:
                cells.append(med([r[i] for r in runs.get((mode, event), [])], fmt))
        for mode in MODES:
            total = collections.Counter()
            for r in runs.get((mode, event), []):
                total.update(r[3])
            cells.append(", ".join(f"{k} {n}" for k, n in sorted(total.items())) or "-")
        print("| " + " | ".join(cells) + " |")
    print()
    print("outage = longest gap between two successful completions after the event, up to the last "
          "failure (nothing served); failure window = first to last failed request.")
    print()

# ------------------------------------------------------------------ throughput
TICK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
# label -> [(rps, p50, p99, busy, shares, failed, client_cpu, {node: (cpu, throttled)})]
tput = collections.defaultdict(list)
for line in open(f"{W}/tput.txt"):
    label, _run, path, b0, i0, b1, i1, *rest = line.split()
    rows = load(path)
    ok = [r for r in rows if r[3] == "ok"]
    span = (max(r[2] for r in rows) - min(r[1] for r in rows)) / 1e9 if rows else 1
    lat = [(r[2] - r[1]) / 1e6 for r in ok]
    busy_j, idle_j = float(b1) - float(b0), float(i1) - float(i0)
    busy = busy_j / (busy_j + idle_j) * 100
    wall = (busy_j + idle_j) / NCPU / TICK  # seconds between the samples
    shares = collections.Counter(r[4] for r in ok)
    client = float(rest[0]) / wall * 100 if rest else float("nan")
    nodes = {}
    for word in rest[1:]:
        node, spans = word.split("=")
        (t0, p0, r0), (t1, p1, r1) = (map(int, x.split(",")) for x in spans.split("/"))
        periods = p1 - p0
        nodes[node] = ((t1 - t0) / TICK / wall * 100, 100 * (r1 - r0) / periods if periods else None)
    tput[label].append((len(ok) / span, pct(lat, 50), pct(lat, 99), busy, shares,
                        len(rows) - len(ok), client, nodes))

if tput:
    labels = sorted(tput, key=lambda l: (l == "vrrp", l))
    base = statistics.median(r[0] for r in tput.get("anycast-1", [(float("nan"),)]))
    print("#### Throughput through the VIP, closed loop, median (min-max)")
    print()
    print("| nodes | requests/s | ratio to 1 anycast node (medians) | p50 ms | p99 ms | "
          "CPU busy % (machine) | client CPU % of one CPU | proxy CPU % of one CPU, per node | "
          "CFS periods throttled %, per node | share per node (requests) | failed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label in labels:
        rs = tput[label]
        name = "VRRP pair (1 active)" if label == "vrrp" else label.replace("anycast-", "anycast, ") + " node(s)"
        total = collections.Counter()
        for r in rs:
            total.update(r[4])
        n = sum(total.values()) or 1
        share = " / ".join(f"{k.replace('b', 'n')} {100 * v / n:.0f}%" for k, v in sorted(total.items()))
        ratio = statistics.median(r[0] for r in rs) / base
        names = sorted({k for r in rs for k in r[7]})
        cpu = " / ".join(f"{k} {statistics.median(r[7][k][0] for r in rs if k in r[7]):.0f}"
                         for k in names) or "-"
        thr = [(k, [r[7][k][1] for r in rs if k in r[7] and r[7][k][1] is not None]) for k in names]
        throttled = " / ".join(f"{k} {statistics.median(v):.0f}" for k, v in thr if v) or "-"
        clients = [r[6] for r in rs if r[6] == r[6]]
        print(f"| {name} | {med([r[0] for r in rs], '%.0f')} | {ratio:.2f} | "
              f"{med([r[1] for r in rs], '%.1f')} | {med([r[2] for r in rs], '%.1f')} | "
              f"{med([r[3] for r in rs], '%.0f')} | {med(clients, '%.0f')} | {cpu} | {throttled} | "
              f"{share} | {sum(r[5] for r in rs)} |")
