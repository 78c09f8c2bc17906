# Summarises a run of benches/proxy/run.sh: python3 analyze.py WORK
# Reads WORK/events.txt ("pair scenario run event_ns client_log"), the client logs and the
# `ip -ts monitor address` logs of both nodes; prints Markdown tables.
import collections
import datetime
import re
import statistics
import sys

W = sys.argv[1]
VIP = "192.0.2.100"
ADVERT = 0.1
MDI = (3 * ADVERT + (256 - 100) * ADVERT / 256) * 1e3  # the backup's (priority 100), ms
SKEW = (256 - 100) * ADVERT / 256 * 1e3


def vip_added(node):
    """Times (ns) at which the VIP was added on `node`."""
    out = []
    for line in open(f"{W}/mon-{node}.log", errors="replace"):
        m = re.match(r"\[([^\]]+)\]\s*(.*)", line)
        if not m or m.group(2).startswith("Deleted") or f"inet {VIP}/" not in m.group(2):
            continue
        t = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
        out.append(int(t.timestamp() * 1e6) * 1000)
    return out


added = {"p1": vip_added("p1"), "p2": vip_added("p2")}
# p1's full-priority adverts (ns): the last one before p2 took the VIP bounds the detection.
adverts = []
for line in open(f"{W}/cap.txt", errors="replace"):
    m = re.match(r"(\d+\.\d+) .*prio (\d+)", line)
    if m and int(m.group(2)) == 150:
        adverts.append(int(round(float(m.group(1)) * 1e9)))


def load(path):
    rows = []
    for line in open(path):
        i, sched, start, end, kind, backend = line.split()
        rows.append((int(sched), int(start), int(end), kind, backend))
    return rows


def outage_ms(rows, t0):
    """Longest gap between consecutive successful completions that ends after the event and
    (when requests failed) starts before the last failed request started."""
    ends = sorted(r[2] for r in rows if r[3] == "ok")
    last_fail = max((r[1] for r in rows if r[3] != "ok"), default=None)
    gaps = [b - a for a, b in zip(ends, ends[1:]) if b > t0 and (last_fail is None or a <= last_fail)]
    return max(gaps) / 1e6 if gaps else 0.0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def med(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    fmt = (lambda v: f"{v:g}") if all(isinstance(x, int) for x in xs) else (lambda v: f"{v:.1f}")
    m = statistics.median(xs)
    return f"{fmt(m)} ({fmt(min(xs))}-{fmt(max(xs))})" if len(xs) > 1 else fmt(m)


ev = collections.defaultdict(list)  # (pair, scenario) -> [dict]
for line in open(f"{W}/events.txt"):
    pair, sc, run, t0, path = line.split()
    t0 = int(t0)
    rows = load(path)
    d = {"n": len(rows), "failed": sum(1 for r in rows if r[3] != "ok")}
    d["kinds"] = collections.Counter(r[3] for r in rows if r[3] != "ok")
    lat = [(r[2] - r[1]) / 1e6 for r in rows if r[3] == "ok"]
    d["p50"], d["p99"] = pct(lat, 50), pct(lat, 99)
    if sc == "tput":
        span = (max(r[2] for r in rows) - min(r[1] for r in rows)) / 1e9
        d["rps"] = sum(1 for r in rows if r[3] == "ok") / span
    else:
        d["outage"] = outage_ms(rows, t0)
        v = next((t for t in added["p2"] if t > t0), None)
        d["vip"] = (v - t0) / 1e6 if v is not None and sc in "ABC" else None
        last = [a for a in adverts if v is not None and a < v]
        d["adv"] = (v - last[-1]) / 1e6 if last and sc in "AC" else None
    ev[(pair, sc)].append(d)

print(open(f"{W}/info.txt").read().replace("\n", "  \n"))
pairs = [p for p in ("ours", "ours-nosup", "nginx") if any(k[0] == p for k in ev)]
names = {
    "A": "A master crash (every process of the pair on p1 SIGKILLed, VIP deleted)",
    "B": "B planned stop (ours: SIGTERM to vip-proxy; nginx pair: SIGTERM to keepalived)",
    "C": "C proxy process SIGKILLed (host stays; ours: its crash supervisor hands over, ours-nosup: none)",
    "D": "D one backend's server SIGKILLed",
}
bounds = {"A": f"MDI {MDI:.1f}", "B": f"0 failed (skew {SKEW:.1f})",
          "C": f"ours: skew + 5 = {SKEW + 5:.1f}; others MDI {MDI:.1f}", "D": "0 failed"}
print("\n### Failover under load (open loop %s requests/s, new connection per request), median (min-max)\n"
      % ("500"))
head = "| scenario | bound / goal |"
for what in ("failed requests", "outage ms", "event -> VIP on p2 ms", "p1's last advert -> VIP on p2 ms", "errors seen (sum)"):
    for p in pairs:
        head += f" {p}: {what} |"
print(head)
print("|" + "---|" * (2 + 5 * len(pairs)))
for sc in "ABCD":
    if not any((p, sc) in ev for p in pairs):
        continue
    line = f"| {names[sc]} | {bounds[sc]} |"
    for key in ("failed", "outage", "vip", "adv"):
        for p in pairs:
            line += f" {med([d[key] for d in ev.get((p, sc), [])])} |"
    for p in pairs:
        k = collections.Counter()
        for d in ev.get((p, sc), []):
            k.update(d["kinds"])
        line += " " + (", ".join(f"{a} {b}" for a, b in sorted(k.items())) or "-") + " |"
    print(line)
print(f"\nMDI = Master_Down_Interval of the backup (priority 100) at advert_int {ADVERT} s; "
      "outage = longest gap between successful completions after the event, up to the last failure.")

print("\n### Throughput and latency through the VIP (same client, same backends), median (min-max)\n")
print("| pair | closed loop, 64 connections: requests/s | p50 ms | p99 ms | open loop 500/s: p50 ms | p99 ms | failed |")
print("|---|---|---|---|---|---|---|")
summary = {}
for p in pairs:
    t = ev.get((p, "tput"), [])
    b = ev.get((p, "base"), [])
    summary[p] = (statistics.median([d["rps"] for d in t]) if t else None,
                  statistics.median([d["p50"] for d in b]) if b else None,
                  statistics.median([d["p99"] for d in b]) if b else None)
    print(f"| {p} | {med([d['rps'] for d in t])} | {med([d['p50'] for d in t])} | {med([d['p99'] for d in t])} | "
          f"{med([d['p50'] for d in b])} | {med([d['p99'] for d in b])} | {sum(d['failed'] for d in t + b)} |")
if "ours" in summary and "nginx" in summary and all(summary["ours"]) and all(summary["nginx"]):
    o, n = summary["ours"], summary["nginx"]
    print(f"\nours / nginx: throughput {o[0] / n[0]:.2f}, p50 at 500/s {o[1] / n[1]:.2f}, p99 at 500/s {o[2] / n[2]:.2f}")

print("\n### Goals\n")


def m(p, sc, key):
    xs = [d[key] for d in ev.get((p, sc), []) if d[key] is not None]
    return statistics.median(xs) if xs else None


checks = []
if ("ours", "B") in ev:
    checks.append(("zero failed requests on a graceful stop (median)", m("ours", "B", "failed") == 0))
if ("ours", "D") in ev:
    checks.append(("zero failed requests on the loss of a backend (median)", m("ours", "D", "failed") == 0))
if ("ours", "A") in ev:
    a = m("ours", "A", "outage")
    checks.append((f"crash outage {a:.1f} ms <= MDI + 20 = {MDI + 20:.1f} ms", a <= MDI + 20))
    if ("nginx", "A") in ev:
        n = m("nginx", "A", "outage")
        checks.append((f"crash outage lower than the nginx pair's ({a:.1f} < {n:.1f} ms)", a < n))
if ("ours", "C") in ev:
    c = m("ours", "C", "outage")
    checks.append((f"process death with the crash supervisor: outage {c:.1f} ms <= Skew_Time + 5 = {SKEW + 5:.1f} ms (median)",
                   c <= SKEW + 5))
    v = m("ours", "C", "vip")
    checks.append((f"process death with the crash supervisor: event -> VIP on the peer {v:.1f} ms <= Skew_Time + 5 (median)",
                   v <= SKEW + 5))
    for other in ("ours-nosup", "nginx"):
        if (other, "C") in ev:
            o = m(other, "C", "outage")
            checks.append((f"process death outage lower than {other}'s ({c:.1f} < {o:.1f} ms)", c < o))
if ("ours-nosup", "C") in ev:
    worst = max(d["vip"] for d in ev[("ours-nosup", "C")] if d["vip"] is not None)
    checks.append((f"without the supervisor, a dead proxy is detected by its peer within MDI (worst event -> VIP {worst:.1f} ms)", worst <= MDI))
    adv = [d["adv"] for d in ev[("ours-nosup", "C")] if d["adv"] is not None]
    if adv:
        checks.append((f"(protocol view) dead proxy's last advert -> VIP on the peer: median {statistics.median(adv):.1f}, "
                       f"worst {max(adv):.1f} ms vs MDI {MDI:.1f} ms (+5 ms allowed for installing and timestamping)", max(adv) <= MDI + 5))
for text, ok in checks:
    print(f"- {'met' if ok else 'NOT met'}: {text}")

print("\n### Per event\n")
print("| pair | scenario | requests | failed | outage ms | event -> VIP ms | last advert -> VIP ms | p50 ms | p99 ms |")
print("|---|---|---|---|---|---|---|---|---|")
for (p, sc), ds in sorted(ev.items()):
    for d in ds:
        print(f"| {p} | {sc} | {d['n']} | {d['failed']} | {d.get('outage', float('nan')):.1f} | "
              f"{'-' if d.get('vip') is None else format(d['vip'], '.1f')} | "
              f"{'-' if d.get('adv') is None else format(d['adv'], '.1f')} | {d['p50']:.1f} | {d['p99']:.1f} |")
