#!/usr/bin/env python3
"""slow_proxy.py -- fault-injecting TCP proxy on loopback for the system tests.

Relays 127.0.0.1:LISTEN to 127.0.0.1:TARGET and can
  * delay every request by --latency seconds (a delay line: a request that
    arrives at t reaches the server at t + latency, order kept),
  * reset the connection on every --reset-every'th request, alternating
    "before" (the request never reaches the server) and "after" (the server
    processed it, the client sees a reset instead of the answer -- the case
    where a careless client duplicates data),
  * switch modes at run time through --control FILE (one word, polled every
    0.2 s): `pass` relays, `cut` resets every connection and every new one
    (a cut link), `hole` accepts and relays nothing, never answering (a black
    hole; on loopback the TCP handshake still completes); `latency SECONDS`
    instead sets the delay from then on (the mode stays).

A request is the first chunk a client sends after it received an answer (or
on a new connection): exact for HTTP/1.1 without pipelining.
On SIGTERM or SIGINT it prints one line of counters to stdout and exits 0.
Python standard library only.
"""
import argparse
import asyncio
import signal
import socket
import struct
import sys
import time

READ_SIZE = 65536


class Stats:
    def __init__(self):
        self.connections = 0
        self.requests = 0
        self.resets_before = 0
        self.resets_after = 0
        self.resets_mode = 0

    def line(self):
        return (f"slow_proxy: connections {self.connections}, requests {self.requests}, "
                f"resets before {self.resets_before}, resets after {self.resets_after}, "
                f"resets by cut {self.resets_mode}")


def hard_reset(writer):
    """Close with RST (SO_LINGER 0), not FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class Connection:
    def __init__(self, proxy, creader, cwriter, sreader, swriter):
        self.proxy = proxy
        self.creader, self.cwriter = creader, cwriter
        self.sreader, self.swriter = sreader, swriter
        self.queue = asyncio.Queue()  # (due, data) client -> server
        self.awaiting_request = True
        self.reset_after = False  # reset instead of relaying the next answer
        self.closed = False
        self.tasks = []

    def reset(self):
        if self.closed:
            return
        self.closed = True
        hard_reset(self.cwriter)
        hard_reset(self.swriter)
        for t in self.tasks:
            if t is not asyncio.current_task():
                t.cancel()
        self.proxy.conns.discard(self)

    async def run(self):
        self.tasks = [asyncio.ensure_future(self.client_to_queue()),
                      asyncio.ensure_future(self.queue_to_server()),
                      asyncio.ensure_future(self.server_to_client())]
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if not self.closed:
            self.closed = True
            self.cwriter.close()
            self.swriter.close()
            self.proxy.conns.discard(self)

    async def client_to_queue(self):
        p = self.proxy
        while not self.closed:
            data = await self.creader.read(READ_SIZE)
            if not data:
                await self.queue.put((0.0, b""))
                return
            if p.mode == "hole":
                continue
            if self.awaiting_request:
                self.awaiting_request = False
                p.stats.requests += 1
                if p.args.reset_every and p.stats.requests % p.args.reset_every == 0:
                    p.reset_turn += 1
                    if p.reset_turn % 2 == 1:
                        p.stats.resets_before += 1
                        self.reset()
                        return
                    self.reset_after = True
            await self.queue.put((time.monotonic() + p.latency, data))

    async def queue_to_server(self):
        while not self.closed:
            due, data = await self.queue.get()
            if not data:
                self.swriter.write_eof()
                return
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.proxy.mode == "hole":
                continue
            self.swriter.write(data)
            await self.swriter.drain()

    async def server_to_client(self):
        p = self.proxy
        while not self.closed:
            data = await self.sreader.read(READ_SIZE)
            if not data:
                if p.mode == "cut":
                    self.reset()
                else:
                    self.cwriter.close()
                return
            if p.mode == "hole":
                continue
            if self.reset_after:
                p.stats.resets_after += 1
                self.reset()
                return
            self.awaiting_request = True
            self.cwriter.write(data)
            await self.cwriter.drain()


class Proxy:
    def __init__(self, args):
        self.args = args
        self.latency = args.latency
        self.mode = "pass"
        self.conns = set()
        self.stats = Stats()
        self.reset_turn = 0

    async def accept(self, creader, cwriter):
        self.stats.connections += 1
        if self.mode == "cut":
            self.stats.resets_mode += 1
            hard_reset(cwriter)
            return
        try:
            sreader, swriter = await asyncio.open_connection("127.0.0.1", self.args.target)
        except OSError:
            hard_reset(cwriter)
            return
        conn = Connection(self, creader, cwriter, sreader, swriter)
        self.conns.add(conn)
        try:
            await conn.run()
        except asyncio.CancelledError:
            pass  # asyncio.run() cancels what is left at exit

    def set_mode(self, mode):
        if mode == self.mode or mode not in ("pass", "cut", "hole"):
            return
        old, self.mode = self.mode, mode
        print(f"slow_proxy: mode {old} -> {mode}", flush=True)
        # A cut kills every connection; a hole that ends leaves connections
        # that lost data in both directions: both are reset.
        if mode == "cut" or old == "hole":
            for c in list(self.conns):
                self.stats.resets_mode += 1
                c.reset()

    def set_latency(self, latency):
        if latency != self.latency:
            print(f"slow_proxy: latency {self.latency} -> {latency} s", flush=True)
            self.latency = latency

    async def watch_control(self):
        while True:
            try:
                with open(self.args.control, encoding="ascii") as f:
                    word = f.read().strip()
                if word.startswith("latency "):
                    self.set_latency(float(word.split()[1]))
                else:
                    self.set_mode(word)
            except (OSError, UnicodeDecodeError, ValueError, IndexError):
                pass
            await asyncio.sleep(0.2)


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1")
    ap.add_argument("--target", type=int, required=True, help="port on 127.0.0.1")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    ap.add_argument("--reset-every", type=int, default=0, help="reset every Nth request")
    ap.add_argument("--control", help="file holding pass|cut|hole")
    args = ap.parse_args()

    proxy = Proxy(args)
    server = await asyncio.start_server(proxy.accept, "127.0.0.1", args.listen,
                                        reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.ensure_future(proxy.watch_control()) if args.control else None
    print(f"slow_proxy: 127.0.0.1:{args.listen} -> 127.0.0.1:{args.target}, latency "
          f"{args.latency} s, reset every {args.reset_every or 'never'}", flush=True)
    await stop.wait()
    if watcher:
        watcher.cancel()
    server.close()
    for c in list(proxy.conns):
        c.reset()
    print(proxy.stats.line(), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
