#!/usr/bin/python3
"""zarr-python reads what `stowage import` writes.

For every NumPy-representable dtype at ranks 0..5 (including zero-length
dimensions), with zstd and without compression, with and without
--chunk-bytes, a random array is saved with np.save, imported with the CLI,
and read back with `zarr.open(DIR + '/checkpoint', mode='r')[...]`; the
result must have the same dtype, shape and bytes. Also: --dtype casts match
NumPy's astype, and the `.zarray` members are the ones docs/format.md
promises (Orbax / TensorStore's form). Orbax's chunk shapes divide the
array's shape, so --chunk-bytes gives many chunks but never a partial edge
chunk; the chunk shape is checked against an independent re-statement of
Orbax's choose_chunk_shape (edge chunks are covered by
test_stowage_reads_zarr_python.py, where zarr-python chooses the chunks).

Run by CTest with STOWAGE_BIN set; exits 77 (skipped) without the CLI or
without zarr-python. Only Debian's /usr/bin/python3 has numpy + zarr.
"""
import concurrent.futures
import functools
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stowage_script import STOWAGE_BIN, assert_same_values, run_stowage  # noqa: E402 (exits 77 when unusable)
import numpy as np
import numcodecs
import zarr

WORKERS = max(2, min(8, 2 * (os.cpu_count() or 2)))

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128"]

# The zarr v2 dtype string TensorStore (and so stowage) writes for each type.
ZARR_DTYPE = {"bool": "|b1", "int8": "|i1", "int16": "<i2", "int32": "<i4", "int64": "<i8",
              "uint8": "|u1", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8",
              "float16": "<f2", "float32": "<f4", "float64": "<f8", "complex64": "<c8",
              "complex128": "<c16"}

# One shape per rank without zero-length dimensions (awkward sizes: primes,
# non-powers of two) and one per rank >= 1 with a zero-length dimension.
SHAPES = [(), (37,), (9, 14), (4, 6, 5), (3, 4, 2, 6), (2, 3, 2, 4, 3)]
EMPTY_SHAPES = [(0,), (3, 0), (2, 0, 5), (0, 4, 0, 2), (1, 2, 3, 0, 2)]

COMBOS = [("zstd", False), ("zstd", True), ("none", False), ("none", True)]



def random_array(rng, dtype, shape):
    """Random values of `dtype`, with the float specials (NaN, +-inf, -0.0,
    subnormals, extremes) planted at the start when there is room."""
    dt = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    if dt.kind == "b":
        flat = rng.integers(0, 2, size=n).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        flat = rng.integers(int(info.min), int(info.max), size=n, dtype=dt, endpoint=True)
        specials = [info.min, info.max, 0, 1]
        flat[:min(n, len(specials))] = specials[:min(n, len(specials))]
    elif dt.kind == "f":
        with np.errstate(over="ignore"):
            flat = (rng.standard_normal(n) * 1000).astype(dt)
        info = np.finfo(dt)
        specials = np.array([np.nan, np.inf, -np.inf, -0.0, info.max, info.min, info.tiny,
                             info.tiny / 4, -info.tiny / 2, 1.0], dtype=dt)
        flat[:min(n, len(specials))] = specials[:min(n, len(specials))]
    elif dt.kind == "c":
        part = np.dtype("f%d" % (dt.itemsize // 2))
        flat = np.empty(n, dtype=dt)
        flat.real = (rng.standard_normal(n) * 1000).astype(part)
        flat.imag = (rng.standard_normal(n) * 1000).astype(part)
        specials = np.array([complex(np.nan, 1.0), complex(1.0, np.nan), complex(np.inf, -np.inf),
                             complex(-0.0, -0.0), complex(0.0, 5.0)], dtype=dt)
        flat[:min(n, len(specials))] = specials[:min(n, len(specials))]
    else:
        raise AssertionError(dtype)
    return np.array(flat.reshape(shape), order="C")  # (ascontiguousarray makes 0-d 1-d)


def write_npy(path, array, version):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version)


def orbax_chunk_shape(shape, itemsize, target_byte_size):
    """orbax `_src/arrays/subchunking.py` choose_chunk_shape for a host array
    (global shape == write shape, no shard axes), re-stated here as an
    independent reference; zero-length dimensions count as 1 (docs/format.md)."""
    write = [max(1, s) for s in shape]
    if target_byte_size is None:
        return write
    target = target_byte_size // itemsize
    factors = [[d for d in range(1, s + 1) if s % d == 0] for s in write]
    sharded = [False] * len(write)
    total = math.prod(write)
    while total > target:
        best, best_size = -1, 1
        for i, f in enumerate(factors):
            if sharded[i] and f[-1] > best_size:
                best, best_size = i, f[-1]
        if best_size > 1:
            old = factors[best].pop()
            total = total // old * factors[best][-1]
            sharded[best] = True
        else:
            sharded = [True] * len(write)
    return [f[-1] for f in factors]


def chunk_keys(shape, chunks):
    """Every chunk key of a zarr v2 array with '.' separators."""
    if any(s == 0 for s in shape):
        return set()
    if not shape:
        return {"0"}
    grids = [range(-(-s // c)) for s, c in zip(shape, chunks)]
    keys = {""}
    for g in grids:
        keys = {(k + "." if k else "") + str(i) for k in keys for i in g}
    return keys


class Case:
    def __init__(self, root, index, dtype, shape, compression, chunk_bytes, rng, target=None):
        self.dtype = dtype
        self.shape = tuple(shape)
        self.compression = compression
        self.chunk_bytes = chunk_bytes
        self.target = target  # --dtype
        self.threads = 1
        self.max_chunk_bytes = None  # --max-chunk-bytes
        self.dir = os.path.join(root, "ckpt%04d" % index)
        self.npy = os.path.join(root, "in%04d.npy" % index)
        self.array = random_array(rng, dtype, self.shape)
        self.result = None

    def describe(self):
        return "%s%s compression=%s chunk_bytes=%s%s" % (
            self.dtype, list(self.shape), self.compression, self.chunk_bytes,
            " --dtype " + self.target if self.target else "")

    def write_npy(self):
        np.save(self.npy, self.array)

    def run(self):
        self.write_npy()
        args = ["import", self.npy, self.dir, "--compression", self.compression, "--no-fsync",
                "--threads", self.threads, "-q"]
        if self.chunk_bytes is not None:
            args += ["--chunk-bytes", self.chunk_bytes]
        if self.max_chunk_bytes is not None:
            args += ["--max-chunk-bytes", self.max_chunk_bytes]
        if self.target:
            args += ["--dtype", self.target]
        self.result = run_stowage(*args)
        return self


def run_all(cases):
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(Case.run, cases))


def same_values(test, got, want, what):
    """Same dtype, then NaN-aware equality that also tells -0.0 from 0.0."""
    test.assertEqual(got.dtype, want.dtype, what)
    assert_same_values(test, got, want, what)


class ZarrPythonReadsStowage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="stowage_zarr_reads_")
        cls.root = cls._tmp.name
        cls.counter = 0

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def new_case(self, *args, **kwargs):
        type(self).counter += 1
        return Case(self.root, type(self).counter, *args, **kwargs)

    def check_case(self, case):
        what = case.describe()
        r = case.result
        self.assertEqual(r.returncode, 0, "%s: import failed: %s" % (what, r.stderr.decode()))
        self.assertEqual(r.stderr, b"", what)
        want = case.array.astype(case.target) if case.target else case.array
        stored = np.dtype(case.target or case.dtype)

        z = zarr.open(os.path.join(case.dir, "checkpoint"), mode="r")
        self.assertIsInstance(z, zarr.Array, what)
        self.assertEqual(z.dtype, stored, what)
        self.assertEqual(z.shape, case.shape, what)
        got = np.asarray(z[...])
        same_values(self, got, want, what)
        if not case.target:
            self.assertEqual(got.tobytes(), want.tobytes(), "%s: bytes differ" % what)

        # What zarr-python sees of the metadata.
        self.assertEqual(z.order, "C", what)
        self.assertIsNone(z.fill_value, what)
        self.assertIsNone(z.filters, what)
        if case.compression == "zstd":
            self.assertEqual(z.compressor, numcodecs.Zstd(level=1), what)
        else:
            self.assertIsNone(z.compressor, what)
        expected_chunks = orbax_chunk_shape(case.shape, stored.itemsize, case.chunk_bytes)
        self.assertEqual(list(z.chunks), expected_chunks, what)
        if case.chunk_bytes is not None and case.shape:
            self.assertLessEqual(math.prod(z.chunks) * stored.itemsize,
                                 max(case.chunk_bytes, stored.itemsize), what)
        for s, c in zip(case.shape, z.chunks):
            self.assertEqual(max(1, s) % c, 0, "%s: chunks %s do not divide the shape"
                             % (what, z.chunks))

        # Every chunk is written (store_data_equal_to_fill_value), nothing else.
        array_dir = os.path.join(case.dir, "checkpoint")
        files = set(os.listdir(array_dir))
        keys = chunk_keys(case.shape, z.chunks)
        self.assertEqual(files, keys | {".zarray"}, what)
        if case.shape:  # (zarr-python 2.13 miscounts the chunks of 0-d arrays)
            self.assertEqual(z.nchunks_initialized, len(keys), what)
        if case.compression == "none":
            for key in keys:  # raw chunks: exactly prod(chunks) * itemsize bytes
                self.assertEqual(os.path.getsize(os.path.join(array_dir, key)),
                                 math.prod(z.chunks) * stored.itemsize, "%s: %s" % (what, key))
        with open(os.path.join(array_dir, ".zarray")) as f:
            meta = json.load(f)
        self.assertEqual(meta["dtype"], ZARR_DTYPE[stored.name], what)
        self.assertEqual(meta["shape"], list(case.shape), what)

    def check_dtype(self, dtype):
        rng = np.random.default_rng(sum(map(ord, dtype)))
        itemsize = np.dtype(dtype).itemsize
        cases = []
        for shape in SHAPES:
            nbytes = math.prod(shape) * itemsize
            for compression, chunked in COMBOS:
                # A bound that is not a multiple of the item size and forces
                # several chunks (one element for rank 0).
                chunk_bytes = max(itemsize, nbytes // 5 + 3) if chunked else None
                cases.append(self.new_case(dtype, shape, compression, chunk_bytes, rng))
        for i, shape in enumerate(EMPTY_SHAPES):
            compression, chunked = COMBOS[i % len(COMBOS)]
            cases.append(self.new_case(dtype, shape, compression, 3 * itemsize if chunked else None,
                                       rng))
        for case in run_all(cases):
            with self.subTest(case.describe()):
                self.check_case(case)

    # --dtype: stored converted, equal to NumPy's astype.
    CASTS = [
        ("float64", "float32", (7, 11)),
        ("float32", "float16", (5, 9)),
        ("float64", "float16", (6, 7)),
        ("float16", "float64", (40,)),
        ("float32", "float64", (3, 4, 5)),
        ("int64", "int32", (8, 9)),   # out-of-range values wrap, as in NumPy
        ("int32", "int8", (50,)),
        ("int16", "uint16", (6, 6)),
        ("uint8", "int8", (64,)),
        ("uint64", "float64", (30,)),
        ("int64", "float32", (30,)),
        ("int32", "float64", (4, 4)),
        ("complex128", "complex64", (5, 5)),
        ("float32", "complex64", (12,)),
        ("bool", "float32", (3, 7)),
        ("bool", "int32", (3, 7)),
        ("int8", "bool", (33,)),
        ("float64", "bool", (33,)),   # NaN -> True, -0.0 -> False
    ]

    def test_dtype_casts(self):
        rng = np.random.default_rng(7)
        cases = []
        for i, (source, target, shape) in enumerate(self.CASTS):
            chunk_bytes = 64 if i % 2 else None
            case = self.new_case(source, shape, "zstd" if i % 3 else "none", chunk_bytes, rng,
                                 target=target)
            if (source, target) == ("float64", "float16"):
                # Rounds differently when rounded through float32 first.
                flat = case.array.reshape(-1)
                flat[-1] = 1 + 2.0 ** -11 + 2.0 ** -40
                flat[-2] = 65520.0  # rounds to inf in float16
                flat[-3] = 2.0 ** -25  # exactly half the smallest subnormal: ties to 0
            cases.append(case)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumPy warns about overflow
            for case in run_all(cases):
                with self.subTest(case.describe()):
                    self.check_case(case)

    def test_dtype_cast_float_to_int_in_range(self):
        # NumPy leaves NaN / out-of-range float -> int undefined; in range it
        # truncates toward zero.
        case = self.new_case("float64", (20,), "zstd", None, np.random.default_rng(1),
                             target="int32")
        case.array = np.array([-2.7, -2.5, -1.0, -0.5, -0.0, 0.0, 0.49, 0.5, 1.5, 2.5, 2.999,
                               1e9, -1e9, 2147483647.0, -2147483648.0, 3.0, -3.0, 100.9, -100.9,
                               7.0], dtype=np.float64)
        run_all([case])
        self.check_case(case)

    def test_npy_input_variants(self):
        """Fortran-order and big-endian .npy files and format versions 2.0 and
        3.0 import to the same (C-order, little-endian) zarr array."""
        rng = np.random.default_rng(11)
        cases = []
        for i, (dtype, shape, fortran, version) in enumerate([
                (">f8", (5, 7), False, (1, 0)), ("<f4", (4, 6, 3), True, (1, 0)),
                (">c16", (3, 4), True, (1, 0)), (">i2", (9,), False, (2, 0)),
                ("<u4", (2, 3, 4), True, (3, 0)), (">u8", (0, 3), True, (1, 0)),
                ("|b1", (6, 5), True, (2, 0)), (">f2", (), False, (1, 0))]):
            native_name = np.dtype(dtype).newbyteorder("=").name
            case = self.new_case(native_name, shape, "zstd" if i % 2 else "none",
                                 24 if i % 3 else None, rng)
            source = case.array.astype(dtype)
            if fortran:
                source = np.asfortranarray(source)
            case.write_npy = functools.partial(write_npy, case.npy, source, version)
            cases.append(case)
        run_all(cases)
        for case in cases:
            with self.subTest(case.describe()):
                self.check_case(case)

    def test_many_chunks_several_threads(self):
        rng = np.random.default_rng(13)
        cases = [self.new_case("float32", (64, 250), "zstd", 256, rng),
                 self.new_case("int16", (30, 7, 40), "none", 100, rng),
                 self.new_case("complex128", (1000,), "zstd", 160, rng)]
        for case in cases:
            case.threads = 4
        run_all(cases)
        for case in cases:
            with self.subTest(case.describe()):
                self.check_case(case)
        self.assertGreater(len(os.listdir(os.path.join(cases[0].dir, "checkpoint"))), 300)

    def test_large_arrays_are_cut_into_slabs(self):
        """Without --chunk-bytes, an array over --max-chunk-bytes is stored as
        C-order slabs (leading dimensions cut; a divisor unless that halves
        the slab), which zarr-python reads back exactly, edge chunk included."""
        rng = np.random.default_rng(29)
        # (shape, dtype, compression, max bytes, expected chunks)
        specs = [((40, 50), "float32", "none", 1000, [5, 50]),     # 5 divides 40
                 ((37, 50), "float32", "zstd", 1000, [5, 50]),     # 37 is prime: edge chunk
                 ((3, 4, 100), "int16", "zstd", 300, [1, 1, 100]),  # a row is too big
                 ((6, 1024), "int8", "none", 4096, [3, 1024]),
                 ((8, 8), "float64", "none", 0, [8, 8])]           # 0: one chunk (Orbax)
        cases = []
        for shape, dtype, compression, max_bytes, _ in specs:
            case = self.new_case(dtype, shape, compression, None, rng)
            case.max_chunk_bytes = max_bytes
            case.threads = 2
            cases.append(case)
        run_all(cases)
        for case, (_, _, _, _, chunks) in zip(cases, specs):
            with self.subTest(case.describe()):
                r = case.result
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                z = zarr.open(os.path.join(case.dir, "checkpoint"), mode="r")
                self.assertEqual(list(z.chunks), chunks)
                self.assertEqual(np.asarray(z[...]).tobytes(), case.array.tobytes())
                files = set(os.listdir(os.path.join(case.dir, "checkpoint")))
                self.assertEqual(files, chunk_keys(case.shape, z.chunks) | {".zarray"})
                exported = os.path.join(case.dir + ".npy")
                out = run_stowage("export", case.dir, "-o", exported, "-q")
                self.assertEqual(out.returncode, 0, out.stderr.decode())
                self.assertEqual(np.load(exported).tobytes(), case.array.tobytes())

    def test_zarray_fields(self):
        """The `.zarray` as zarr-python sees it, and byte-exact as TensorStore writes it."""
        rng = np.random.default_rng(3)
        cases = [self.new_case("float32", (4, 6), "zstd", None, rng),
                 self.new_case("int16", (10, 12), "none", 48, rng),
                 self.new_case("complex128", (), "zstd", None, rng),
                 self.new_case("bool", (0, 3), "none", None, rng)]
        run_all(cases)
        for case in cases:
            with self.subTest(case.describe()):
                self.assertEqual(case.result.returncode, 0, case.result.stderr.decode())
                path = os.path.join(case.dir, "checkpoint", ".zarray")
                with open(path) as f:
                    text = f.read()
                meta = json.loads(text)
                self.assertEqual(text.strip(), json.dumps(meta, sort_keys=True,
                                                          separators=(",", ":")),
                                 "compact JSON with sorted keys")
                self.assertEqual(sorted(meta), ["chunks", "compressor", "dimension_separator",
                                                "dtype", "fill_value", "filters", "order",
                                                "shape", "zarr_format"])
                self.assertEqual(meta["zarr_format"], 2)
                self.assertEqual(meta["dtype"], ZARR_DTYPE[case.dtype])
                self.assertEqual(meta["shape"], list(case.shape))
                self.assertEqual(meta["chunks"], orbax_chunk_shape(
                    case.shape, np.dtype(case.dtype).itemsize, case.chunk_bytes))
                self.assertEqual(meta["compressor"],
                                 {"id": "zstd", "level": 1} if case.compression == "zstd"
                                 else None)
                self.assertIsNone(meta["fill_value"])
                self.assertIsNone(meta["filters"])
                self.assertEqual(meta["order"], "C")
                self.assertEqual(meta["dimension_separator"], ".")
                z = zarr.open_array(os.path.join(case.dir, "checkpoint"), mode="r")
                self.assertEqual(z._dimension_separator, ".")
                self.assertEqual(z.dtype.str, np.dtype(meta["dtype"]).str)
        self.assertEqual(cases[0].array.shape, (4, 6))
        with open(os.path.join(cases[0].dir, "checkpoint", ".zarray")) as f:
            self.assertEqual(f.read().strip(),
                             '{"chunks":[4,6],"compressor":{"id":"zstd","level":1},'
                             '"dimension_separator":".","dtype":"<f4","fill_value":null,'
                             '"filters":null,"order":"C","shape":[4,6],"zarr_format":2}')
        # int16 [10, 12] under 48 bytes (24 elements), Orbax's greedy rule:
        # 12 -> 6, 10 -> 5, 6 -> 4.
        self.assertEqual(cases[1].result.returncode, 0)
        self.assertEqual(zarr.open_array(os.path.join(cases[1].dir, "checkpoint"),
                                         mode="r").chunks, (5, 4))

    def test_zstd_frames_carry_content_size(self):
        """Debian's zarr-python needs the zstd frame content size (docs/format.md 2.2)."""
        case = self.new_case("int32", (8,), "zstd", None, np.random.default_rng(5))
        run_all([case])
        self.assertEqual(case.result.returncode, 0, case.result.stderr.decode())
        with open(os.path.join(case.dir, "checkpoint", "0"), "rb") as f:
            frame = f.read()
        self.assertEqual(frame[:4], b"\x28\xb5\x2f\xfd")
        fcs_flag = frame[4] >> 6
        single_segment = (frame[4] >> 5) & 1
        self.assertTrue(fcs_flag != 0 or single_segment, "frame header has no content size")
        self.assertEqual(numcodecs.Zstd().decode(frame), case.array.tobytes())

    def test_zstd_frames_carry_a_content_checksum_zarr_python_verifies(self):
        """Issue 7: the frames carry a content checksum (docs/format.md 2.2, 6)
        although the .zarray compressor stays {"id":"zstd","level":1}, the form
        TensorStore's zarr driver and this numcodecs accept; zarr-python reads
        the array, and refuses a frame whose checksum no longer matches."""
        case = self.new_case("float64", (6, 7), "zstd", None, np.random.default_rng(6))
        run_all([case])
        self.assertEqual(case.result.returncode, 0, case.result.stderr.decode())
        path = os.path.join(case.dir, "checkpoint")
        with open(os.path.join(path, ".zarray")) as f:
            self.assertEqual(json.load(f)["compressor"], {"id": "zstd", "level": 1})
        chunk = os.path.join(path, "0.0")
        with open(chunk, "rb") as f:
            frame = bytearray(f.read())
        self.assertEqual(frame[:4], b"\x28\xb5\x2f\xfd")
        self.assertTrue(frame[4] & 0x04, "frame header has no Content_Checksum_flag")
        self.assertEqual(numcodecs.Zstd(level=1).decode(bytes(frame)), case.array.tobytes())
        self.assertEqual(zarr.open_array(path, mode="r")[...].tobytes(), case.array.tobytes())
        frame[-1] ^= 0x01  # the last 4 bytes are the checksum
        with self.assertRaises(RuntimeError):
            numcodecs.Zstd(level=1).decode(bytes(frame))
        with open(chunk, "wb") as f:
            f.write(frame)
        with self.assertRaises(RuntimeError):
            zarr.open_array(path, mode="r")[...]


def _add_dtype_tests():
    for name in DTYPES:
        def test(self, name=name):
            self.check_dtype(name)
        test.__doc__ = "%s at ranks 0..5, zstd/none, with/without --chunk-bytes" % name
        setattr(ZarrPythonReadsStowage, "test_roundtrip_%s" % name, test)


_add_dtype_tests()

if __name__ == "__main__":
    unittest.main(verbosity=2)
