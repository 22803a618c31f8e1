#!/usr/bin/env python3
"""hostile_client.py -- raw HTTP requests a hostile or broken client sends, for the hostile-input tests.

Usage: hostile_client.py PORT COUNT KIND [SOURCE_ADDRESS]
Sends COUNT requests of KIND (garbage, badjson, badpath, badline), 16
connections at a time, each on its own connection from SOURCE_ADDRESS
(default 127.0.0.1), and prints how they were answered as JSON, e.g.
{"400": 3000} ("closed": no answer, "error": a socket error).
"""
import collections
import concurrent.futures
import json
import socket
import sys

REQUESTS = {
    # not HTTP at all: libmicrohttpd answers 400 itself
    "garbage": b"\x01\x02GARBAGE \x1b[31m\r\n\r\n",
    "badjson": b"POST /data HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 5\r\nConnection: close\r\n\r\n{bad}",
    # %0a and %1b in the path: a forged log line and a terminal escape
    "badpath": b"GET /x%0a2026-01-01T00:00:00.000Z%20error%20[main]%20forged%1b[2J HTTP/1.1\r\n"
    b"Host: x\r\nConnection: close\r\n\r\n",
    "badline": b"POST /write?db=x HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
    b"Connection: close\r\n\r\nbad\x1b\n\r",
}


def one(port, kind, source):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    except OSError:
        return "error"
    try:
        s.sendall(REQUESTS[kind])
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "closed"
    except OSError:
        return "error"
    finally:
        s.close()


def main():
    port, count, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    source = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        answers = collections.Counter(ex.map(lambda _: one(port, kind, source), range(count)))
    print(json.dumps(dict(answers), sort_keys=True))


if __name__ == "__main__":
    main()
