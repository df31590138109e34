#!/usr/bin/env python3
"""A recording HTTP/1.1 backend on a Unix socket, for tests/ipchttpgate.rs.

backend.py SOCKET LOG: serve SOCKET, append every request it reads whole to LOG (and
echo the same record as the response body), as lines:

    REQUEST <conn> <method> <path>
    H <name>: <value>          (each header field, in order)
    BODY <length> <sha256> <length|chunked>
    END

<conn> numbers the connections, so a test can tell that requests shared one. Paths:
/upgrade answers 101 and echoes raw bytes until end of input; /chunked answers with a
chunked body; /close answers with Connection: close. Prints "ready" once listening.
"""
import hashlib
import http.server
import itertools
import os
import socket
import socketserver
import sys
import threading

SOCK, LOG = sys.argv[1], sys.argv[2]
lock = threading.Lock()
conns = itertools.count(1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.conn_id = next(conns)

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body, "chunked"
                body += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n), "length"

    def record(self, body, framing):
        lines = [f"REQUEST {self.conn_id} {self.command} {self.path}"]
        lines += [f"H {k}: {v}" for k, v in self.headers.items()]
        lines.append(f"BODY {len(body)} {hashlib.sha256(body).hexdigest()} {framing}")
        lines.append("END")
        text = "\n".join(lines) + "\n"
        with lock, open(LOG, "a") as f:
            f.write(text)
        return text.encode()

    def handle_any(self):
        body, framing = self.read_body()
        out = self.record(body, framing)
        if self.path.startswith("/upgrade"):
            return self.upgrade()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if self.path.startswith("/close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        if self.path.startswith("/chunked"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if self.command != "HEAD":
                for i in range(0, len(out), 7):
                    piece = out[i:i + 7]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any

    def upgrade(self):
        self.send_response(101, "UPGRADED")
        self.send_header("Connection", "Upgrade")
        self.send_header("Upgrade", "tcp")
        self.end_headers()
        while True:
            data = self.rfile.read1(65536)
            if not data:
                break
            self.wfile.write(data)
        self.connection.shutdown(socket.SHUT_WR)
        self.close_connection = True


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(SOCK):
    os.unlink(SOCK)
srv = Server(SOCK, Handler)
print("ready", flush=True)
srv.serve_forever()
