"""Opens N Server-Sent Event streams (GET /api/v1/events?types=sample) to a
stewardd over TLS and measures, for every sample event each stream gets,
the delivery delay: the time it was read here minus the moment the sampler
took it (the event's "time" plus the sampler's fixed offset of 0.5 s into
the second).  One asyncio loop in one process: the delays include this
client's own time to read 1,000 streams, so they are an upper bound.

Usage: events-client.py HOST PORT CAFILE TOKEN N SAMPLES READY_FILE
Prints one JSON object: streams opened, events read, p50/p99/max delay (ms).
READY_FILE is created once every stream is open (the caller measures the
daemon's memory then).
"""
import asyncio
import json
import ssl
import sys
import time

SAMPLE_OFFSET = 0.5  # history.c: WAKE_OFFSET_NS


START = [0.0]  # events sampled before every stream was reading are skipped


async def stream(host, port, ctx, token, samples, delays, opened, all_open):
    reader, writer = await asyncio.open_connection(host, port, ssl=ctx, server_hostname=host,
                                                   limit=1 << 20)
    writer.write((f"GET /api/v1/events?types=sample HTTP/1.1\r\nHost: {host}\r\n"
                  f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(status.decode(errors="replace"))
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    opened.append(1)
    await all_open.wait()
    got = 0
    while got < samples:
        line = await reader.readline()
        if not line:
            break
        if line.startswith(b"data: {\"time\""):
            now = time.time()
            t = json.loads(line[6:])["time"] + SAMPLE_OFFSET
            if t < START[0]:
                continue
            delays.append(now - t)
            got += 1
    writer.close()


async def main():
    host, port, cafile, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    n, samples, ready = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
    ctx = ssl.create_default_context(cafile=cafile)
    delays, opened = [], []
    all_open = asyncio.Event()
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(
            stream(host, port, ctx, token, samples, delays, opened, all_open)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # handshakes in batches
    while len(opened) < n:
        await asyncio.sleep(0.1)
        if any(t.done() and t.exception() for t in tasks):
            raise next(t.exception() for t in tasks if t.done() and t.exception())
    open(ready, "w").close()
    # The memory is measured now, with every stream open; then the events.
    await asyncio.sleep(2)
    START[0] = time.time()
    all_open.set()
    await asyncio.gather(*tasks)
    d = sorted(x * 1000 for x in delays)
    q = lambda p: d[min(len(d) - 1, int(p * len(d)))]
    print(json.dumps({"streams": len(opened), "events": len(d), "p50_ms": round(q(0.5), 2),
                      "p99_ms": round(q(0.99), 2), "max_ms": round(d[-1], 2)}))


asyncio.run(main())
