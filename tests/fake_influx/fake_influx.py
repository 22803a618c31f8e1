#!/usr/bin/env python3
"""fake_influx.py -- a scripted fake InfluxDB on loopback for the uplink tests (stdlib only).

It answers InfluxDB's write endpoints (v1 /write, v2 /api/v2/write) as a JSON
script says, one scripted answer per write request in order, and records
every request, so that a test can count exactly what was sent and what was
"stored".

    fake_influx.py --script S.json --log requests.jsonl --store stored.txt --port-file P

The script (replaceable while running with POST /_fake/script):

    {
      "answers": [ANSWER, ...],  # used in order by write requests
      "then": ANSWER,            # once the list is used up (default 204)
      "max_body": 0,             # > 0: 413 for a decoded body longer than this
      "auth": "",                # "" or the exact Authorization header required (else 401)
      "bad": "",                 # lines containing this text are refused ...
      "bad_style": "v1_conflict",# ... with: v1_conflict (1.x partial write, no line named),
                                 #   v1_parse (1.x "unable to parse '<line>'"),
                                 #   v2_line (2.x {"line": N} naming the first; nothing stored),
                                 #   v3_lines (3.x "line_number" for every refused line),
                                 #   v1_500 (500 "Internal Server Error" for the whole request,
                                 #   nothing stored: InfluxDB 1.6 on a point with 200 tags)
      "ping_answers": [ANSWER, ...], # used in order by GET /ping, then:
      "ping": ANSWER,            # the answer to GET /ping (default 204); "close"/"hang" work
      "query": ANSWER            # the answer to /query (CREATE DATABASE)
    }
    ANSWER = {"status": 204, "headers": {"Retry-After": "2"}, "body": "...",
              "retry_after_date": 3, # a Retry-After HTTP-date this many seconds ahead
              "delay": 0.5,    # seconds before answering
              "hang": true,    # never answer (until the client goes away)
              "reset": true,   # send half a status line, then a TCP reset
              "close": true}   # close the connection without a word

A 2xx answer stores the request's lines (the good ones when "bad" refuses
some; InfluxDB 1.x writes the good lines of a partial write too). Each line
of --log is one JSON object per request: seq, t (time.time()), path, query,
encoding, auth, raw_len, len, lines, port (the client's, to see keep-alive),
status (0 for hang/reset/close) and stored (lines stored); GET /ping is
logged apart, one {"t", "status"} object a line in <log>.pings. Each write
request also appends its arrival time to <log>.arrivals as it comes in, before
any delay or hang. With --tls-cert/--tls-key it speaks HTTPS.
"""

import argparse
import email.utils
import gzip
import json
import os
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"script": {}, "next": 0, "seq": 0, "next_ping": 0}
ARGS = None


def load_script(script):
    with LOCK:
        STATE["script"] = script
        STATE["next"] = 0
        STATE["next_ping"] = 0


def next_answer():
    with LOCK:
        script = STATE["script"]
        answers = script.get("answers", [])
        if STATE["next"] < len(answers):
            answer = answers[STATE["next"]]
            STATE["next"] += 1
            return answer
        return script.get("then", {"status": 204})


def next_ping_answer():
    with LOCK:
        script = STATE["script"]
        answers = script.get("ping_answers", [])
        if STATE["next_ping"] < len(answers):
            STATE["next_ping"] += 1
            return answers[STATE["next_ping"] - 1]
        return script.get("ping", {"status": 204})


def record(entry, lines):
    with LOCK:
        STATE["seq"] += 1
        entry["seq"] = STATE["seq"]
        with open(ARGS.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        if lines:
            with open(ARGS.store, "a", encoding="utf-8") as f:
                f.write("".join(line + "\n" for line in lines))


def bad_answer(style, lines, bad_idx):
    """The status, body and stored lines when lines[bad_idx] are refused."""
    good = [l for i, l in enumerate(lines) if i not in set(bad_idx)]
    if style == "v1_parse":
        reason = "\n".join("unable to parse '%s': invalid field format" % lines[i] for i in bad_idx)
        return 400, {"error": "partial write: %s dropped=0" % reason}, good
    if style == "v2_line":
        first = bad_idx[0] + 1
        return 400, {"code": "invalid", "line": first,
                     "message": "failed to parse line protocol: error parsing line %d (1-based): "
                                "invalid field value" % first}, []
    if style == "v1_500":
        return 500, "Internal Server Error", []
    if style == "v3_lines":
        data = [{"original_line": lines[i], "line_number": i + 1,
                 "error_message": "invalid column type for column 'value'"} for i in bad_idx]
        return 400, {"error": "partial write of line protocol occurred", "data": data}, good
    return 400, {"error": "partial write: field type conflict: input field \"value\" on "
                          "measurement \"data\" is type string, already exists as type float "
                          "dropped=%d" % len(bad_idx)}, good


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        data = raw
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            data = gzip.decompress(raw)
        return raw, data

    def answer(self, status, body=b"", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    def reset(self):
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Le")
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def hang(self, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            ready, _, _ = select.select([self.connection], [], [], 0.1)
            if ready:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        break
                except OSError:
                    break
        self.close_connection = True

    def scripted(self, answer, entry, lines):
        """Carry out a scripted answer; returns the lines stored."""
        if answer.get("delay"):
            time.sleep(float(answer["delay"]))
        if answer.get("hang"):
            record(entry, [])
            self.hang(float(answer.get("hang_max", 120)))
            return None
        if answer.get("reset") or answer.get("close"):
            record(entry, [])
            if answer.get("reset"):
                self.reset()
            else:
                self.close_connection = True
            return None
        status = int(answer.get("status", 204))
        body = answer.get("body", "")
        headers = dict(answer.get("headers") or {})
        if "retry_after_date" in answer:
            when = time.time() + float(answer["retry_after_date"])
            headers["Retry-After"] = email.utils.formatdate(when, usegmt=True)
        stored = []
        script = STATE["script"]
        if 200 <= status < 300:
            stored = lines
            marker = script.get("bad", "")
            bad_idx = [i for i, l in enumerate(lines) if marker and marker in l]
            if bad_idx:
                status, body, stored = bad_answer(script.get("bad_style", "v1_conflict"),
                                                  lines, bad_idx)
        entry["status"] = status
        entry["stored"] = len(stored)
        record(entry, stored)
        self.answer(status, body, headers)
        return stored

    def do_GET(self):
        if self.path.startswith("/ping"):
            answer = next_ping_answer()
            status = 0 if answer.get("hang") or answer.get("close") else int(answer.get("status", 204))
            with LOCK, open(ARGS.log + ".pings", "a", encoding="utf-8") as f:
                f.write(json.dumps({"t": time.time(), "status": status}) + "\n")
            if answer.get("hang"):
                self.hang(float(answer.get("hang_max", 120)))
            elif answer.get("close"):
                self.close_connection = True
            else:
                self.answer(status, answer.get("body", ""))
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        raw, data = self.read_body()
        if url.path == "/_fake/script":
            load_script(json.loads(data))
            self.answer(204)
            return
        entry = {"t": time.time(), "path": url.path, "query": url.query,
                 "encoding": self.headers.get("Content-Encoding") or "",
                 "auth": self.headers.get("Authorization") or "",
                 "raw_len": len(raw), "len": len(data), "lines": 0,
                 "port": self.client_address[1], "status": 0, "stored": 0}
        script = STATE["script"]
        if url.path == "/query":
            entry["body"] = urllib.parse.unquote_plus(data.decode())
            answer = script.get("query", {"status": 200, "body": {"results": [{"statement_id": 0}]}})
            entry["status"] = int(answer.get("status", 200))
            record(entry, [])
            self.answer(entry["status"], answer.get("body", ""), answer.get("headers"))
            return
        if url.path not in ("/write", "/api/v2/write"):
            record(entry, [])
            self.answer(404, {"error": "not found"})
            return
        lines = [l for l in data.decode().split("\n") if l]
        entry["lines"] = len(lines)
        with LOCK, open(ARGS.log + ".arrivals", "a", encoding="utf-8") as f:
            f.write("%f\n" % entry["t"])
        if script.get("auth") and self.headers.get("Authorization") != script["auth"]:
            entry["status"] = 401
            record(entry, [])
            self.answer(401, {"error": "authorization failed"})
            return
        if script.get("max_body") and len(data) > int(script["max_body"]):
            entry["status"] = 413
            record(entry, [])
            self.answer(413, {"error": "Request Entity Too Large"})
            return
        self.scripted(next_answer(), entry, lines)


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--script", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--store", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    ARGS = p.parse_args()
    with open(ARGS.script, encoding="utf-8") as f:
        load_script(json.load(f))
    for path in (ARGS.log, ARGS.log + ".arrivals", ARGS.log + ".pings", ARGS.store):
        open(path, "w", encoding="utf-8").close()
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    if ARGS.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, ARGS.port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
