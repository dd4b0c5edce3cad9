#!/usr/bin/python3
"""The peers bench/run.py compares Readroom with: what a user would pick
instead to load a DICOM series into a volume, or to reslice it. Each mode
prints one JSON line: seconds (or frames per second) and peak RSS.

  peers.py load-vtk DIR       vtkDICOMImageReader: one thread, builds a volume;
                              "all_zero" says whether it holds only zeros (what
                              it gives for JPEG-LS, which it cannot decode)
  peers.py load-pydicom DIR   pydicom + numpy: one thread, builds a volume;
                              compressed data through the handler pydicom
                              finds (GDCM's for JPEG-LS, Pillow's for JPEG 2000)
  peers.py load-gdcm DIR      GDCM's own Python binding (python3-gdcm, CharLS
                              inside for JPEG-LS): one thread, builds a volume
  peers.py first-vtk DIR      the first displayable slice with VTK: its reader
                              has none before the whole directory is read
  peers.py first-pydicom DIR  the first displayable slice with pydicom, as
                              readroom does it: every header, then the
                              middle slice
  peers.py reslice-vtk DIR CX CY CZ MM THREADS SECONDS [CACHE.npy]
                              vtkImageReslice, trilinear, on the planes of
                              `readroom-cli bench reslice` (centre and pixel
                              size from its output); output int16 as its
                              input, VTK's default and its fastest
"""
import glob
import json
import math
import os
import resource
import sys
import time


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def files_of(d):
    return sorted(glob.glob(os.path.join(d, "*.dcm")))


def load_pydicom(d):
    """A volume as numpy (k, j, i) int16 with its patient geometry, slices
    sorted along the normal as a viewer must."""
    import numpy
    import pydicom
    dss = [pydicom.dcmread(f) for f in files_of(d)]
    row = numpy.array([float(x) for x in dss[0].ImageOrientationPatient[:3]])
    col = numpy.array([float(x) for x in dss[0].ImageOrientationPatient[3:]])
    normal = numpy.cross(row, col)
    dss.sort(key=lambda ds: float(numpy.dot(normal, [float(x) for x in ds.ImagePositionPatient])))
    vol = numpy.empty((len(dss), dss[0].Rows, dss[0].Columns), numpy.int16)
    for k, ds in enumerate(dss):
        slope = float(getattr(ds, "RescaleSlope", 1))
        intercept = float(getattr(ds, "RescaleIntercept", 0))
        vol[k] = (ds.pixel_array * slope + intercept).astype(numpy.int16)
    p0 = numpy.array([float(x) for x in dss[0].ImagePositionPatient])
    p1 = numpy.array([float(x) for x in dss[-1].ImagePositionPatient])
    dz = float(numpy.linalg.norm(p1 - p0)) / max(len(dss) - 1, 1)
    ps = [float(x) for x in dss[0].PixelSpacing]  # row spacing, column spacing
    return vol, p0, (ps[1], ps[0], dz), row, col


def pydicom_handler(d):
    """The pixel data handler pydicom picks for the series: the first in
    its order that is installed and takes the transfer syntax."""
    import pydicom
    from pydicom import config
    ts = pydicom.dcmread(files_of(d)[0], stop_before_pixels=True).file_meta.TransferSyntaxUID
    for h in config.pixel_data_handlers:
        if h.is_available() and h.supports_transfer_syntax(ts):
            return h.__name__.rsplit(".", 1)[-1]
    return None


def load_vtk(d):
    import vtk
    r = vtk.vtkDICOMImageReader()
    r.SetDirectoryName(d)
    r.Update()
    img = r.GetOutput()
    lo, hi = img.GetScalarRange()
    return (img.GetDimensions(), img.GetPointData().GetScalars().GetDataTypeAsString(),
            lo == 0 and hi == 0)


def load_gdcm(d):
    """A volume as numpy (k, j, i) int16 through GDCM: its ImageReader
    decodes each file (JPEG-LS with the CharLS it carries), the slices
    sorted along the normal, rescaled to int16 as the other sides do."""
    import gdcm
    import numpy
    slices = []
    for f in files_of(d):
        r = gdcm.ImageReader()
        r.SetFileName(f)
        if not r.Read():
            sys.exit(f"peers.py: GDCM cannot read {f}")
        img = r.GetImage()
        cos = img.GetDirectionCosines()
        normal = numpy.cross(cos[:3], cos[3:])
        pf = img.GetPixelFormat()
        if pf.GetBitsAllocated() != 16 or pf.GetSamplesPerPixel() != 1:
            sys.exit("peers.py: load-gdcm reads 16-bit grey images only")
        kind = numpy.int16 if pf.GetPixelRepresentation() else numpy.uint16
        # GDCM's Python binding hands the pixels over as a str of bytes:
        # its own numpy example turns them back this way.
        raw = img.GetBuffer().encode("utf-8", errors="surrogateescape")
        px = numpy.frombuffer(raw, dtype=kind).reshape(img.GetDimension(1), img.GetDimension(0))
        z = float(numpy.dot(normal, img.GetOrigin()))
        slices.append((z, (px * img.GetSlope() + img.GetIntercept()).astype(numpy.int16)))
    slices.sort(key=lambda s: s[0])
    vol = numpy.empty((len(slices),) + slices[0][1].shape, numpy.int16)
    for k, (_, px) in enumerate(slices):
        vol[k] = px
    return vol


def first_pydicom(d):
    """Every header (no pixels), sorted along the normal, then the middle
    slice decoded and rescaled: the first image a pydicom viewer could
    show, by readroom's own way of getting there."""
    import numpy
    import pydicom
    files = files_of(d)
    heads = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    row = numpy.array([float(x) for x in heads[0].ImageOrientationPatient[:3]])
    col = numpy.array([float(x) for x in heads[0].ImageOrientationPatient[3:]])
    normal = numpy.cross(row, col)
    order = sorted(range(len(files)), key=lambda i: float(
        numpy.dot(normal, [float(x) for x in heads[i].ImagePositionPatient])))
    ds = pydicom.dcmread(files[order[len(order) // 2]])
    px = (ds.pixel_array * float(getattr(ds, "RescaleSlope", 1)) +
          float(getattr(ds, "RescaleIntercept", 0))).astype(numpy.int16)
    return px.shape


def plane_axes(frame):
    """rr_plane_init_oblique () of readroom-cli's bench_plane (): right and
    down of the image from the normal and the up direction."""
    a = frame * 0.05
    n = (math.cos(a), math.sin(a), 0.7)
    ln = math.sqrt(sum(c * c for c in n))
    n = tuple(c / ln for c in n)
    up = (0.0, 0.3, 1.0)
    d = sum(u * m for u, m in zip(up, n))
    u = tuple(a_ - d * m for a_, m in zip(up, n))
    lu = math.sqrt(sum(c * c for c in u))
    down = tuple(-c / lu for c in u)
    right = (down[1] * n[2] - down[2] * n[1], down[2] * n[0] - down[0] * n[2],
             down[0] * n[1] - down[1] * n[0])
    return right, down, n


def reslice_vtk(d, center, mm, threads, seconds, cache=None):
    import numpy
    import vtk
    from vtk.util import numpy_support
    if cache and os.path.exists(cache):
        # The same volume as pydicom built it last time: numpy loads it in
        # a fraction of the time, and the load is not what is timed here.
        z = numpy.load(cache)
        vol, origin, spacing, row, col = (z["vol"], z["origin"], tuple(z["spacing"]),
                                          z["row"], z["col"])
    else:
        vol, origin, spacing, row, col = load_pydicom(d)
        if cache:
            with open(cache, "wb") as f:
                numpy.savez(f, vol=vol, origin=origin, spacing=spacing, row=row, col=col)
    if abs(row[0] - 1) > 1e-6 or abs(col[1] - 1) > 1e-6:
        sys.exit("peers.py: reslice-vtk needs an axial series (VTK images have no direction)")
    img = vtk.vtkImageData()
    img.SetDimensions(vol.shape[2], vol.shape[1], vol.shape[0])
    img.SetSpacing(*spacing)
    img.SetOrigin(*origin)
    arr = numpy_support.numpy_to_vtk(vol.ravel(), deep=False, array_type=vtk.VTK_SHORT)
    img.GetPointData().SetScalars(arr)
    size = 512
    r = vtk.vtkImageReslice()
    r.SetInputData(img)
    r.SetInterpolationModeToLinear()
    r.SetOutputDimensionality(2)
    r.SetOutputExtent(0, size - 1, 0, size - 1, 0, 0)
    r.SetOutputSpacing(mm, mm, 1)
    # Pixel (x, y) at centre + right (x + 0.5 - 256) mm + down (y + 0.5 - 256) mm.
    r.SetOutputOrigin((0.5 - size / 2) * mm, (0.5 - size / 2) * mm, 0)
    r.SetBackgroundLevel(-32768)
    r.SetNumberOfThreads(threads)
    axes = vtk.vtkMatrix4x4()

    def frame(f):
        right, down, n = plane_axes(f)
        for i in range(3):
            axes.SetElement(i, 0, right[i])
            axes.SetElement(i, 1, down[i])
            axes.SetElement(i, 2, n[i])
            axes.SetElement(i, 3, center[i])
        axes.Modified()
        r.SetResliceAxes(axes)
        r.Modified()
        r.Update()

    frame(0)  # untimed, as readroom-cli's frame 0: its mean shows the plane is the same
    out = numpy_support.vtk_to_numpy(r.GetOutput().GetPointData().GetScalars())
    inside = out[out != -32768]
    mean = float(inside.mean()) if inside.size else 0.0
    frames = 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    while True:
        frame(frames)
        frames += 1
        el = time.perf_counter() - t0
        if el >= seconds:
            break
    cpu = time.process_time() - c0
    return {"frames": frames, "seconds": el, "fps": frames / el, "threads": threads,
            "cpu_ms_per_frame": cpu * 1e3 / frames,
            "frame0_mean": mean, "frame0_inside": int(inside.size),
            "output": r.GetOutput().GetPointData().GetScalars().GetDataTypeAsString()}


def main():
    mode, d = sys.argv[1], sys.argv[2]
    # The libraries are loaded before the clock starts: a desktop tool has
    # them loaded already, as readroom-cli has its own.
    import numpy  # noqa: F401
    if mode in ("load-vtk", "first-vtk", "reslice-vtk"):
        import vtk  # noqa: F401
    if mode in ("load-pydicom", "first-pydicom", "reslice-vtk"):
        import pydicom  # noqa: F401
        import pydicom.pixel_data_handlers  # noqa: F401
        try:
            import gdcm  # noqa: F401 (pydicom's handler for JPEG-LS)
        except ImportError:
            pass
    if mode == "load-gdcm":
        import gdcm  # noqa: F401
    if mode == "load-vtk":
        t0 = time.perf_counter()
        dims, kind, zero = load_vtk(d)
        el = time.perf_counter() - t0
        print(json.dumps({"seconds": el, "dims": list(dims), "type": kind, "all_zero": zero,
                          "peak_rss_bytes": peak_rss()}))
    elif mode == "load-gdcm":
        t0 = time.perf_counter()
        vol = load_gdcm(d)
        el = time.perf_counter() - t0
        print(json.dumps({"seconds": el, "dims": list(vol.shape[::-1]),
                          "peak_rss_bytes": peak_rss()}))
    elif mode == "first-vtk":
        t0 = time.perf_counter()
        dims, _, zero = load_vtk(d)
        el = time.perf_counter() - t0
        print(json.dumps({"first_image_seconds": el, "dims": list(dims), "all_zero": zero}))
    elif mode == "first-pydicom":
        t0 = time.perf_counter()
        shape = first_pydicom(d)
        el = time.perf_counter() - t0
        print(json.dumps({"first_image_seconds": el, "dims": list(shape[::-1])}))
    elif mode == "load-pydicom":
        t0 = time.perf_counter()
        vol = load_pydicom(d)[0]
        el = time.perf_counter() - t0
        print(json.dumps({"seconds": el, "dims": list(vol.shape[::-1]),
                          "peak_rss_bytes": peak_rss(), "handler": pydicom_handler(d)}))
    elif mode == "reslice-vtk":
        cx, cy, cz, mm = (float(x) for x in sys.argv[3:7])
        res = reslice_vtk(d, (cx, cy, cz), mm, int(sys.argv[7]), float(sys.argv[8]),
                          sys.argv[9] if len(sys.argv) > 9 else None)
        print(json.dumps(res))
    else:
        sys.exit(f"peers.py: unknown mode {mode}")


if __name__ == "__main__":
    main()
