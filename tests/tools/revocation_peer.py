#!/usr/bin/env python3
"""The HTTP side of the revocation tests (tests/it/revocation.rs), on 127.0.0.1.

    revocation_peer.py DIR

Prints the port it listens on, then serves:
- GET /NAME: the file DIR/NAME (a CRL, a CA certificate), as it is;
- POST /ROUTE: an OCSP request, forwarded to the `openssl ocsp` responder
  that DIR/routes.json names for ROUTE ({"ocsp": {"port": 1234}}); with
  "tamper": true, the last byte of the answer (the end of the signature, as
  the responders run with -resp_no_certs) is flipped.

routes.json is read on every request, so the responders can start after the
certificates naming this server's port are issued.
"""
import http.client
import http.server
import json
import os
import sys
import threading

DIR = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="application/octet-stream"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        name = os.path.basename(self.path.lstrip("/"))
        path = os.path.join(DIR, name)
        if not name or not os.path.isfile(path):
            self.reply(404, b"not found", "text/plain")
            return
        with open(path, "rb") as f:
            self.reply(200, f.read(), "application/pkix-crl")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(os.path.join(DIR, "routes.json")) as f:
            routes = json.load(f)
        route = routes.get(self.path.strip("/"))
        if route is None:
            self.reply(404, b"no such responder", "text/plain")
            return
        conn = http.client.HTTPConnection("127.0.0.1", route["port"], timeout=10)
        conn.request("POST", "/", body, {"Content-Type": "application/ocsp-request"})
        answer = conn.getresponse().read()
        conn.close()
        if route.get("tamper") and answer:
            answer = answer[:-1] + bytes([answer[-1] ^ 0x01])
        self.reply(200, answer, "application/ocsp-response")


# Never outlive a test run by much, even if the test is killed.
threading.Timer(300, lambda: os._exit(0)).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
