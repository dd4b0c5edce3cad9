"""A fault-injecting HTTP proxy for the sync tests, on 127.0.0.1 only.

It forwards every request to the real server and logs it (method, path,
Range, status, bytes passed on); rules picked by method and path make it
answer 500 or 503 itself, reset the connection, or alter a byte of the
body on its way. Used as:

    proxy = FaultProxy(server_port)
    proxy.start()
    proxy.add(Rule("GET", r"/file$", status=503, times=None))
    ...
    proxy.stop()
"""
import http.client
import http.server
import re
import socket
import struct
import sys
import threading
import time


class Rule:
    """What to do with requests whose method and path match: answer
    @status (with the contract's error JSON, 503 being rate_limited), reset
    the connection (@reset), or pass it on with one byte of the body
    flipped at @corrupt_at, or pass it on and hold the answer back for
@delay seconds (the server has acted; the client waits). @times: how many requests it applies to (None:
    all)."""

    def __init__(self, method, pattern, status=None, reset=False, corrupt_at=None, delay=None,
                 times=1):
        self.method = method
        self.pattern = re.compile(pattern)
        self.status = status
        self.reset = reset
        self.corrupt_at = corrupt_at
        self.delay = delay
        self.times = times
        self.hits = 0

    def take(self, method, path):
        if self.method not in (None, method) or not self.pattern.search(path):
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        self.hits += 1
        return True


class FaultProxy:
    def __init__(self, backend_port):
        self.backend_port = backend_port
        self.rules = []
        self.log = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                rule = proxy.pick(self.command, self.path)
                entry = {"method": self.command, "path": self.path,
                         "range": self.headers.get("Range"), "status": None, "sent": 0,
                         "rule": rule}
                with proxy.lock:
                    proxy.log.append(entry)
                if rule is not None and rule.reset:
                    # An RST, not a clean close: what a dying server or a
                    # middlebox does.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.close_connection = True
                    entry["status"] = "reset"
                    return
                if rule is not None and rule.status:
                    code = {500: "internal", 502: "bad_gateway",
                            503: "rate_limited"}.get(rule.status, "error")
                    data = ('{"error": {"code": "%s", "message": "injected by the test proxy",'
                            ' "details": []}}' % code).encode()
                    self.send_response(rule.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    entry["status"] = rule.status
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection", "proxy-connection")}
                conn = http.client.HTTPConnection("127.0.0.1", proxy.backend_port, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    r = conn.getresponse()
                    self.send_response(r.status)
                    for k, v in r.getheaders():
                        if k.lower() not in ("connection", "keep-alive", "transfer-encoding"):
                            self.send_header(k, v)
                    data = r.read()
                    entry["status"] = r.status
                    if rule is not None and rule.delay:
                        time.sleep(rule.delay)
                    if "content-length" not in (k.lower() for k, _ in r.getheaders()):
                        self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if rule is not None and rule.corrupt_at is not None and \
                            len(data) > rule.corrupt_at:
                        data = bytearray(data)
                        data[rule.corrupt_at] ^= 0xFF
                        data = bytes(data)
                        entry["corrupted"] = True
                    self.wfile.write(data)
                    entry["sent"] = len(data)
                finally:
                    conn.close()

            def do_GET(self):
                self.handle_one()

            do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                # A client killed mid-answer (the tests do it on purpose)
                # is not the proxy's error.
                if not isinstance(sys.exc_info()[1], OSError):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = None

    def pick(self, method, path):
        with self.lock:
            for rule in self.rules:
                if rule.take(method, path):
                    return rule
        return None

    def add(self, rule):
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self):
        with self.lock:
            self.rules = []
            self.log = []

    def requests(self, pattern=None, method=None):
        with self.lock:
            return [e for e in self.log if (method is None or e["method"] == method) and
                    (pattern is None or re.search(pattern, e["path"]))]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread:
            self.thread.join(5)
