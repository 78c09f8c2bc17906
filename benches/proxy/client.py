# The load generator of the proxy benchmark: HTTP/1.1 GETs with `connection: close`, a new
# TCP connection per request, 1 s connect / 2 s total timeout.
#   open loop:   python3 client.py --rate 500 --duration 5 --out LOG [--ready FILE]
#   closed loop: python3 client.py --concurrency 32 --duration 5 --out LOG
# One line per request: index scheduled_ns start_ns end_ns outcome backend (CLOCK_REALTIME).
import argparse
import asyncio
import errno
import resource
import time

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="192.0.2.100")
ap.add_argument("--port", type=int, default=80)
ap.add_argument("--rate", type=float, default=500)
ap.add_argument("--concurrency", type=int, default=0, help="closed loop with N workers")
ap.add_argument("--duration", type=float, required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--ready", help="written when the first request is due")
args = ap.parse_args()
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
REQUEST = f"GET / HTTP/1.1\r\nhost: {args.host}\r\nconnection: close\r\n\r\n".encode()
rows = []


async def request(i, scheduled):
    start = time.time_ns()
    t0 = time.monotonic()
    writer = None
    outcome, backend = "ok", "-"
    try:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(args.host, args.port), 1.0)
        except asyncio.TimeoutError:
            outcome = "connect_timeout"
        else:
            writer.write(REQUEST)
            left = max(0.001, 2.0 - (time.monotonic() - t0))
            data = await asyncio.wait_for(reader.read(), left)
            if not data:
                outcome = "empty"
            elif data[9:12] != b"200":
                outcome = "http_" + data[9:12].decode("ascii", "replace")
            else:
                backend = data.rsplit(b"\r\n\r\n", 1)[-1].decode("ascii", "replace") or "-"
    except asyncio.TimeoutError:
        outcome = "timeout"
    except ConnectionRefusedError:
        outcome = "refused"
    except ConnectionResetError:
        outcome = "reset"
    except OSError as e:
        outcome = "oserror_" + errno.errorcode.get(e.errno or 0, str(e.errno))
    finally:
        if writer is not None:
            writer.close()
    rows.append((i, scheduled, start, time.time_ns(), outcome, backend))


async def open_loop():
    n = int(args.duration * args.rate)
    tasks = []
    m0, ns0 = time.monotonic(), time.time_ns()
    if args.ready:
        open(args.ready, "w").write(f"{ns0}\n")
    for i in range(n):
        delay = m0 + i / args.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(request(i, ns0 + int(i * 1e9 / args.rate))))
    await asyncio.gather(*tasks)


async def closed_loop():
    end = time.monotonic() + args.duration
    counter = iter(range(10**9))

    async def worker():
        while time.monotonic() < end:
            await request(next(counter), time.time_ns())

    if args.ready:
        open(args.ready, "w").write(f"{time.time_ns()}\n")
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))


asyncio.run(closed_loop() if args.concurrency else open_loop())
rows.sort()
with open(args.out, "w") as f:
    for row in rows:
        f.write("%d %d %d %d %s %s\n" % row)
