#!/usr/bin/python3
"""stowage restores what zarr-python writes.

Arrays are created with `zarr.open_array(DIR/'checkpoint', mode='w', ...)`
(the legacy layout: no `_METADATA`) with every compressor numcodecs offers
that docs/format.md says stowage reads (zstd, zlib, gzip, lz4, blosc with
each inner codec and shuffle mode, none), C and F order, '.' and '/'
separators, big-endian dtypes and fill values (0, 42, NaN, +-inf, null,
true, complex, extreme integers) with chunks that were never written. Then
`stowage export DIR -o out.npy` must reproduce zarr-python's own read; a
missing chunk must fail with exit code 3 naming it, unless
--allow-missing-chunks, which fills it with the fill value (null: zero).

stowage writes native little-endian .npy files, so results are compared by
value and by dtype kind and size, not by byte order.

Run by CTest with STOWAGE_BIN set; exits 77 (skipped) without the CLI or
without zarr-python. Only Debian's /usr/bin/python3 has numpy + zarr.
"""
import concurrent.futures
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stowage_script import STOWAGE_BIN, assert_same_values, run_stowage  # noqa: E402 (exits 77 when unusable)
import numpy as np
import numcodecs
from numcodecs import blosc
import zarr

blosc.use_threads = False
WORKERS = max(2, min(8, 2 * (os.cpu_count() or 2)))
EXIT_NOT_FOUND = 3
EXIT_UNSUPPORTED = 6



def make_data(rng, dtype, shape, compressible):
    """Random values (with float specials) or, when `compressible`, a short
    repeating pattern that every codec actually shrinks."""
    dt = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    if compressible:
        flat = (np.arange(n) % 13).astype(dt)
        if dt.kind == "c":
            flat.imag = -(np.arange(n) % 5)
        return flat.reshape(shape)
    if dt.kind == "b":
        flat = rng.integers(0, 2, size=n).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        flat = rng.integers(int(info.min), int(info.max), size=n, endpoint=True,
                            dtype=dt.newbyteorder("=")).astype(dt)
        flat[:min(n, 2)] = [info.min, info.max][:min(n, 2)]
    elif dt.kind == "f":
        with np.errstate(over="ignore"):
            flat = (rng.standard_normal(n) * 1000).astype(dt)
        specials = np.array([np.nan, np.inf, -np.inf, -0.0, np.finfo(dt).tiny / 4], dtype=dt)
        flat[:min(n, 5)] = specials[:min(n, 5)]
    elif dt.kind == "c":
        flat = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt)
        flat[:min(n, 2)] = np.array([complex(np.nan, 1), complex(-np.inf, -0.0)],
                                    dtype=dt)[:min(n, 2)]
    else:
        raise AssertionError(dtype)
    return flat.reshape(shape)


def native(a):
    """`a` as native byte order (what stowage writes)."""
    return a.astype(a.dtype.newbyteorder("="))


def chunk_key(index, separator):
    return (separator or ".").join(str(i) for i in index) if index else "0"


def chunk_grid(shape, chunks):
    return itertools.product(*[range(-(-s // c)) for s, c in zip(shape, chunks)])


class Case:
    """One zarr-python-written array and the stowage exports of it."""

    def __init__(self, root, index, *, dtype, shape, chunks, compressor=None, order="C",
                 separator=".", fill_value=0, filters=None, compressible=False,
                 skip_chunks=(), write=True, seed=0):
        self.dtype = np.dtype(dtype)
        self.shape = tuple(shape)
        self.chunks = tuple(chunks)
        self.compressor = compressor
        self.order = order
        self.separator = separator  # None: let zarr-python omit the member
        self.fill_value = fill_value
        self.filters = filters
        self.skip_chunks = set(skip_chunks)  # chunk indices never written
        self.write = write  # False: create the array, write nothing
        self.dir = os.path.join(root, "case%03d" % index)
        self.out = os.path.join(root, "out%03d.npy" % index)
        self.out_filled = os.path.join(root, "out%03d_filled.npy" % index)
        self.data = make_data(np.random.default_rng(seed + index), self.dtype, self.shape,
                              compressible)
        self.missing = []  # keys of the chunks that are absent
        self.plain = None  # CompletedProcess of `export`
        self.filled = None  # ... of `export --allow-missing-chunks`

    def describe(self):
        comp = self.compressor.get_config() if self.compressor is not None else None
        return "%s%s chunks=%s compressor=%s order=%s sep=%r fill=%r filters=%s missing=%s" % (
            self.dtype.str, list(self.shape), list(self.chunks), comp, self.order,
            self.separator, self.fill_value, self.filters, self.missing)

    def create(self):
        kwargs = dict(mode="w", shape=self.shape, chunks=self.chunks, dtype=self.dtype,
                      compressor=self.compressor, order=self.order, fill_value=self.fill_value,
                      filters=self.filters, write_empty_chunks=True)
        if self.separator is not None:
            kwargs["dimension_separator"] = self.separator
        z = zarr.open_array(os.path.join(self.dir, "checkpoint"), **kwargs)
        if self.write:
            if not self.skip_chunks:
                z[...] = self.data
            else:
                for index in chunk_grid(self.shape, self.chunks):
                    if index in self.skip_chunks:
                        continue
                    box = tuple(slice(i * c, min((i + 1) * c, s))
                                for i, c, s in zip(index, self.chunks, self.shape))
                    z[box] = self.data[box]
        array_dir = os.path.join(self.dir, "checkpoint")
        for index in chunk_grid(self.shape, self.chunks):
            key = chunk_key(index, self.separator)
            if not os.path.exists(os.path.join(array_dir, *key.split("/"))):
                self.missing.append(key)
        return z

    def export(self):
        self.plain = run_stowage("export", self.dir, "-o", self.out, "-q")
        if self.missing:
            self.filled = run_stowage("export", self.dir, "-o", self.out_filled,
                                      "--allow-missing-chunks", "-q")
        return self

    def expected(self):
        """What the array holds: zarr-python's read, except that a null fill
        value reads as zero (zarr-python leaves such chunks uninitialised)."""
        z = zarr.open_array(os.path.join(self.dir, "checkpoint"), mode="r")
        got = np.asarray(z[...])
        if self.fill_value is None and self.missing:
            want = np.zeros(self.shape, dtype=self.dtype)
            for index in chunk_grid(self.shape, self.chunks):
                if chunk_key(index, self.separator) not in self.missing:
                    box = tuple(slice(i * c, min((i + 1) * c, s))
                                for i, c, s in zip(index, self.chunks, self.shape))
                    want[box] = got[box]
            return want
        return got


def assert_same(test, got, want, what):
    """Equal values (NaN-aware, -0.0 != 0.0), same dtype kind and size; native
    little-endian output."""
    test.assertEqual(got.shape, want.shape, what)
    test.assertEqual((got.dtype.kind, got.dtype.itemsize), (want.dtype.kind, want.dtype.itemsize),
                     "%s: dtype %s vs %s" % (what, got.dtype.str, want.dtype.str))
    test.assertIn(got.dtype.byteorder, ("<", "=", "|"), what)
    assert_same_values(test, native(got), native(want), what)


def names_key(message, key):
    """Whether `message` names chunk `key` (not as part of a longer number)."""
    return re.search(r"(?<![\w.])%s(?![\w.])" % re.escape(key), message) is not None or \
        re.search(r"(?<![\w])%s(?![\w.])" % re.escape("/" + key), message) is not None


class StowageReadsZarrPython(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="stowage_reads_zarr_")
        cls.root = cls._tmp.name
        cls.counter = 0

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def make(self, **kwargs):
        type(self).counter += 1
        return Case(self.root, type(self).counter, **kwargs)

    def run_cases(self, cases):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for case in cases:
                case.create()
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(Case.export, cases))
        for case in cases:
            with self.subTest(case.describe()):
                self.check(case)

    def check(self, case):
        what = case.describe()
        if not case.missing:
            r = case.plain
            self.assertEqual(r.returncode, 0, "%s: %s" % (what, r.stderr.decode()))
            self.assertEqual(r.stderr, b"", what)
            assert_same(self, np.load(case.out), case.expected(), what)
            return
        # Missing chunks: an error naming one of them, and no output file.
        r = case.plain
        message = r.stderr.decode()
        self.assertEqual(r.returncode, EXIT_NOT_FOUND, "%s: %s" % (what, message))
        self.assertTrue(message.startswith("stowage: not found: "), message)
        self.assertTrue(any(names_key(message, key) for key in case.missing),
                        "%s: message does not name a missing chunk: %s" % (what, message))
        self.assertFalse(os.path.exists(case.out), what)
        self.assertFalse(os.path.exists(case.out + ".stowage-partial"), what)
        # ... and with --allow-missing-chunks, the fill value there.
        r = case.filled
        self.assertEqual(r.returncode, 0, "%s: %s" % (what, r.stderr.decode()))
        assert_same(self, np.load(case.out_filled), case.expected(), what + " (filled)")

    def test_compressors(self):
        compressors = [numcodecs.Zstd(level=1), numcodecs.Zstd(level=3), numcodecs.Zstd(level=19),
                       numcodecs.Zstd(level=-3), numcodecs.Zlib(level=0), numcodecs.Zlib(level=1),
                       numcodecs.Zlib(level=9), numcodecs.GZip(level=0), numcodecs.GZip(level=5),
                       numcodecs.GZip(level=9), numcodecs.LZ4(acceleration=1),
                       numcodecs.LZ4(acceleration=10), None]
        dtypes = ["<f8", "<i4", "<u2", "|u1", "<f4", "<c8", "|b1", "<i8", "<f2", "<c16", "|i1"]
        cases = []
        for i, (compressor, compressible) in enumerate(itertools.product(compressors,
                                                                         [False, True])):
            cases.append(self.make(dtype=dtypes[i % len(dtypes)], shape=(13, 17), chunks=(5, 6),
                                   compressor=compressor, compressible=compressible))
        self.run_cases(cases)

    def test_blosc(self):
        shuffles = [blosc.NOSHUFFLE, blosc.SHUFFLE, blosc.BITSHUFFLE, blosc.AUTOSHUFFLE]
        dtypes = ["<f8", "<i4", "|u1", "<u2", "<f4", "<c16", "|b1", "<i8", "<f2"]
        cases = []
        for i, (cname, shuffle) in enumerate(itertools.product(
                ["lz4", "lz4hc", "blosclz", "zstd", "zlib"], shuffles)):
            # Chunks of a few KiB, some split into several blosc blocks.
            cases.append(self.make(
                dtype=dtypes[i % len(dtypes)], shape=(40, 70), chunks=(16, 32),
                compressor=numcodecs.Blosc(cname=cname, clevel=5, shuffle=shuffle,
                                           blocksize=1024 if i % 3 == 0 else 0),
                compressible=i % 2 == 0, order="F" if i % 4 == 1 else "C"))
        # clevel 0 stores the chunk uncompressed inside blosc's frame.
        cases.append(self.make(dtype="<f4", shape=(20, 30), chunks=(8, 16),
                               compressor=numcodecs.Blosc(cname="lz4", clevel=0,
                                                          shuffle=blosc.SHUFFLE)))
        cases.append(self.make(dtype="<i2", shape=(20, 30), chunks=(8, 16),
                               compressor=numcodecs.Blosc(cname="zstd", clevel=9,
                                                          shuffle=blosc.BITSHUFFLE),
                               compressible=True))
        # One chunk of 512 KiB: large enough for blosc's split / multi-block paths.
        cases.append(self.make(dtype="<f8", shape=(256, 256), chunks=(256, 256),
                               compressor=numcodecs.Blosc(cname="lz4", clevel=5,
                                                          shuffle=blosc.SHUFFLE),
                               compressible=True))
        self.run_cases(cases)

    def test_blosc_snappy(self):
        """docs/format.md: 'blosc (every inner codec ...)': snappy either reads
        correctly or, when the c-blosc build lacks it, is reported as
        unsupported (exit 6) - never wrong data."""
        if "snappy" not in blosc.list_compressors():
            self.skipTest("numcodecs' blosc lacks snappy")
        case = self.make(dtype="<i4", shape=(20, 30), chunks=(8, 16),
                         compressor=numcodecs.Blosc(cname="snappy", clevel=5,
                                                    shuffle=blosc.SHUFFLE), compressible=True)
        case.create()
        case.export()
        if case.plain.returncode == EXIT_UNSUPPORTED:
            self.assertIn("snappy", case.plain.stderr.decode())
        else:
            self.check(case)

    def test_order_and_separator(self):
        compressors = [numcodecs.Zstd(level=1), numcodecs.Zlib(level=3), None,
                       numcodecs.Blosc(cname="zstd", shuffle=blosc.BITSHUFFLE), numcodecs.LZ4(),
                       numcodecs.GZip(level=1)]
        cases = []
        layouts = [("C", "."), ("C", "/"), ("F", "."), ("F", "/"), ("F", None)]
        for i, (dtype, (order, separator)) in enumerate(itertools.product(
                ["<f4", "<i2", "<c16", "|b1", "<u8", "<f2"], layouts)):
            cases.append(self.make(dtype=dtype, shape=(5, 7, 6), chunks=(2, 3, 4), order=order,
                                   separator=separator,
                                   compressor=compressors[i % len(compressors)]))
        # Rank 1 and rank 4 with '/' and F order.
        cases.append(self.make(dtype="<i8", shape=(101,), chunks=(16,), order="F",
                               separator="/", compressor=numcodecs.Zstd(level=1)))
        cases.append(self.make(dtype="<f8", shape=(3, 4, 5, 6), chunks=(2, 3, 2, 4), order="F",
                               separator="/", compressor=None))
        self.run_cases(cases)

    def test_big_endian(self):
        compressors = [None, numcodecs.Zstd(level=1), numcodecs.Zlib(level=1),
                       numcodecs.Blosc(cname="lz4", shuffle=blosc.SHUFFLE), numcodecs.LZ4(),
                       numcodecs.Blosc(cname="zstd", shuffle=blosc.BITSHUFFLE)]
        cases = []
        for i, dtype in enumerate([">f8", ">i4", ">u2", ">f4", ">c16", ">i8", ">f2", ">c8",
                                   ">u8", ">i2", ">u4"]):
            cases.append(self.make(dtype=dtype, shape=(9, 11), chunks=(4, 5),
                                   order="F" if i % 2 else "C",
                                   separator="/" if i % 3 == 0 else ".",
                                   compressor=compressors[i % len(compressors)]))
        self.run_cases(cases)

    def test_fill_values_and_missing_chunks(self):
        fills = [("<i4", 0), ("<f8", 0.0), ("<i2", 42), ("<f4", 42.0), ("|u1", 42),
                 (">i4", 42), ("<f8", float("nan")), ("<f4", float("nan")),
                 ("<f2", float("nan")), ("<f8", float("inf")), (">f4", float("inf")),
                 ("<f4", float("-inf")), ("<f8", None), ("<i4", None), ("|b1", True),
                 ("<c16", complex(float("nan"), 2.0)), ("<c8", complex(1.5, -2.0)),
                 ("<u8", 2 ** 64 - 1), ("<i8", -2 ** 63), ("<f8", -0.0)]
        compressors = [numcodecs.Zstd(level=1), None, numcodecs.Blosc(cname="lz4"),
                       numcodecs.Zlib(level=1)]
        cases = []
        for i, (dtype, fill) in enumerate(fills):
            # A 3 x 3 grid of chunks (the last row and column partial); chunk
            # (2, 1) is never written.
            cases.append(self.make(dtype=dtype, shape=(7, 9), chunks=(3, 4), fill_value=fill,
                                   compressor=compressors[i % len(compressors)],
                                   separator="/" if i % 5 == 4 else ".",
                                   order="F" if i % 3 == 2 else "C", skip_chunks=[(2, 1)]))
        # Most chunks missing; no chunk at all.
        grid = list(itertools.product(range(3), range(3)))
        cases.append(self.make(dtype="<f4", shape=(7, 9), chunks=(3, 4),
                               fill_value=float("nan"), skip_chunks=grid[1:]))
        cases.append(self.make(dtype="<i4", shape=(7, 9), chunks=(3, 4), fill_value=42,
                               write=False))
        cases.append(self.make(dtype="<f8", shape=(4, 5, 6), chunks=(2, 2, 4),
                               fill_value=float("-inf"), separator="/",
                               skip_chunks=[(1, 2, 1), (0, 0, 0)]))
        self.run_cases(cases)
        for case in cases[:len(fills)]:
            self.assertEqual(case.missing, [chunk_key((2, 1), case.separator)], case.describe())

    def test_single_missing_chunk_is_named(self):
        """The message names the absent chunk, in the array's own key form."""
        for separator in [".", "/"]:
            case = self.make(dtype="<f4", shape=(7, 9), chunks=(3, 4), separator=separator,
                             fill_value=1.0, skip_chunks=[(2, 1)])
            case.create()
            case.export()
            with self.subTest(separator=separator):
                self.assertEqual(case.missing, [chunk_key((2, 1), separator)])
                self.assertEqual(case.plain.returncode, EXIT_NOT_FOUND, case.plain.stderr)
                self.assertTrue(names_key(case.plain.stderr.decode(), case.missing[0]),
                                case.plain.stderr.decode())

    def test_scalar_and_empty(self):
        cases = [self.make(dtype="<f8", shape=(), chunks=(), compressor=numcodecs.Zstd()),
                 self.make(dtype=">i2", shape=(), chunks=(), compressor=None),
                 self.make(dtype="<c8", shape=(), chunks=(),
                           compressor=numcodecs.Blosc(cname="zlib")),
                 # No chunk exists at all, and none is missing.
                 self.make(dtype="<f4", shape=(0, 5), chunks=(1, 5), fill_value=float("nan")),
                 self.make(dtype="<i4", shape=(3, 0, 2), chunks=(2, 1, 2), order="F")]
        self.run_cases(cases)

    def test_chunks_larger_than_the_array(self):
        cases = [self.make(dtype="<f8", shape=(3, 5), chunks=(10, 10), order="F",
                           compressor=numcodecs.Zstd(level=1)),
                 self.make(dtype="<i2", shape=(1,), chunks=(1000,), compressor=None),
                 self.make(dtype=">u4", shape=(7, 2, 3), chunks=(4, 8, 3), separator="/",
                           compressor=numcodecs.Blosc(cname="lz4", shuffle=blosc.BITSHUFFLE))]
        self.run_cases(cases)

    def test_array_inside_a_zarr_group(self):
        """zarr-python's group files (.zgroup, .zattrs) beside the array are ignored."""
        directory = os.path.join(self.root, "group")
        data = np.arange(30, dtype="<f4").reshape(5, 6)
        group = zarr.open_group(directory, mode="w")
        group.attrs["note"] = "written by zarr-python"
        z = group.create_dataset("checkpoint", shape=data.shape, chunks=(2, 4), dtype=data.dtype,
                                 compressor=numcodecs.Zlib(level=1))
        z[...] = data
        z.attrs["units"] = "m"
        out = os.path.join(self.root, "group.npy")
        r = run_stowage("export", directory, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        assert_same(self, np.load(out), data, "group")
        r = run_stowage("export", directory, "checkpoint", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        assert_same(self, np.load(out), data, "group, named")

    def test_inspect_describes_zarr_python_arrays(self):
        compressor = numcodecs.Blosc(cname="zstd", clevel=3, shuffle=blosc.BITSHUFFLE)
        case = self.make(dtype=">f8", shape=(7, 9), chunks=(3, 4), separator="/", order="F",
                         compressor=compressor, fill_value=float("nan"), skip_chunks=[(0, 0)])
        case.create()
        r = run_stowage("inspect", case.dir, "--json")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        info = json.loads(r.stdout)
        self.assertEqual(info["format"], "zarr v2")
        self.assertIs(info["has_tree_metadata"], False)
        (leaf,) = info["leaves"]
        self.assertEqual(leaf["name"], "checkpoint")
        self.assertEqual(leaf["dtype"], "float64")
        self.assertEqual(leaf["zarr_dtype"], ">f8")
        self.assertEqual(leaf["shape"], [7, 9])
        self.assertEqual(leaf["chunks"], [3, 4])
        self.assertEqual(leaf["compressor"], compressor.get_config())
        self.assertEqual(leaf["chunk_files"], 8)  # 9 chunks, one never written

    def test_export_dtype_from_big_endian(self):
        """`export --dtype` converts the stored (big-endian) values like astype."""
        case = self.make(dtype=">f8", shape=(6, 7), chunks=(4, 4),
                         compressor=numcodecs.Zstd(level=1))
        case.create()
        for target in ["float32", "float16", "float64", "complex128"]:
            out = os.path.join(self.root, "cast_%s.npy" % target)
            r = run_stowage("export", case.dir, "-o", out, "--dtype", target)
            with self.subTest(target=target):
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    want = case.data.astype(target)
                got = np.load(out)
                self.assertEqual(got.dtype, np.dtype(target))
                assert_same(self, got, want, target)

    def test_unsupported_is_reported_not_misread(self):
        """What stowage cannot represent or decode is exit 6 (unsupported),
        never a wrong array; a filter it did decode must give the right data."""
        cases = [
            ("bz2", self.make(dtype="<f4", shape=(6, 6), chunks=(3, 3),
                              compressor=numcodecs.BZ2(level=1)), False),
            ("lzma", self.make(dtype="<f4", shape=(6, 6), chunks=(3, 3),
                               compressor=numcodecs.LZMA()), False),
            ("bytes dtype", self.make(dtype="<i4", shape=(6,), chunks=(3,)), False),
            ("datetime64", self.make(dtype="<i8", shape=(6,), chunks=(3,)), False),
            ("delta filter", self.make(dtype="<i4", shape=(6, 6), chunks=(3, 3),
                                       filters=[numcodecs.Delta(dtype="<i4")]), True),
        ]
        # Swap in dtypes stowage has no type for (data is made by the array).
        cases[2][1].dtype, cases[2][1].data = np.dtype("|S4"), \
            np.array([b"ab", b"cd", b"", b"xyzw", b"q", b"r"], dtype="|S4")
        cases[3][1].dtype = np.dtype("<M8[s]")
        cases[3][1].data = np.arange(6).astype("<M8[s]")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _, case, _ in cases:
                case.create()
        for name, case, may_succeed in cases:
            case.export()
            with self.subTest(name):
                r = case.plain
                if may_succeed and r.returncode == 0:
                    assert_same(self, np.load(case.out), case.expected(), name)
                else:
                    self.assertEqual(r.returncode, EXIT_UNSUPPORTED,
                                     "%s: %s" % (name, r.stderr.decode()))
                    self.assertTrue(r.stderr.decode().startswith("stowage: unsupported: "),
                                    r.stderr.decode())
                    self.assertFalse(os.path.exists(case.out), name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
