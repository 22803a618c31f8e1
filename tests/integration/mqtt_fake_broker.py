#!/usr/bin/env python3
"""mqtt_fake_broker.py -- a one-connection MQTT 3.1.1 "broker" for the tests: sends what mosquitto
never would (a topic that is not UTF-8) and prints the client's acknowledgements in the order
they came.

Usage: mqtt_fake_broker.py PORT MESSAGES_FILE
MESSAGES_FILE: one message per line, "QOS HEX_TOPIC PAYLOAD" (the topic as hex bytes). After
CONNECT/CONNACK and SUBSCRIBE/SUBACK it sends them all at once (packet ids 1, 2, ...), waits
up to 20 s for an acknowledgement of each QoS 1 message and prints "PUBACK id" lines in order.
"""
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


def read_packet(conn, buf):
    while True:
        if len(buf) >= 2:
            mult, n, i = 1, 0, 1
            while i < len(buf) and i <= 4:
                n += (buf[i] & 0x7F) * mult
                if not buf[i] & 0x80:
                    if len(buf) >= i + 1 + n:
                        return buf[0], buf[i + 1:i + 1 + n], buf[i + 1 + n:]
                    break
                mult *= 128
                i += 1
        chunk = conn.recv(65536)
        if not chunk:
            sys.exit("the client closed the connection")
        buf += chunk


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    msgs = []
    with open(path) as f:
        for line in f:
            qos, topic, payload = line.rstrip("\n").split(" ", 2)
            msgs.append((int(qos), bytes.fromhex(topic), payload.encode()))
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    srv.settimeout(30)
    conn, _ = srv.accept()
    conn.settimeout(20)
    buf = b""
    first, _, buf = read_packet(conn, buf)
    assert first == 0x10, "expected CONNECT"
    conn.sendall(bytes([0x20, 2, 0, 0]))
    first, body, buf = read_packet(conn, buf)
    assert first == 0x82, "expected SUBSCRIBE"
    conn.sendall(bytes([0x90, 3]) + body[:2] + bytes([1]))
    out = b""
    want = 0
    for i, (qos, topic, payload) in enumerate(msgs, 1):
        head = struct.pack("!H", len(topic)) + topic + (struct.pack("!H", i) if qos else b"")
        out += bytes([0x30 | (qos << 1)]) + varint(len(head) + len(payload)) + head + payload
        want += qos > 0
    conn.sendall(out)
    deadline = time.monotonic() + 20
    got = 0
    while got < want and time.monotonic() < deadline:
        first, body, buf = read_packet(conn, buf)
        if first == 0x40:
            print("PUBACK %d" % struct.unpack("!H", body)[0], flush=True)
            got += 1
        elif first == 0xC0:
            conn.sendall(bytes([0xD0, 0]))
    conn.close()


if __name__ == "__main__":
    main()
