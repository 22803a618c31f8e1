#!/usr/bin/env python3
"""mqtt_pub.py -- a raw-socket MQTT 3.1.1 QoS 1 publisher for the tests: counts the broker's PUBACKs.

Usage: mqtt_pub.py PORT TOPIC COUNT PAYLOAD [--start N] [--rate PER_S] [--acked FILE] [--host H]
PAYLOAD is a Python format string with {i} (the message's number, from START) and
{ts} (a distinct nanosecond timestamp derived from i). Every message whose PUBACK
came back is written to FILE (its number, one per line); the last line on stdout
is "published N acked M". Exits 1 if the broker closed the connection early.
"""
import argparse
import select
import socket
import struct
import sys
import time


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def mqtt_str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("topic")
    ap.add_argument("count", type=int)
    ap.add_argument("payload")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--acked", default=None)
    ap.add_argument("--window", type=int, default=20)
    ap.add_argument("--host", default="127.0.0.1")
    a = ap.parse_args()

    sock = socket.create_connection((a.host, a.port))
    client_id = "test-pub-%d-%d" % (a.start, time.monotonic_ns() % 1000000)
    sock.sendall(packet(0x10, mqtt_str("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60) + mqtt_str(client_id)))
    buf = b""
    while len(buf) < 4:
        chunk = sock.recv(4 - len(buf))
        if not chunk:
            sys.exit("no CONNACK")
        buf += chunk
    if buf[0] != 0x20 or buf[3] != 0:
        sys.exit("CONNACK refused: %r" % buf)
    buf = b""
    inflight = {}  # packet id -> message number
    acked = []
    next_id = 1
    sent = 0
    t0 = time.monotonic()
    closed = False
    while (sent < a.count or inflight) and not closed:
        can_send = sent < a.count and len(inflight) < a.window
        if can_send and a.rate:
            due = t0 + sent / a.rate
            if time.monotonic() < due:
                can_send = False
        if can_send:
            i = a.start + sent
            payload = a.payload.format(i=i, ts=1700000000000000000 + i * 1000).encode()
            body = mqtt_str(a.topic) + struct.pack("!H", next_id) + payload
            sock.sendall(packet(0x32, body))
            inflight[next_id] = i
            next_id = next_id % 65535 + 1
            sent += 1
            continue
        timeout = 0.005 if sent < a.count else 10
        r, _, _ = select.select([sock], [], [], timeout)
        if not r:
            if sent >= a.count:
                break  # no PUBACK for 10 s: give up on the rest
            continue
        chunk = sock.recv(65536)
        if not chunk:
            closed = True
            break
        buf += chunk
        while len(buf) >= 4 and buf[0] == 0x40 and buf[1] == 2:
            pid = struct.unpack("!H", buf[2:4])[0]
            buf = buf[4:]
            if pid in inflight:
                acked.append(inflight.pop(pid))
    if not closed:
        sock.sendall(bytes([0xE0, 0]))
    sock.close()
    if a.acked:
        with open(a.acked, "a") as f:
            for i in acked:
                f.write("%d\n" % i)
    print("published %d acked %d" % (sent, len(acked)))
    sys.exit(1 if closed else 0)


if __name__ == "__main__":
    main()
