#!/usr/bin/python3
"""Uploads beside everyone else's requests (found by attack, session 9).

An upload's checks (the guard's walk, Orthanc's parse of the file into
JSON, the de-identification check) ran under the plugin's one lock: a
valid file just under the guard's limits takes seconds to check, and
every request that needs the lock (an admin's, a sign-in's session, a
DICOMweb read's access check) waited for it. The test measures order,
never time: requests sent after the upload's body must be answered
before the upload is."""
import http.client
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import tempfile
import threading
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import ADMIN_PASSWORD, PHANTOM, Server, password_of  # noqa: E402


def port_in_range():
    """A free port of this suite's own, 18900-18999."""
    for port in range(18900, 19000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                pass
    raise RuntimeError("no free port in 18900-18999")


def element(group, elem, vr, value):
    """One data element, Explicit VR Little Endian."""
    if isinstance(value, str):
        value = value.encode()
    if len(value) % 2:
        value += b"\0" if vr == "UI" else b" "
    return struct.pack("<HH2sH", group, elem, vr.encode(), len(value)) + value


def slow_to_check(items=19999, removed="YES"):
    """A de-identified SR (Part 10, written by hand as PS3.10 lays it
    out) with a VOI LUT Sequence of @items items, one just under the
    guard's 20,000 items a sequence: valid, stored by Orthanc, and slow to
    turn into JSON (dcmtk walks the item list from its head per item).
    With @removed "NO" (Patient Identity Removed) it is refused after
    every check has run (422), before Orthanc stores anything."""
    sop = "2.25.%d" % uuid.uuid4().int
    meta = (struct.pack("<HH2sHI", 2, 1, b"OB", 0, 2) + b"\0\1" +
            element(2, 2, "UI", "1.2.840.10008.5.1.4.1.1.88.11") + element(2, 3, "UI", sop) +
            element(2, 0x10, "UI", "1.2.840.10008.1.2.1"))
    meta = element(2, 0, "UL", struct.pack("<I", len(meta))) + meta
    dataset = b"".join(element(g, e, vr, v) for g, e, vr, v in (
        (8, 0x16, "UI", "1.2.840.10008.5.1.4.1.1.88.11"), (8, 0x18, "UI", sop),
        (8, 0x60, "CS", "SR"), (0x10, 0x10, "PN", "N1"), (0x10, 0x20, "LO", "N1"),
        (0x12, 0x62, "CS", removed), (0x20, 0xd, "UI", "2.25.%d" % uuid.uuid4().int),
        (0x20, 0xe, "UI", "2.25.%d" % uuid.uuid4().int)))
    item = element(0x28, 0x3002, "US", struct.pack("<HHH", 0, 0, 8))
    item = struct.pack("<HHI", 0xfffe, 0xe000, len(item)) + item
    dataset += (struct.pack("<HH2sHI", 0x28, 0x3010, b"SQ", 0, 0xffffffff) + item * items +
                struct.pack("<HHI", 0xfffe, 0xe0dd, 0))
    return sop, b"\0" * 128 + b"DICM" + meta + dataset


class LocalServer(Server):
    def __init__(self, data):
        super().__init__(data)
        self.port = port_in_range()


class UploadLoadSuite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-upload-load-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = LocalServer(os.path.join(cls.tmp, "data"))
        os.makedirs(cls.server.data)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.tokens = {"admin": cls.server.login("admin", ADMIN_PASSWORD)}

        def call(method, path, body, expected):
            status, doc = cls.server.request(method, path, body, token=cls.tokens["admin"])
            assert status == expected, (method, path, status, doc)
            return doc
        for u in ("lsite", "lreader", "lsite2"):
            call("POST", "/readroom/v1/users", {"username": u, "password": password_of(u)}, 201)
        call("POST", "/readroom/v1/trials", {"id": "L1", "name": "L1", "qc_required": False}, 201)
        call("PUT", "/readroom/v1/trials/L1/members/lsite", {"roles": ["site"], "site": "S01"}, 200)
        call("PUT", "/readroom/v1/trials/L1/members/lreader", {"roles": ["reader"]}, 200)
        call("PUT", "/readroom/v1/trials/L1/members/lsite2", {"roles": ["site"], "site": "S02"},
             200)
        for u in ("lsite", "lreader", "lsite2"):
            cls.tokens[u] = cls.server.login(u, password_of(u))

    def req(self, method, path, who, body=None, **kw):
        return self.server.request(method, path, body, token=self.tokens[who], **kw)

    def orthanc_pid(self):
        """readroom-server's child: the Orthanc that holds the bodies."""
        pid = self.server.proc.pid
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            children = f.read().split()
        self.assertEqual(len(children), 1, children)
        return int(children[0])

    @staticmethod
    def rss_mib(pid, field="VmRSS"):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    @staticmethod
    def open_upload_files(pid):
        """The upload files Orthanc holds open (unlinked at once, so only
        its descriptors show them)."""
        found = []
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if "upload-tmp" in target:
                found.append(target)
        return found

    def upload_beside_others(self, body):
        """Sends @body as the site's upload, then a reader's worklist (a
        snapshot, never under the lock) and an admin's trial (under the
        lock), again and again until the upload is answered: the upload's
        status and answer, and the rounds that ended before it (at most
        5). With the checks under the lock, at most the round that began
        before the handler took it could end first."""
        sent = threading.Event()
        answered = threading.Event()
        result = {}

        def upload():
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=600)
            try:
                conn.request("POST", "/readroom/v1/instances", body=body, headers={
                    "Authorization": "Bearer " + self.tokens["lsite"],
                    "Content-Type": "application/dicom", "X-Readroom-Trial": "L1"})
                sent.set()
                r = conn.getresponse()
                result["status"] = r.status
                result["body"] = r.read()
            finally:
                sent.set()
                answered.set()
                conn.close()

        uploader = threading.Thread(target=upload)
        uploader.start()
        try:
            self.assertTrue(sent.wait(600))
            before = 0
            while not answered.is_set() and before < 5:
                status, tasks = self.req("GET", "/readroom/v1/tasks", "lreader")
                self.assertEqual(status, 200, tasks)
                status, trial = self.req("GET", "/readroom/v1/trials/L1", "admin")
                self.assertEqual((status, trial["id"]), (200, "L1"), trial)
                if not answered.is_set():
                    before += 1
        finally:
            uploader.join()
        return result.get("status"), result.get("body"), before

    def test_1_others_are_answered_while_an_upload_is_checked(self):
        # Refused once checked: its whole time is the checks.
        sop, body = slow_to_check(removed="NO")
        status, answer, before = self.upload_beside_others(body)
        self.assertEqual(status, 422, answer)
        self.assertIn(b"phi_present", answer)
        self.assertGreaterEqual(before, 3, "requests sent after the upload's body waited for "
                                "its checks")

    def test_2_a_valid_file_slow_to_check_is_stored(self):
        sop, body = slow_to_check()
        status, answer, before = self.upload_beside_others(body)
        self.assertEqual(status, 201, answer)
        # Checked and stored without the lock: the others went on.
        self.assertGreaterEqual(before, 3)
        status, events = self.req("GET", "/readroom/v1/audit?limit=1000", "admin")
        self.assertEqual(status, 200)
        self.assertEqual([e["user"] for e in events
                          if e["action"] == "instance.upload" and e["object"] == sop], ["lsite"])

    def phantom_files(self):
        out = os.path.join(self.tmp, "phantom")
        if not os.path.isdir(out):
            subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "4", "--size", "300",
                            "--seed", "41", "--patient-id", "L7"], check=True,
                           capture_output=True)
        files = sorted(os.path.join(root, n) for root, _, names in os.walk(out)
                       for n in names if not n.endswith(".txt"))
        self.assertEqual(len(files), 4)
        return files

    def send_chunked(self, body, piece=100000, token=None):
        """POST /instances with Transfer-Encoding: chunked: status, body."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=600) as s:
            s.sendall(("POST /readroom/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: application/dicom\r\n"
                       "X-Readroom-Trial: L1\r\nTransfer-Encoding: chunked\r\n\r\n"
                       % (token or self.tokens["lsite"])).encode())
            for k in range(0, len(body), piece):
                part = body[k:k + piece]
                s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
            s.sendall(b"0\r\n\r\n")
            return self.read_answer(s)

    def headers_only(self, token, length=None):
        """An upload's headers, none of its body (chunked, or @length
        announced): the answer, which must come before the body."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=60) as s:
            s.sendall(("POST /readroom/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: application/dicom\r\n"
                       "X-Readroom-Trial: L1\r\n%s\r\n\r\n"
                       % (token, "Content-Length: %d" % length if length is not None
                          else "Transfer-Encoding: chunked")).encode())
            return self.read_answer(s)

    @staticmethod
    def read_answer(s):
        r = http.client.HTTPResponse(s)
        r.begin()
        return r.status, r.read()

    def check_stored(self, body):
        """The last upload is @body, byte for byte, as the server serves it."""
        status, events = self.req("GET", "/readroom/v1/audit?limit=1000", "admin")
        sop = [e["object"] for e in events if e["action"] == "instance.upload"][-1]
        status, found = self.req("POST", "/tools/lookup", "admin", sop,
                                 headers={"Content-Type": "text/plain"})
        self.assertEqual((status, len(found)), (200, 1), found)
        status, headers, served = self.server.request(
            "GET", "/instances/%s/file" % found[0]["ID"], token=self.tokens["admin"], raw=True)
        self.assertEqual(status, 200)
        self.assertEqual(served, body)

    def test_3_uploads_are_stored_as_sent(self):
        """With a Content-Length (what the clients send) and chunked, in
        pieces that do not fall on the file's elements: what the server
        serves is what was sent, byte for byte."""
        files = self.phantom_files()
        for k, path in enumerate(files):
            with open(path, "rb") as f:
                body = f.read()
            self.assertGreater(len(body), 100000)
            if k % 2:
                status, answer = self.send_chunked(body, piece=65521)
            else:
                status, answer = self.req("POST", "/readroom/v1/instances", "lsite", body,
                                          headers={"X-Readroom-Trial": "L1"})
            self.assertEqual(status, 201, answer)
            self.check_stored(body)
        # Refusals answer as before: an empty body (either way), a file
        # with identifying attributes sent chunked.
        status, doc = self.req("POST", "/readroom/v1/instances", "lsite", b"",
                               headers={"X-Readroom-Trial": "L1"})
        self.assertEqual((status, doc["error"]["code"]), (400, "invalid_request"), doc)
        status, answer = self.send_chunked(b"")
        self.assertEqual(status, 400, answer)
        status, answer = self.send_chunked(slow_to_check(items=10, removed="NO")[1])
        self.assertEqual(status, 422, answer)
        self.assertIn(b"phi_present", answer)
        # Over 1 GiB with a length: refused before it is read.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=60) as s:
            s.sendall(("POST /readroom/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: application/dicom\r\n"
                       "Content-Length: %d\r\n\r\n" % (self.tokens["lsite"], (1 << 30) + 1))
                      .encode())
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 403"))
        # Chunked bodies go to the upload route only.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=60) as s:
            s.sendall(("POST /readroom/v1/trials HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n" % self.tokens["admin"]).encode())
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 403"))
        # The other methods of the route answer as before.
        self.assertEqual(self.req("GET", "/readroom/v1/instances", "lsite")[0], 404)
        self.assertEqual(self.req("PUT", "/readroom/v1/instances", "lsite", b"x",
                                  headers={"Content-Type": "application/dicom"})[0], 404)
        self.assertEqual(self.req("DELETE", "/readroom/v1/instances", "lsite")[0], 404)
        # Without a token: the usual 401 and nothing kept; a body over
        # 64 KiB is not even read (Orthanc's 401, without our document).
        status, doc = self.server.request("POST", "/readroom/v1/instances", body[:60000])
        self.assertEqual((status, doc["error"]["code"]), (401, "unauthenticated"), doc)
        status, doc = self.server.request("POST", "/readroom/v1/instances", body)
        self.assertEqual(status, 401, doc)
        # ... answered before any of it is sent.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=60) as s:
            s.sendall(("POST /readroom/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: application/dicom\r\n"
                       "Content-Length: %d\r\n\r\n" % ("0" * 64, 512 << 20)).encode())
            self.assertEqual(self.read_answer(s)[0], 401)
        # Chunked, with a token that is no session: answered before any of
        # the body is sent (it has no length to bound it), never read.
        self.assertEqual(self.headers_only(token="0" * 64)[0], 401)
        # A chunked body without any bearer token: the filter's 403.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=60) as s:
            s.sendall(b"POST /readroom/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/dicom\r\nTransfer-Encoding: chunked\r\n\r\n")
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 403"))

    def test_4_a_chunked_body_in_transit_is_not_held_in_memory(self):
        """Half of a large chunked upload sent, the client stops: Orthanc's
        memory did not grow by what was sent (it went to disk), and the
        file is let go when the connection drops."""
        orthanc = self.orthanc_pid()
        before = self.rss_mib(orthanc)
        piece = b"%x\r\n" % (1 << 20) + bytes(1 << 20) + b"\r\n"
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=120)
        try:
            s.sendall(("POST /readroom/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: application/dicom\r\n"
                       "X-Readroom-Trial: L1\r\nTransfer-Encoding: chunked\r\n\r\n"
                       % self.tokens["lsite"]).encode())
            for _ in range(256):
                s.sendall(piece)
            self.assertEqual(len(self.open_upload_files(orthanc)), 1)
            grown = self.rss_mib(orthanc) - before
            self.assertLess(grown, 64, "Orthanc grew by %.0f MiB for 256 MiB sent" % grown)
        finally:
            s.close()
        self.wait_no_upload_files(orthanc)
        self.assertEqual(os.listdir(os.path.join(self.server.data, "upload-tmp")), [])
        self.assertEqual(self.req("GET", "/readroom/v1/me", "lsite")[0], 200)

    def wait_no_upload_files(self, orthanc):
        """Each reader is finalized once Orthanc sees its connection gone."""
        for _ in range(600):
            if not self.open_upload_files(orthanc):
                break
            time.sleep(0.1)
        self.assertEqual(self.open_upload_files(orthanc), [])

    def start_held(self, length):
        """An upload announcing @length bytes with a Content-Length, 1 MiB
        of it sent and the rest held back; the socket."""
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=120)
        s.sendall(("POST /readroom/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Authorization: Bearer %s\r\nContent-Type: application/dicom\r\n"
                   "X-Readroom-Trial: L1\r\nContent-Length: %d\r\n\r\n"
                   % (self.tokens["lsite"], length)).encode() + bytes(1 << 20))
        return s

    def test_5_bodies_with_a_length_in_memory_are_bounded(self):
        """Orthanc reads a Content-Length body whole into memory: at most
        512 MiB of them at once (one alone always passes); past that the
        next is refused with 503 before it is read."""
        orthanc = self.orthanc_pid()
        held = self.start_held(300 << 20)
        try:
            for _ in range(600):
                if self.open_upload_files(orthanc):
                    break
                time.sleep(0.1)
            self.assertEqual(len(self.open_upload_files(orthanc)), 1)
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=60) as s:
                s.sendall(("POST /readroom/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Authorization: Bearer %s\r\nContent-Type: application/dicom\r\n"
                           "Content-Length: %d\r\n\r\n" % (self.tokens["lsite"], 300 << 20))
                          .encode())
                status, answer = self.read_answer(s)
            # Orthanc answers for a reader that refused: its status, no
            # document of ours (Orthanc 1.10 gives a reader no output).
            self.assertEqual(status, 503, answer)
            # Small files still fit beside it, and chunked ones take no
            # memory at all.
            with open(self.phantom_files()[0], "rb") as f:
                body = f.read()
            for _ in range(2):
                status, answer = self.req("POST", "/readroom/v1/instances", "lsite", body,
                                          headers={"X-Readroom-Trial": "L1"})
                self.assertEqual(status, 201, answer)
            status, answer = self.send_chunked(body)
            self.assertEqual(status, 201, answer)
        finally:
            held.close()
        # Let go: the next large one is read (its reader exists) again.
        self.wait_no_upload_files(orthanc)
        held = self.start_held(300 << 20)
        try:
            for _ in range(600):
                if self.open_upload_files(orthanc):
                    break
                time.sleep(0.1)
            self.assertEqual(len(self.open_upload_files(orthanc)), 1)
        finally:
            held.close()
        self.wait_no_upload_files(orthanc)

    def test_6_a_chunked_body_over_1_gib_is_413(self):
        """A chunked body has no length for the filter: its size is checked
        before each write, and past 1 GiB the rest is dropped, never
        held in memory (Orthanc's peak stays where it was)."""
        orthanc = self.orthanc_pid()
        peak = self.rss_mib(orthanc, "VmHWM")
        piece = b"%x\r\n" % (4 << 20) + bytes(4 << 20) + b"\r\n"
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=600) as s:
            s.sendall(("POST /readroom/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: application/dicom\r\n"
                       "X-Readroom-Trial: L1\r\nTransfer-Encoding: chunked\r\n\r\n"
                       % self.tokens["lsite"]).encode())
            for _ in range(257):
                s.sendall(piece)
            s.sendall(b"0\r\n\r\n")
            status, answer = self.read_answer(s)
        self.assertEqual(status, 413, answer)
        self.assertIn(b"too_large", answer)
        grown = self.rss_mib(orthanc, "VmHWM") - peak
        self.assertLess(grown, 256, "Orthanc's peak grew by %.0f MiB" % grown)
        self.wait_no_upload_files(orthanc)

    @staticmethod
    def file_sizes(orthanc):
        """The sizes of the upload files Orthanc holds open, smallest first."""
        sizes = []
        for fd in os.listdir("/proc/%d/fd" % orthanc):
            path = "/proc/%d/fd/%s" % (orthanc, fd)
            try:
                if "upload-tmp" in os.readlink(path):
                    sizes.append(os.stat(path).st_size)
            except OSError:
                continue
        return sorted(sizes)

    def test_7_only_uploaders_hold_the_budgets(self):
        """A reader (signed in, no site) is refused before the body is
        read: with a length over 64 KiB or chunked, at once (it holds none
        of the memory budget); a small body gets the handler's 403."""
        self.assertEqual(self.headers_only(self.tokens["lreader"], 300 << 20)[0], 403)
        self.assertEqual(self.headers_only(self.tokens["lreader"])[0], 403)
        status, doc = self.req("POST", "/readroom/v1/instances", "lreader", b"x" * 1000,
                               headers={"X-Readroom-Trial": "L1"})
        self.assertEqual((status, doc["error"]["code"]), (403, "forbidden"), doc)
        # The site's own large upload is still read: nobody else holds
        # the budget.
        orthanc = self.orthanc_pid()
        held = self.start_held(300 << 20)
        try:
            for _ in range(600):
                if self.open_upload_files(orthanc):
                    break
                time.sleep(0.1)
            self.assertEqual(len(self.open_upload_files(orthanc)), 1)
        finally:
            held.close()
        self.wait_no_upload_files(orthanc)

    def test_8_chunked_bodies_on_disk_are_bounded(self):
        """Chunked uploads in transit take at most 2 GiB of upload-tmp: two
        held at 1020 MiB each, a third is refused (503) once it passes
        the bound, never read to its end; released, the next is stored."""
        orthanc = self.orthanc_pid()
        piece = b"%x\r\n" % (4 << 20) + bytes(4 << 20) + b"\r\n"
        held = []
        try:
            for _ in range(2):
                s = socket.create_connection(("127.0.0.1", self.server.port), timeout=600)
                held.append(s)
                s.sendall(("POST /readroom/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Authorization: Bearer %s\r\nContent-Type: application/dicom\r\n"
                           "X-Readroom-Trial: L1\r\nTransfer-Encoding: chunked\r\n\r\n"
                           % self.tokens["lsite"]).encode())
                for _ in range(255):
                    s.sendall(piece)
            for _ in range(600):
                if self.file_sizes(orthanc) == [255 << 22] * 2:
                    break
                time.sleep(0.1)
            self.assertEqual(self.file_sizes(orthanc), [255 << 22] * 2)
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=600) as s:
                s.sendall(("POST /readroom/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Authorization: Bearer %s\r\nContent-Type: application/dicom\r\n"
                           "X-Readroom-Trial: L1\r\nTransfer-Encoding: chunked\r\n\r\n"
                           % self.tokens["lsite"]).encode())
                # 64 MiB where 8 MiB are left: refused part of the way
                # (Orthanc 1.10 reads the rest; none of it is written).
                for _ in range(16):
                    s.sendall(piece)
                s.sendall(b"0\r\n\r\n")
                status, answer = self.read_answer(s)
            self.assertEqual(status, 503, answer)
            self.assertIn(b"rate_limited", answer)
            self.assertLessEqual(max(self.file_sizes(orthanc)), 255 << 22)
        finally:
            for s in held:
                s.close()
        self.wait_no_upload_files(orthanc)
        with open(self.phantom_files()[0], "rb") as f:
            body = f.read()
        status, answer = self.send_chunked(body)
        self.assertEqual(status, 201, answer)

    def test_9_a_user_disabled_while_the_file_is_checked_stores_nothing(self):
        """The user is resolved again once the checks (run without the
        lock) are done: disabled meanwhile, the file is not stored."""
        token = self.server.login("lsite2", password_of("lsite2"))
        sop, body = slow_to_check()
        result = {}
        sent = threading.Event()

        def upload():
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=600)
            try:
                conn.request("POST", "/readroom/v1/instances", body=body, headers={
                    "Authorization": "Bearer " + token, "Content-Type": "application/dicom",
                    "X-Readroom-Trial": "L1"})
                sent.set()
                r = conn.getresponse()
                result["status"] = r.status
                result["body"] = r.read()
            finally:
                sent.set()
                conn.close()

        uploader = threading.Thread(target=upload)
        uploader.start()
        try:
            self.assertTrue(sent.wait(600))
            # The checks take seconds: two rounds of others' requests let
            # the handler reach them.
            for _ in range(2):
                self.assertEqual(self.req("GET", "/readroom/v1/trials/L1", "admin")[0], 200)
            status, doc = self.req("PUT", "/readroom/v1/users/lsite2", "admin", {"disabled": True})
            self.assertEqual(status, 200, doc)
        finally:
            uploader.join()
        self.assertEqual(result.get("status"), 401, result.get("body"))
        status, found = self.req("POST", "/tools/lookup", "admin", sop,
                                 headers={"Content-Type": "text/plain"})
        self.assertEqual((status, found), (200, []))


if __name__ == "__main__":
    unittest.main(verbosity=2)
