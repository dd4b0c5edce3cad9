#!/usr/bin/python3
"""readroom-cli and readroom-phantom on real files: broken input gives exit 1
and one line naming the file; pydicom's test files load or fail cleanly;
phantom files pass dciodvfy; info --json matches the contract."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
PYDICOM = os.environ.get("PYDICOM_DATA", "/usr/lib/python3/dist-packages/pydicom/data")


def run(args, timeout=60):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-cli-")
        cls.ct = os.path.join(cls.tmp, "ct")
        r = run([PHANTOM, cls.ct, "--size", "96", "--pixel-spacing", "3.5",
                 "--slices", "12", "--noise", "0"])
        assert r.returncode == 0, r.stderr
        cls.files = sorted(os.path.join(cls.ct, f) for f in os.listdir(cls.ct))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)


class BrokenInput(Base):
    def broken(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def assert_clean_failure(self, path, command=("info",)):
        r = run([CLI, *command, path])
        self.assertEqual(r.returncode, 1, f"{path}: {r.returncode} {r.stderr}")
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(path, lines[0])

    def original(self):
        with open(self.files[0], "rb") as f:
            return f.read()

    def test_truncated_header(self):
        p = self.broken("trunc-header.dcm", self.original()[:300])
        self.assert_clean_failure(p)
        self.assert_clean_failure(p, ("bench", "load"))

    def test_truncated_pixels(self):
        p = self.broken("trunc-pixels.dcm", self.original()[:-5000])
        self.assert_clean_failure(p)
        self.assert_clean_failure(p, ("bench", "load"))

    def test_random_bytes(self):
        rnd = random.Random(7)
        for i in range(20):
            data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 20000)))
            p = self.broken(f"random-{i}.dcm", data)
            self.assert_clean_failure(p)

    def test_random_after_preamble(self):
        rnd = random.Random(11)
        for i in range(20):
            data = b"\0" * 128 + b"DICM" + bytes(rnd.getrandbits(8) for _ in range(4000))
            p = self.broken(f"random-dicm-{i}.dcm", data)
            self.assert_clean_failure(p)

    def patched(self, name, tag_bytes, new_value):
        data = bytearray(self.original())
        pos = data.find(tag_bytes)
        self.assertGreater(pos, 0)
        # explicit VR little endian: tag(4) VR(2) len(2) value
        data[pos + 8:pos + 8 + len(new_value)] = new_value
        return self.broken(name, bytes(data))

    def test_header_element_that_lies_about_its_length(self):
        """A private OB element in the header claims 3.75 GiB: a clean failure,
        and nothing of that size is allocated (malloc perturbation would touch
        every page of an allocation, so its size shows in the peak RSS)."""
        data = bytearray(self.original())
        pos = data.find(b"\x10\x00\x10\x00PN")
        self.assertGreater(pos, 0)
        private = (b"\x09\x00\x10\x00LO\x02\x00RR" +
                   b"\x09\x00\x01\x10OB\x00\x00" + (0xF0000000).to_bytes(4, "little") +
                   b"\x00" * 16)
        p = self.broken("lying-length.dcm", bytes(data[:pos]) + private + bytes(data[pos:]))
        for command in (("info",), ("bench", "load")):
            with tempfile.TemporaryFile("w+") as err:
                proc = subprocess.Popen([CLI, *command, p], stdout=subprocess.DEVNULL,
                                        stderr=err, env=dict(os.environ, MALLOC_PERTURB_="165"))
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                err.seek(0)
                text = err.read()
            self.assertEqual(proc.returncode, 1, text)
            self.assertEqual(len(text.strip().splitlines()), 1, text)
            self.assertIn(p, text)
            self.assertLess(usage.ru_maxrss * 1024, 256 << 20, command)

    def test_rows_larger_than_pixel_data(self):
        p = self.patched("big-rows.dcm", b"\x28\x00\x10\x00US", (1024).to_bytes(2, "little"))
        self.assert_clean_failure(p)

    def test_bits_allocated_13(self):
        p = self.patched("bits13.dcm", b"\x28\x00\x00\x01US", (13).to_bytes(2, "little"))
        self.assert_clean_failure(p)

    def test_corrupt_compressed_stream(self):
        for ts in ("jpeg-ls", "j2k", "rle", "jpeg-lossless"):
            d = os.path.join(self.tmp, "corrupt-" + ts)
            r = run([PHANTOM, d, "--size", "64", "--slices", "1", "--transfer-syntax", ts])
            self.assertEqual(r.returncode, 0, r.stderr)
            f = os.path.join(d, os.listdir(d)[0])
            data = bytearray(open(f, "rb").read())
            # scribble over the middle of the compressed stream
            mid = len(data) - 1500
            for i in range(mid, mid + 400):
                data[i] = (data[i] * 7 + 13) & 0xFF
            open(f, "wb").write(bytes(data))
            r = run([CLI, "bench", "load", f])
            self.assertIn(r.returncode, (0, 1), f"{ts}: {r.returncode} {r.stderr}")
            if r.returncode == 1:
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_folder_with_some_unreadable(self):
        d = os.path.join(self.tmp, "mixed")
        shutil.copytree(self.ct, d)
        with open(os.path.join(d, "notes.txt"), "w") as f:
            f.write("not dicom\n")
        r = run([CLI, "info", "--json", d])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(len(out["studies"]), 1)
        self.assertEqual(len(out["unreadable"]), 1)
        self.assertTrue(out["unreadable"][0]["path"].endswith("notes.txt"))

    def test_usage_errors(self):
        self.assertEqual(run([CLI]).returncode, 2)
        self.assertEqual(run([CLI, "frobnicate"]).returncode, 2)
        self.assertEqual(run([CLI, "info"]).returncode, 2)
        self.assertEqual(run([CLI, "info", "--bogus", self.ct]).returncode, 2)
        self.assertEqual(run([CLI, "info", "/nonexistent/path"]).returncode, 1)


class InfoContract(Base):
    def test_info_json(self):
        r = run([CLI, "info", "--json", self.ct])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["unreadable"], [])
        st = out["studies"][0]
        self.assertEqual(set(st), {"study_uid", "patient_id", "study_date", "series"})
        se = st["series"][0]
        self.assertEqual(set(se), {"series_uid", "modality", "description", "rows", "columns",
                                   "slices", "frames", "pixel_spacing_mm", "slice_spacing_mm",
                                   "slice_thickness_mm", "orientation", "origin_mm",
                                   "transfer_syntaxes", "problems"})
        self.assertEqual(se["modality"], "CT")
        self.assertEqual((se["rows"], se["columns"], se["slices"], se["frames"]), (96, 96, 12, 12))
        self.assertEqual(se["pixel_spacing_mm"], [3.5, 3.5])
        self.assertAlmostEqual(se["slice_spacing_mm"], 2.5)
        self.assertEqual(se["orientation"], [1, 0, 0, 0, 1, 0])
        # first voxel after sorting: centre minus half the field, lowest z
        self.assertAlmostEqual(se["origin_mm"][0], -(95 / 2) * 3.5, places=3)
        self.assertAlmostEqual(se["origin_mm"][2], -(11 / 2) * 2.5, places=3)
        self.assertEqual(se["transfer_syntaxes"], ["1.2.840.10008.1.2.1"])
        self.assertEqual(se["problems"], [])

    def test_info_problems(self):
        d = os.path.join(self.tmp, "gappy")
        run([PHANTOM, d, "--size", "64", "--slices", "15", "--missing-slice", "6", "--shuffle"])
        se = json.loads(run([CLI, "info", "--json", d]).stdout)["studies"][0]["series"][0]
        self.assertEqual([p["code"] for p in se["problems"]], ["missing_slices"])
        self.assertEqual(se["slices"], 15)
        self.assertEqual(se["frames"], 14)
        d = os.path.join(self.tmp, "uneven")
        run([PHANTOM, d, "--size", "64", "--slices", "15", "--uneven", "9,1.2"])
        se = json.loads(run([CLI, "info", "--json", d]).stdout)["studies"][0]["series"][0]
        self.assertEqual([p["code"] for p in se["problems"]], ["uneven_spacing"])

    def test_missing_slice_at_one_timepoint(self):
        # The demo's subject 002 loses a slice at follow-up only: the
        # baseline is whole, so QC has one real finding to make.
        d = os.path.join(self.tmp, "lost-at-fu")
        r = run([PHANTOM, d, "--size", "64", "--slices", "15", "--timepoints", "2",
                 "--missing-slice", "6", "--missing-at", "1"])
        self.assertEqual(r.returncode, 0, r.stderr)
        base = json.loads(run([CLI, "info", "--json", os.path.join(d, "tp00")]).stdout)
        fu = json.loads(run([CLI, "info", "--json", os.path.join(d, "tp01")]).stdout)
        base, fu = base["studies"][0]["series"][0], fu["studies"][0]["series"][0]
        self.assertEqual((base["frames"], base["problems"]), (15, []))
        self.assertEqual(fu["frames"], 14)
        self.assertEqual([p["code"] for p in fu["problems"]], ["missing_slices"])
        self.assertEqual(len(os.listdir(os.path.join(d, "tp00"))), 15)
        self.assertEqual(len(os.listdir(os.path.join(d, "tp01"))), 14)
        # A timepoint that is not written is refused, not ignored.
        r = subprocess.run([PHANTOM, os.path.join(self.tmp, "bad"), "--timepoints", "2",
                            "--missing-slice", "6", "--missing-at", "2"], capture_output=True)
        self.assertNotEqual(r.returncode, 0)

    def test_non_image_objects_listed(self):
        d = os.path.join(self.tmp, "with-sr")
        shutil.copytree(self.ct, d)
        shutil.copy(os.path.join(PYDICOM, "test_files", "test-SR.dcm"), d)
        r = run([CLI, "info", "--json", d])
        self.assertEqual(r.returncode, 0, r.stderr)
        series = [se for st in json.loads(r.stdout)["studies"] for se in st["series"]]
        sr = [se for se in series if se["modality"] == "SR"]
        self.assertEqual(len(sr), 1)
        self.assertEqual(sr[0]["slices"], 0)
        self.assertEqual(sr[0]["frames"], 1)
        self.assertEqual([p["code"] for p in sr[0]["problems"]], ["not_an_image"])
        ct = [se for se in series if se["modality"] == "CT"]
        self.assertEqual(ct[0]["slices"], 12)

    def test_dicomdir(self):
        d = os.path.join(self.tmp, "media")
        os.makedirs(os.path.join(d, "IMAGES"))
        for i, f in enumerate(self.files[:5]):
            shutil.copy(f, os.path.join(d, "IMAGES", f"IM{i}"))
        r = subprocess.run(["dcmmkdir", "--general-purpose", "+r", "--input-directory", d,
                            "--output-file", os.path.join(d, "DICOMDIR"), "IMAGES"],
                           capture_output=True, text=True, cwd=d)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run([CLI, "info", "--json", os.path.join(d, "DICOMDIR")])
        self.assertEqual(r.returncode, 0, r.stderr)
        se = json.loads(r.stdout)["studies"][0]["series"][0]
        self.assertEqual(se["slices"], 5)


class Phantom(Base):
    def test_dciodvfy(self):
        d = os.path.join(self.tmp, "all")
        r = run([PHANTOM, d, "--kind", "ct,pet,mr", "--size", "64", "--slices", "3"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for kind in ("ct", "pet", "mr"):
            for f in sorted(os.listdir(os.path.join(d, kind))):
                r = run(["dciodvfy", os.path.join(d, kind, f)])
                errors = [l for l in (r.stdout + r.stderr).splitlines() if "Error" in l]
                self.assertEqual(errors, [], f"{kind}/{f}")

    def test_dciodvfy_every_syntax(self):
        for ts in ("implicit", "big-endian", "jpeg-lossless", "jpeg-ls", "j2k", "rle",
                   "jpeg-extended"):
            d = os.path.join(self.tmp, "v-" + ts)
            r = run([PHANTOM, d, "--size", "64", "--slices", "1", "--transfer-syntax", ts])
            self.assertEqual(r.returncode, 0, r.stderr)
            f = os.path.join(d, os.listdir(d)[0])
            r = run(["dciodvfy", f])
            errors = [l for l in (r.stdout + r.stderr).splitlines() if "Error" in l]
            self.assertEqual(errors, [], ts)

    def test_timepoints(self):
        d = os.path.join(self.tmp, "tps")
        truth = os.path.join(self.tmp, "truth.json")
        r = run([PHANTOM, d, "--size", "64", "--slices", "4", "--timepoints", "3",
                 "--change", "-20", "--truth", truth])
        self.assertEqual(r.returncode, 0, r.stderr)
        t = json.load(open(truth))
        self.assertEqual(len(t), 3)
        d0 = t[0]["truth"]["lesions"][0]["diameter_mm"]
        d2 = t[2]["truth"]["lesions"][0]["diameter_mm"]
        self.assertAlmostEqual(d2, d0 * 0.64)
        self.assertEqual(t[1]["study_date"], "20260302")
        out = json.loads(run([CLI, "info", "--json", d]).stdout)
        self.assertEqual(len(out["studies"]), 3)

    def test_j2k_large_frame_on_every_core(self):
        # One 1024x1024 frame: the loader gives the cores to OpenJPEG inside
        # the frame. Lossless, so the view must equal the uncompressed one.
        from PIL import Image
        pngs = []
        for ts in ("explicit", "j2k"):
            d = os.path.join(self.tmp, "large-" + ts)
            r = run([PHANTOM, d, "--size", "1024", "--slices", "1", "--noise", "20",
                     "--transfer-syntax", ts])
            self.assertEqual(r.returncode, 0, r.stderr)
            png = os.path.join(self.tmp, ts + ".png")
            r = run([CLI, "render", d, "--plane", "axial", "--size", "1024,1024",
                     "--wl", "0,2000", "-o", png])
            self.assertEqual(r.returncode, 0, r.stderr)
            pngs.append(Image.open(png).convert("L").tobytes())
        self.assertEqual(len(pngs[0]), 1024 * 1024)
        self.assertGreater(len(set(pngs[0])), 50)  # the noise shows: not a flat image
        self.assertEqual(pngs[0], pngs[1])

    def test_bench_reslice(self):
        # The fast and the reference reslicer on the same planes of a real
        # series: the same pixels inside, the same mean of the first frame.
        out = {}
        for extra in ([], ["--reference"]):
            r = run([CLI, "bench", "reslice", "--json", "--seconds", "0.2", "--threads", "2"]
                    + extra + [self.ct])
            self.assertEqual(r.returncode, 0, r.stderr)
            j = json.loads(r.stdout)
            out[j["reslicer"]] = j
            self.assertEqual(j["dims"], [96, 96, 12])
            self.assertGreaterEqual(j["frames"], 1)
            self.assertGreater(j["fps"], 0)
            self.assertEqual(j["threads"], 2)
            # The plane's pixel is a 512th of the volume's width: 96 x 3.5 mm.
            self.assertAlmostEqual(j["mm_per_pixel"], 96 * 3.5 / 512, places=6)
        self.assertGreater(out["fast"]["frame0_inside"], 1000)
        self.assertEqual(out["fast"]["frame0_inside"], out["reference"]["frame0_inside"])
        self.assertAlmostEqual(out["fast"]["frame0_mean"], out["reference"]["frame0_mean"],
                               delta=0.01)
        r = run([CLI, "bench", "reslice", "--seconds", "0", self.ct])
        self.assertEqual(r.returncode, 2, r.stderr)


class Criteria(unittest.TestCase):
    READ = {
        "criteria": "recist1.1",
        "options": {"sd_min_days": 42, "confirmation": False},
        "timepoints": [{"id": "BL", "day": 0}, {"id": "FU1", "day": 56}],
        "target_lesions": [
            {"id": "T1", "organ": "liver", "nodal": False, "location": "segment VII",
             "measurements": {"BL": 32.0, "FU1": 20.5}},
            {"id": "T2", "organ": "lung", "nodal": False, "measurements": {"BL": 20.5, "FU1": 9.5}}],
        "non_target_lesions": [
            {"id": "N1", "organ": "bone", "nodal": False,
             "status": {"BL": "present", "FU1": "present"}}],
        "new_lesions": []}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-criteria-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, obj):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))
        return path

    def test_contract_example(self):
        r = run([CLI, "criteria", "--json", self.write("ok.json", self.READ)])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(set(out), {"criteria", "baseline", "timepoints", "best_overall_response",
                                    "progression_timepoint", "violations", "warnings"})
        self.assertEqual(out["criteria"], "recist1.1")
        self.assertEqual(out["baseline"], {"sum_mm": 52.5})
        self.assertEqual(out["timepoints"], [
            {"id": "FU1", "sum_mm": 30.0, "nadir_mm": 52.5, "change_from_baseline_pct": -42.9,
             "change_from_nadir_pct": -42.9, "target": "PR", "non_target": "NON_CR_NON_PD",
             "new_lesions": "no", "overall": "PR"}])
        self.assertEqual(out["best_overall_response"], "PR")
        self.assertIsNone(out["progression_timepoint"])
        self.assertEqual(out["violations"], [])
        self.assertIn('"sum_mm": 52.5', r.stdout)
        self.assertIn('"change_from_baseline_pct": -42.9', r.stdout)
        # the table
        r = run([CLI, "criteria", self.write("ok.json", self.READ)])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Best overall response: PR", r.stdout)
        self.assertIn("-42.9%", r.stdout)

    def test_violations_exit_1_with_output(self):
        bad = json.loads(json.dumps(self.READ))
        bad["target_lesions"].append({"id": "T3", "organ": "node", "nodal": True,
                                      "measurements": {"BL": 12.0, "FU1": 12.0}})
        path = self.write("node12.json", bad)
        r = run([CLI, "criteria", "--json", path])
        self.assertEqual(r.returncode, 1)
        out = json.loads(r.stdout)
        self.assertEqual([(v["rule"], v["lesion"]) for v in out["violations"]],
                         [("not_measurable", "T3")])
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        self.assertIn(path, r.stderr)

    def test_malformed(self):
        cases = {
            "syntax.json": "{\"timepoints\": [",
            "type.json": json.dumps({"timepoints": [{"id": "BL", "day": "zero"}]}),
            "meas.json": json.dumps({"timepoints": [{"id": "BL", "day": 0}],
                                     "target_lesions": [{"id": "T1", "organ": "liver",
                                                         "measurements": {"BL": "big"}}]}),
            "empty.json": "",
            "binary.json": "\x00\x01\x02",
        }
        for name, text in cases.items():
            path = self.write(name, text)
            r = run([CLI, "criteria", path])
            self.assertEqual(r.returncode, 1, name)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn(path, lines[0])
        r = run([CLI, "criteria", "--json", self.write("m.json", cases["meas.json"])])
        self.assertIn("lesion T1, timepoint BL", r.stderr)
        self.assertEqual(run([CLI, "criteria"]).returncode, 2)
        self.assertEqual(run([CLI, "criteria", "/nonexistent.json"]).returncode, 1)

    def test_irecist_carries_both(self):
        read = {"criteria": "irecist",
                "timepoints": [{"id": "BL", "day": 0}, {"id": "d56", "day": 56},
                               {"id": "d112", "day": 112}, {"id": "d154", "day": 154}],
                "target_lesions": [
                    {"id": "T1", "organ": "lung", "measurements": {"BL": 30, "d56": 24, "d112": 23, "d154": 22}},
                    {"id": "T2", "organ": "kidney", "measurements": {"BL": 20, "d56": 16, "d112": 15, "d154": 14}}],
                "new_lesions": [{"id": "NL1", "timepoint": "d112", "organ": "liver",
                                 "measurements": {"d112": 12, "d154": 18}}]}
        r = run([CLI, "criteria", "--json", self.write("j1.json", read)])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual([t["overall"] for t in out["timepoints"]], ["iSD", "iUPD", "iCPD"])
        self.assertEqual(out["best_overall_response"], "iSD")
        self.assertEqual(out["progression_timepoint"], "d112")
        rec = out["recist1.1"]
        self.assertEqual([t["overall"] for t in rec["timepoints"]], ["SD", "PD", "PD"])
        self.assertEqual(rec["best_overall_response"], "SD")


class Render(unittest.TestCase):
    """A 24 mm sphere (90 HU in 40 HU tissue) at (-40, 40, 0): its diameter
    on every plane through its centre is 24 mm within one voxel."""
    CENTER = (-40.0, 40.0, 0.0)
    DIAM = 24.0

    @classmethod
    def setUpClass(cls):
        from PIL import Image  # noqa: F401  (python3-pil, from tools/deps)
        cls.tmp = tempfile.mkdtemp(prefix="rr-render-")
        cls.square = os.path.join(cls.tmp, "square")
        cls.nonsquare = os.path.join(cls.tmp, "nonsquare")
        cls.oblique = os.path.join(cls.tmp, "oblique")
        lesion = "%g,%g,%g,%g,90" % (*cls.CENTER, cls.DIAM)
        for d, extra in ((cls.square, []), (cls.nonsquare, ["--pixel-spacing", "0.9,0.6", "--size", "512,400"]),
                         (cls.oblique, ["--orientation", "oblique", "--spacing", "2"])):
            r = run([PHANTOM, d, "--noise", "0", "--slices", "60", "--lesion", lesion] + extra)
            assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def render(self, folder, *args):
        out = os.path.join(self.tmp, "view.png")
        r = run([CLI, "render", folder, "--at", "%g,%g,%g" % self.CENTER, "--wl", "65,10",
                 "--mm-per-pixel", "0.25", "--size", "200,200", "--json", "-o", out, *args])
        self.assertEqual(r.returncode, 0, r.stderr)
        from PIL import Image
        with Image.open(out) as im:
            img = im.copy()
        self.assertEqual(img.mode, "L")
        return img, json.loads(r.stdout)

    def extent(self, img, horizontal):
        w, h = img.size
        px = img.load()
        c = w // 2 if horizontal else h // 2
        line = [px[i, h // 2] if horizontal else px[w // 2, i] for i in range(w if horizontal else h)]
        inside = [i for i, v in enumerate(line) if v > 127]
        self.assertTrue(inside, "the sphere is not in the view")
        self.assertLessEqual(min(inside), c)
        self.assertGreaterEqual(max(inside), c)
        return (max(inside) - min(inside) + 1) * 0.25

    def check(self, folder, voxel_mm, *args):
        img, meta = self.render(folder, *args)
        for horizontal in (True, False):
            d = self.extent(img, horizontal)
            self.assertLessEqual(abs(d - self.DIAM), voxel_mm + 0.25,
                                 f"{args}: {d} mm across, expected {self.DIAM}")
        return meta

    def test_sphere_on_every_plane(self):
        # volume voxels 0.7 x 0.7 x 2.5 mm
        for plane in ("axial", "coronal", "sagittal"):
            self.check(self.square, 2.5 if plane != "axial" else 0.7, "--plane", plane)
        self.check(self.square, 2.5, "--normal", "1,1,1", "--up", "0,0,1")
        self.check(self.square, 2.5, "--normal", "0.2,-1,0.3", "--up", "0,0,1")

    def test_sphere_non_square_pixels(self):
        for plane in ("axial", "coronal", "sagittal"):
            self.check(self.nonsquare, 2.5 if plane != "axial" else 0.9, "--plane", plane)

    def test_sphere_in_oblique_acquisition(self):
        for plane in ("axial", "coronal", "sagittal"):
            self.check(self.oblique, 2.0, "--plane", plane)

    def test_orientation_letters(self):
        _, meta = self.render(self.square, "--plane", "axial")
        self.assertEqual(meta["orientation"], {"left": "R", "right": "L", "top": "A", "bottom": "P"})
        _, meta = self.render(self.square, "--plane", "coronal")
        self.assertEqual(meta["orientation"], {"left": "R", "right": "L", "top": "S", "bottom": "I"})
        _, meta = self.render(self.square, "--plane", "sagittal")
        self.assertEqual(meta["orientation"], {"left": "A", "right": "P", "top": "S", "bottom": "I"})
        # The native plane of the oblique acquisition (rows along
        # (cos 30, sin 30, 0)): its image right is left-posterior.
        info = json.loads(run([CLI, "info", "--json", self.oblique]).stdout)
        o = info["studies"][0]["series"][0]["orientation"]
        row, col = o[:3], o[3:]
        normal = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2],
                  row[0] * col[1] - row[1] * col[0]]
        _, meta = self.render(self.oblique, "--normal", ",".join(map(str, normal)),
                              "--up", ",".join(str(-c) for c in col))
        self.assertEqual(meta["orientation"]["right"], "LP")
        self.assertEqual(meta["orientation"]["left"], "RA")

    def test_mip_slab(self):
        # A 60 mm MIP slab centred 20 mm beside the sphere still shows it.
        img, _ = self.render(self.square, "--plane", "coronal", "--slab", "60", "--mode", "mip",
                             "--at", "-40,60,0")
        self.assertGreater(img.load()[100, 100], 127)
        img, _ = self.render(self.square, "--plane", "coronal", "--at", "-40,60,0")
        self.assertLess(img.load()[100, 100], 128)

    def test_bad_usage(self):
        out = os.path.join(self.tmp, "x.png")
        for args in (["--plane", "diagonal"], ["--normal", "0,0,1"], ["--size", "0,5"],
                     ["--mode", "max", "--slab", "5"], ["--at", "1,2"]):
            r = run([CLI, "render", self.square, "-o", out, *args])
            self.assertEqual(r.returncode, 2, args)
        r = run([CLI, "render", self.square])
        self.assertEqual(r.returncode, 2)
        r = run([CLI, "render", self.square, "--series", "1.2.3", "-o", out])
        self.assertEqual(r.returncode, 1)
        # Walk finding c2: a zero vector is said to be zero, not "parallel".
        for opt, args in (("--normal", ["--normal", "0,0,0", "--up", "0,1,0"]),
                          ("--up", ["--normal", "0,0,1", "--up", "0,0,0"])):
            r = run([CLI, "render", self.square, "-o", out, *args])
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("readroom-cli render: %s must not be zero" % opt, r.stderr)

    def test_at_outside_the_series(self):
        """Walk finding c2: a point outside the series gave a blank image and
        exit 0. It is an input problem (cli.md: exit 1, naming the file),
        and nothing is written."""
        out = os.path.join(self.tmp, "outside.png")
        r = run([CLI, "render", self.square, "--at", "9999,0,0", "-o", out])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(r.stderr.startswith(
            "readroom-cli render: %s: --at 9999,0,0 is outside the series, which spans x "
            % self.square), r.stderr)
        self.assertFalse(os.path.exists(out))
        # Inside, at the sphere, it renders.
        self.render(self.square)


class Messages(Base):
    """Walk finding m11 (cli.md: a one-line message on stderr that names the
    file and what is wrong; 2 on bad usage)."""

    def test_missing_path_is_named(self):
        missing = os.path.join(self.tmp, "nonexistent")
        for args in (["info", missing], ["bench", "load", missing]):
            r = run([CLI, *args])
            self.assertEqual(r.returncode, 1, args)
            self.assertEqual(r.stderr.strip(), "readroom-cli %s: %s: No such file or directory"
                             % (args[0], missing), args)
        # bench load prints no figures for what it did not load.
        self.assertEqual(run([CLI, "bench", "load", missing]).stdout, "")

    def test_unknown_command_and_no_arguments(self):
        r = run([CLI, "frob"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("readroom-cli: unknown command 'frob'", r.stderr)
        r = run([CLI])
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertIn("Usage: readroom-cli COMMAND", r.stderr)
        # Asked for, the usage is on stdout.
        self.assertIn("Usage: readroom-cli COMMAND", run([CLI, "--help"]).stdout)


class CommandModule(Base):
    """readroom-cli opens its command module (cairo, pango, curl, libsecret,
    SQLite, dcmtk's SR libraries, the pixel codecs) only for the commands
    that live there: the light ones run without it, and a module that is
    missing or broken is one clear line naming its path, exit 2."""
    MODULE = "readroom-cli-commands.so"
    HEAVY = ("libcairo", "libpango", "libcurl", "libsecret", "libsqlite3", "libcmr",
             "libdcmsr", "libpng", MODULE)
    # Only what decodes or encodes pixels needs them; deid, qc and info read
    # headers (and deid copies the pixel bytes as they are).
    CODECS = ("libdcmjpeg", "libijg8", "libijg12", "libijg16", "libdcmimgle", "libcharls",
              "libopenjp2")

    def light_commands(self, cli):
        key = os.path.join(self.tmp, "module.key")
        with open(key, "wb") as f:
            f.write(b"k" * 40)
        read = os.path.join(self.tmp, "module-read.json")
        with open(read, "w") as f:
            json.dump(Criteria.READ, f)
        out = tempfile.mkdtemp(prefix="deid-", dir=self.tmp)
        return [("--help",), ("--version",), ("info", self.ct), ("qc", self.ct),
                ("criteria", read),
                ("deid", self.ct, os.path.join(out, "o"), "--subject", "S1", "--key", key)]

    def loaded(self, stderr):
        """The files the dynamic loader opened, from LD_DEBUG=files."""
        return [line.split("file=", 1)[1].split()[0] for line in stderr.splitlines()
                if "file=" in line and "[0]" in line]

    def test_light_commands_load_no_heavy_library(self):
        env = dict(os.environ, LD_DEBUG="files")
        for args in self.light_commands(CLI):
            r = subprocess.run([CLI, *args], capture_output=True, text=True, env=env,
                               timeout=120)
            self.assertEqual(r.returncode, 0, f"{args}: {r.stderr[-2000:]}")
            files = self.loaded(r.stderr)
            self.assertTrue(any("libdcmdata" in f for f in files) or args[0].startswith("--"),
                            f"{args}: LD_DEBUG gave no file list")
            heavy = [f for f in files if any(h in f for h in self.HEAVY)]
            self.assertEqual(heavy, [], f"readroom-cli {args[0]} loaded {heavy}")
            codecs = [f for f in files if any(c in f for c in self.CODECS)]
            self.assertEqual(codecs, [], f"readroom-cli {args[0]} loaded {codecs}")

    def test_module_commands_load_it_beside_the_executable(self):
        env = dict(os.environ, LD_DEBUG="files")
        beside = os.path.join(os.path.dirname(os.path.realpath(CLI)), self.MODULE)
        for cmd in ("render", "sr", "report", "upload", "sync", "submit", "admin", "bench"):
            r = subprocess.run([CLI, cmd, "--help"], capture_output=True, text=True, env=env,
                               timeout=60)
            self.assertEqual(r.returncode, 0, f"{cmd}: {r.stderr[-2000:]}")
            self.assertIn("Usage:", r.stdout)
            self.assertIn(f" {cmd} ", " ".join(r.stdout.splitlines()[:2]))
            self.assertIn(beside, self.loaded(r.stderr), cmd)
        # `bench qc` runs there too: rr-cli-qc.c is built into the module as well.
        r = subprocess.run([CLI, "bench", "qc", self.ct], capture_output=True, text=True,
                           env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertIn("instances ", r.stdout)
        self.assertIn(beside, self.loaded(r.stderr))

    def copy_cli(self, module_bytes=None):
        d = tempfile.mkdtemp(prefix="bin-", dir=self.tmp)
        cli = os.path.join(d, "readroom-cli")
        shutil.copy(CLI, cli)
        if module_bytes is not None:
            with open(os.path.join(d, self.MODULE), "wb") as f:
                f.write(module_bytes)
        return d, cli

    def test_missing_module(self):
        d, cli = self.copy_cli()
        r = run([cli, "render", self.ct, "-o", os.path.join(d, "x.png")])
        if r.returncode == 0:
            self.skipTest("the module is installed: it is not missing")
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("readroom-cli render: the command module is missing", lines[0])
        self.assertIn(os.path.join(d, self.MODULE), lines[0])
        self.assertIn("/readroom/" + self.MODULE, lines[0])  # the installed path
        for args in self.light_commands(cli):
            r = run([cli, *args], timeout=120)
            self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")

    def test_broken_module(self):
        d, cli = self.copy_cli(b"not an ELF file\n" * 64)
        path = os.path.join(d, self.MODULE)
        for cmd in ("sync", "upload", "report"):
            r = run([cli, cmd, "--help"])
            self.assertEqual(r.returncode, 2, r.stderr)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn(f"readroom-cli {cmd}: cannot load the command module {path}: ",
                          lines[0])
            self.assertEqual(r.stdout, "")
        for args in self.light_commands(cli):
            r = run([cli, *args], timeout=120)
            self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")

    def test_module_without_the_command(self):
        """A module of another build (here: any shared object) that lacks
        the entry point is named with the symbol it lacks."""
        libm = "/lib/x86_64-linux-gnu/libm.so.6"
        if not os.path.exists(libm):
            self.skipTest(f"{libm} missing")
        with open(libm, "rb") as f:
            d, cli = self.copy_cli(f.read())
        r = run([cli, "admin", "--help"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{os.path.join(d, self.MODULE)} has no rr_cli_admin", r.stderr)


class PydicomCorpus(unittest.TestCase):
    def test_every_file_loads_or_fails_cleanly(self):
        files = []
        for root, _, names in os.walk(PYDICOM):
            for n in names:
                if n.endswith((".py", ".pyc", ".json", ".gz", ".bz2", ".txt")):
                    continue
                files.append(os.path.join(root, n))
        self.assertGreater(len(files), 50)
        loaded = failed = 0
        for f in sorted(files):
            try:
                r = run([CLI, "bench", "load", f], timeout=60)
            except subprocess.TimeoutExpired:
                self.fail(f"{f}: hangs")
            self.assertGreaterEqual(r.returncode, 0, f"{f}: killed by signal {-r.returncode}")
            self.assertIn(r.returncode, (0, 1), f"{f}: exit {r.returncode}: {r.stderr}")
            if r.returncode == 1:
                lines = r.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, f"{f}: {r.stderr}")
                failed += 1
            else:
                loaded += 1
        print(f"pydicom corpus: {loaded} loaded, {failed} refused with a message")
        self.assertGreater(loaded, 40)


if __name__ == "__main__":
    unittest.main(verbosity=2)
