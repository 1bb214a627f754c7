#!/usr/bin/env python3
"""Small HTTP peers on 127.0.0.1 for credkit's network tests.

    net_peer.py MODE [LOGFILE]

Prints the port it listens on as the first line of stdout, then serves until
killed (or for at most 120 s). Modes:

- token:    every POST gets a small token answer; GET of a
            /.well-known/... path gets metadata naming this server.
- endless:  every request gets 200 and a body that never ends (no length).
- redirect: every request gets 302 to http://127.0.0.1:<port>/elsewhere.
- proxy:    a stand-in for the outside world's proxy: appends every request
            line and body it receives to LOGFILE, and answers 502.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[1]
LOG = sys.argv[2] if len(sys.argv) > 2 else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, data, ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        port = self.server.server_address[1]
        if MODE == "proxy":
            body = self.body()
            with open(LOG, "ab") as f:
                f.write(self.requestline.encode() + b"\n" + body + b"\n")
            self.send(502, b"proxy says no", "text/plain")
        elif MODE == "token":
            self.body()
            if self.command == "GET" and "/.well-known/" in self.path:
                me = f"http://127.0.0.1:{port}"
                doc = {"issuer": me + "/", "token_endpoint": me + "/token"}
                self.send(200, json.dumps(doc).encode())
            else:
                tok = {"access_token": "net-peer-token", "token_type": "Bearer", "expires_in": 60}
                self.send(200, json.dumps(tok).encode())
        elif MODE == "endless":
            self.body()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            chunk = b"[" * 65536
            try:
                while True:
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif MODE == "redirect":
            self.body()
            loc = f"http://127.0.0.1:{port}/elsewhere"
            self.send(302, b"", "text/plain", [("Location", loc)])

    do_GET = handle_any
    do_POST = handle_any
    do_CONNECT = handle_any


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    threading.Timer(120, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
