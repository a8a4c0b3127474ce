#!/usr/bin/python3
"""drive_server.py — a local stand-in for Google Drive, for the roster
import tests (Python stdlib only).

    /usr/bin/python3 tests/drive_server.py FILES_DIR [--lifetime SECONDS] [--latency SECONDS]

Listens on 127.0.0.1 on a free port and prints that port on the first line
of stdout. Exits when stdin closes (the test that started it died), on
SIGTERM, or after --lifetime seconds (default 120), whichever comes first.

Requests look like Drive's: /uc?export=download&id=ID. The ID starts with a
behaviour, then "-" and anything (so every test row gets its own counters):
  direct    200 image/jpeg; bytes made unique per ID (a JPEG comment)
  same      200 image/jpeg; identical bytes for every ID (duplicate photo)
  png, heic, gif, tiny      FILES_DIR/photo.png, photo.heic, anim.gif, tiny.jpg
  corrupt   200 image/jpeg: a JPEG header, then garbage
  redirect  303 -> 302 -> 307 -> the photo
  loop      redirects forever
  confirm   Drive's "can't scan for viruses" page; its form leads to the photo
  private   302 to a sign-in page (HTML)
  missing   404
  r429      429 the first time, then the photo
  r500      500 three times, then the photo
  slow      Content-Length set, one byte every 0.3 s: never finishes in time
  drop      half the photo then the connection is cut; honours Range after
  big       Content-Length of 30 MB (over any test limit)
  bigstream 30 MB with no Content-Length (the cap must hold while streaming)
  htmljpeg  an HTML page sent as Content-Type: image/jpeg
Also /photos/NAME serves FILES_DIR/NAME (plain image URLs), and
/stats?id=ID answers "hits=N ranges=R" so tests can see retries and resumes.
"""
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

FILES = sys.argv[1] if len(sys.argv) > 1 else "."
LIFETIME = 120.0
if "--lifetime" in sys.argv:
    LIFETIME = float(sys.argv[sys.argv.index("--lifetime") + 1])
LATENCY = 0.0  # seconds added before every answer, like a real network
if "--latency" in sys.argv:
    LATENCY = float(sys.argv[sys.argv.index("--latency") + 1])

hits = {}
ranges = {}
lock = threading.Lock()

SIGNIN = (b"<!DOCTYPE html><html><head><title>Google Drive: Sign-in</title></head><body>"
          b"<a href=\"https://accounts.google.com/ServiceLogin?continue=x\">Sign in</a></body></html>")
OTHER_HTML = b"<!DOCTYPE html><html><body><h1>Hola</h1><p>Esta no es una foto.</p></body></html>"


def read(name):
    with open(os.path.join(FILES, name), "rb") as f:
        return f.read()


def unique_jpeg(ident):
    """The test photo with a COM segment naming the ID: different bytes per ID."""
    data = read("photo.jpg")
    text = ident.encode()
    seg = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    return data[:2] + seg + data[2:]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: without this, Nagle
        # plus the client's delayed ACK add 40 ms to every response
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="image/jpeg", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, code, where):
        self.send_response(code)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def photo(self, ident, body=None):
        body = body if body is not None else unique_jpeg(ident)
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0] or 0)
            if start >= len(body):
                self.send(416, b"", "text/plain", {"Content-Range": "bytes */%d" % len(body)})
                return
            part = body[start:]
            self.send(206, part, "image/jpeg",
                      {"Content-Range": "bytes %d-%d/%d" % (start, len(body) - 1, len(body))})
            return
        self.send(200, body)

    def do_GET(self):
        if LATENCY:
            time.sleep(LATENCY)
        u = urlparse(self.path)
        q = parse_qs(u.query)
        ident = (q.get("id") or [""])[0]
        if u.path.startswith("/photos/"):
            name = os.path.basename(u.path)
            try:
                return self.send(200, read(name))
            except OSError:
                return self.send(404, b"no such photo", "text/plain")
        if u.path == "/stats":
            with lock:
                body = ("hits=%d ranges=%d" % (hits.get(ident, 0), ranges.get(ident, 0))).encode()
            return self.send(200, body, "text/plain")
        with lock:
            n = hits[ident] = hits.get(ident, 0) + 1
            if self.headers.get("Range"):
                ranges[ident] = ranges.get(ident, 0) + 1
        kind = ident.split("-")[0]
        port = self.server.server_address[1]
        if u.path in ("/file", "/download") or (u.path.startswith("/r/") and kind != "loop"):
            if u.path.startswith("/r/"):
                step = int(u.path[3:])
                codes = {1: 302, 2: 307}
                if step in codes:
                    return self.redirect(codes[step], "/r/%d?id=%s" % (step + 1, ident) if step == 1
                                         else "http://127.0.0.1:%d/file?id=%s" % (port, ident))
            if u.path == "/download" and (q.get("confirm") or [""])[0] != "t":
                return self.send(400, b"missing confirm", "text/plain")
            return self.photo(ident)
        if u.path.startswith("/r/") and kind == "loop":
            return self.redirect(302, "/r/%d?id=%s" % (int(u.path[3:]) + 1, ident))
        if u.path == "/ServiceLogin":
            return self.send(200, SIGNIN, "text/html; charset=utf-8")
        if u.path != "/uc":
            return self.send(404, b"not found", "text/plain")
        return self.behave(kind, ident, n, port)

    def behave(self, kind, ident, n, port):
        if kind == "direct":
            return self.photo(ident)
        if kind == "same":
            return self.photo(ident, read("photo.jpg"))
        if kind in ("png", "heic", "gif", "tiny"):
            name = {"png": "photo.png", "heic": "photo.heic", "gif": "anim.gif", "tiny": "tiny.jpg"}[kind]
            return self.send(200, read(name), "application/octet-stream")
        if kind == "corrupt":
            return self.send(200, read("photo.jpg")[:200] + b"\x00garbage" * 500)
        if kind in ("redirect", "loop"):
            return self.redirect(303, "/r/1?id=%s" % ident)
        if kind == "confirm":
            page = ('<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>'
                    '<p>Google Drive can\'t scan this file for viruses.</p>'
                    '<form id="download-form" action="http://127.0.0.1:%d/download" method="get">'
                    '<input type="submit" id="uc-download-link" value="Download anyway"/>'
                    '<input type="hidden" name="id" value="%s"><input type="hidden" name="export" value="download">'
                    '<input type="hidden" name="confirm" value="t"><input type="hidden" name="uuid" value="0f3a-77">'
                    '</form></body></html>') % (port, ident)
            return self.send(200, page.encode(), "text/html; charset=utf-8")
        if kind == "private":
            return self.redirect(302, "/ServiceLogin?continue=%s" % ident)
        if kind == "missing":
            return self.send(404, b"<html>404</html>", "text/html")
        if kind == "r429":
            return self.send(429, b"slow down", "text/plain") if n == 1 else self.photo(ident)
        if kind == "r500":
            return self.send(500, b"oops", "text/plain") if n <= 3 else self.photo(ident)
        if kind == "slow":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(400):
                    self.wfile.write(b"\xff")
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass
            self.close_connection = True
            return
        if kind == "drop":
            body = unique_jpeg(ident)
            if self.headers.get("Range"):
                return self.photo(ident)
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if kind == "big":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(30 << 20))
            self.end_headers()
            try:
                self.wfile.write(read("photo.jpg")[:4096])
            except OSError:
                pass
            self.close_connection = True
            return
        if kind == "bigstream":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            chunk = read("photo.jpg") + b"\0" * 65536
            try:
                for _ in range((30 << 20) // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        if kind == "htmljpeg":
            return self.send(200, OTHER_HTML, "image/jpeg")
        return self.send(404, b"unknown behaviour", "text/plain")


class Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default 5 refuses parallel clients
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)

    def stop(*_):
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    threading.Timer(LIFETIME, stop).start()

    def watch_stdin():
        try:
            sys.stdin.read()
        finally:
            stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
