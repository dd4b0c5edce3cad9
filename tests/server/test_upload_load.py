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
import sys
import tempfile
import threading
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import ADMIN_PASSWORD, Server, password_of  # noqa: E402


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
        for u in ("lsite", "lreader"):
            call("POST", "/readroom/v1/users", {"username": u, "password": password_of(u)}, 201)
        call("POST", "/readroom/v1/trials", {"id": "L1", "name": "L1", "qc_required": False}, 201)
        call("PUT", "/readroom/v1/trials/L1/members/lsite", {"roles": ["site"], "site": "S01"}, 200)
        call("PUT", "/readroom/v1/trials/L1/members/lreader", {"roles": ["reader"]}, 200)
        for u in ("lsite", "lreader"):
            cls.tokens[u] = cls.server.login(u, password_of(u))

    def req(self, method, path, who, body=None, **kw):
        return self.server.request(method, path, body, token=self.tokens[who], **kw)

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


if __name__ == "__main__":
    unittest.main(verbosity=2)
