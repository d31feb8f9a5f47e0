#!/usr/bin/python3
"""The `stowage` command line as a script relies on it (docs/cli.md).

Exit codes and messages (`stowage: <kind>: <message>` naming the file):
3 not found, 4 invalid argument, 5 data loss, 6 unsupported, 8 already
exists, 9 resource exhausted, 2 usage. `inspect` text and JSON. `--scalar`,
`--name`, `--force`, `--dtype`. No `*.orbax-checkpoint-tmp` (or other
temporary) left after a success or a failure. No progress output when
stderr is not a terminal, or with -q.

Run by CTest with STOWAGE_BIN set; exits 77 (skipped) without the CLI or
without zarr-python. Only Debian's /usr/bin/python3 has numpy + zarr.
"""
import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import unittest
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stowage_script import STOWAGE_BIN, run_stowage  # noqa: E402 (exits 77 when unusable)
import numpy as np
import zarr

EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INVALID_ARGUMENT = 4
EXIT_DATA_LOSS = 5
EXIT_UNSUPPORTED = 6
EXIT_ALREADY_EXISTS = 8
EXIT_RESOURCE_EXHAUSTED = 9

TEMPORARY_SUFFIXES = (".orbax-checkpoint-tmp", ".stowage-replaced", ".stowage-partial")



class CliTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="stowage_cli_")
        self.tmp = self._tmp.name
        self.rng = np.random.default_rng(zlib.crc32(self.id().encode()))

    def tearDown(self):
        # Whatever happened, nothing temporary is left behind.
        self.assert_no_temporaries()
        self._tmp.cleanup()

    # Helpers ------------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def save_npy(self, name, array):
        path = self.path(name)
        np.save(path, array)
        return path

    def import_array(self, array, name="ckpt", *extra):
        npy = self.save_npy(name + ".npy", array)
        directory = self.path(name)
        r = run_stowage("import", npy, directory, *extra)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return directory

    def export(self, directory, *extra, out="out.npy"):
        out = self.path(out)
        r = run_stowage("export", directory, "-o", out, *extra)
        return r, out

    def assert_fails(self, r, code, kind, *mentions):
        """Exit `code`; stderr is 'stowage: <kind>: ...' naming each of `mentions`."""
        err = r.stderr.decode()
        self.assertEqual(r.returncode, code, "stderr: %s" % err)
        self.assertTrue(err.startswith("stowage: %s: " % kind), "stderr: %s" % err)
        for text in mentions:
            self.assertIn(str(text), err)
        return err

    def assert_no_temporaries(self):
        for dirpath, dirnames, filenames in os.walk(self.tmp):
            for name in dirnames + filenames:
                self.assertFalse(name.endswith(TEMPORARY_SUFFIXES) or
                                 ".orbax-checkpoint-tmp" in name,
                                 "left behind: %s" % os.path.join(dirpath, name))

    def assert_exported(self, directory, want, *extra):
        r, out = self.export(directory, *extra)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        got = np.load(out)
        self.assertEqual(got.dtype, want.dtype)
        self.assertEqual(got.shape, want.shape)
        self.assertTrue(np.array_equal(got, want, equal_nan=want.dtype.kind in "fc"))
        os.remove(out)

    def read_json(self, *parts):
        with open(self.path(*parts)) as f:
            return json.load(f)

    # Usage -----------------------------------------------------------------

    def test_usage_errors_exit_2(self):
        npy = self.save_npy("a.npy", np.arange(4, dtype=np.int32))
        for args in [[], ["frobnicate"], ["import"], ["import", npy],
                     ["export", self.path("x")],  # -o is required
                     ["export", self.path("x"), "-o", self.path("o.npy"), "--bogus"],
                     ["import", npy, self.path("c"), "--compression", "lz4"],
                     ["import", npy, self.path("c"), "--chunk-bytes", "0"],
                     ["import", npy, self.path("c"), "--chunk-bytes", "-8"],
                     ["import", npy, self.path("c"), "--threads", "many"],
                     ["inspect"]]:
            with self.subTest(args=args):
                r = run_stowage(*args)
                self.assertEqual(r.returncode, EXIT_USAGE, r.stderr.decode())
                self.assertFalse(os.path.exists(self.path("c")))
                self.assertFalse(os.path.exists(self.path("o.npy")))

    def test_help_exits_0(self):
        r = run_stowage("--help")
        self.assertEqual(r.returncode, 0)
        for word in ["import", "export", "inspect"]:
            self.assertIn(word, r.stdout.decode())

    # Not found (3) ---------------------------------------------------------

    def test_export_missing_directory(self):
        missing = self.path("no", "such", "checkpoint")
        r, out = self.export(missing)
        self.assert_fails(r, EXIT_NOT_FOUND, "not found", missing)
        self.assertFalse(os.path.exists(out))

    def test_inspect_missing_directory(self):
        missing = self.path("absent")
        r = run_stowage("inspect", missing)
        self.assert_fails(r, EXIT_NOT_FOUND, "not found", missing)
        r = run_stowage("inspect", missing, "--json")
        self.assert_fails(r, EXIT_NOT_FOUND, "not found", missing)

    def test_import_missing_npy(self):
        missing = self.path("absent.npy")
        r = run_stowage("import", missing, self.path("ckpt"))
        self.assert_fails(r, EXIT_NOT_FOUND, "not found", missing)
        self.assertFalse(os.path.exists(self.path("ckpt")))

    def test_export_missing_zarray(self):
        directory = self.import_array(np.arange(6.0))
        os.remove(self.path("ckpt", "checkpoint", ".zarray"))
        r, out = self.export(directory)
        self.assert_fails(r, EXIT_NOT_FOUND, "not found", ".zarray")
        self.assertFalse(os.path.exists(out))

    def test_export_missing_chunk(self):
        directory = self.import_array(np.arange(24, dtype=np.int16).reshape(4, 6), "ckpt",
                                      "--chunk-bytes", "12")
        self.assertEqual(self.read_json("ckpt", "checkpoint", ".zarray")["chunks"], [2, 3])
        os.remove(self.path("ckpt", "checkpoint", "1.0"))
        r, out = self.export(directory)
        self.assert_fails(r, EXIT_NOT_FOUND, "not found", os.path.join("checkpoint", "1.0"))
        self.assertFalse(os.path.exists(out))

    def test_allow_missing_chunks_reads_fill_value(self):
        array = np.arange(1, 25, dtype=np.int16).reshape(4, 6)
        directory = self.import_array(array, "ckpt", "--chunk-bytes", "12")
        os.remove(self.path("ckpt", "checkpoint", "1.1"))
        want = array.copy()
        want[2:4, 3:6] = 0  # fill_value null: zero
        self.assert_exported(directory, want, "--allow-missing-chunks")

    def test_export_unknown_key(self):
        directory = self.import_array(np.arange(3))
        r, out = self.export(directory, "nope")
        self.assert_fails(r, EXIT_NOT_FOUND, "not found", "nope")
        self.assertFalse(os.path.exists(out))

    # Data loss (5) -----------------------------------------------------------

    def test_corrupt_zarray(self):
        for i, text in enumerate(['{"chunks": [3], "shape": ', "\x00\x01garbage",
                                  '{"zarr_format": 2, "shape": "three", "chunks": [3], '
                                  '"dtype": "<f8", "compressor": null, "fill_value": null, '
                                  '"order": "C", "filters": null}']):
            with self.subTest(text=text):
                directory = self.import_array(np.arange(3.0), "ckpt%d" % i)
                zarray = os.path.join(directory, "checkpoint", ".zarray")
                with open(zarray, "w") as f:
                    f.write(text)
                r, out = self.export(directory)
                self.assert_fails(r, EXIT_DATA_LOSS, "data loss", zarray)
                self.assertFalse(os.path.exists(out))

    def test_corrupt_metadata(self):
        directory = self.import_array(np.arange(3.0))
        with open(os.path.join(directory, "_METADATA"), "w") as f:
            f.write('{"tree_metadata": ')
        r, out = self.export(directory)
        self.assert_fails(r, EXIT_DATA_LOSS, "data loss", os.path.join(directory, "_METADATA"))
        self.assertFalse(os.path.exists(out))

    def test_truncated_chunk(self):
        array = np.arange(48, dtype=np.float64).reshape(6, 8)
        for compression in ["none", "zstd"]:
            with self.subTest(compression=compression):
                name = "ckpt_" + compression
                directory = self.import_array(array, name, "--compression", compression,
                                              "--chunk-bytes", "96")
                chunk = os.path.join(directory, "checkpoint", "1.0")
                self.assertTrue(os.path.isfile(chunk))
                with open(chunk, "r+b") as f:
                    size = os.path.getsize(chunk)
                    f.truncate(size // 2)
                r, out = self.export(directory)
                self.assert_fails(r, EXIT_DATA_LOSS, "data loss", chunk)
                self.assertFalse(os.path.exists(out))

    def test_empty_chunk_file(self):
        for compression in ["none", "zstd"]:
            with self.subTest(compression=compression):
                directory = self.import_array(np.arange(8.0), "ckpt_" + compression,
                                              "--compression", compression)
                chunk = os.path.join(directory, "checkpoint", "0")
                open(chunk, "wb").close()
                r, out = self.export(directory)
                self.assert_fails(r, EXIT_DATA_LOSS, "data loss", chunk)
                self.assertFalse(os.path.exists(out))

    def test_oversized_raw_chunk(self):
        directory = self.import_array(np.arange(8, dtype=np.int32), "ckpt",
                                      "--compression", "none")
        chunk = os.path.join(directory, "checkpoint", "0")
        with open(chunk, "ab") as f:
            f.write(b"\0\0\0\0")
        r, out = self.export(directory)
        self.assert_fails(r, EXIT_DATA_LOSS, "data loss", chunk)

    def test_corrupt_zstd_chunk(self):
        directory = self.import_array(np.arange(1000, dtype=np.int64), "ckpt")
        chunk = os.path.join(directory, "checkpoint", "0")
        with open(chunk, "r+b") as f:
            f.write(b"\0\0\0\0\0\0\0\0")  # destroys the frame magic and header
        r, out = self.export(directory)
        self.assert_fails(r, EXIT_DATA_LOSS, "data loss", chunk)

    # verify (issue 7) ------------------------------------------------------------

    def flip_last_byte(self, path):
        with open(path, "r+b") as f:
            f.seek(-1, 2)
            byte = f.read(1)
            f.seek(-1, 2)
            f.write(bytes([byte[0] ^ 0x01]))

    def test_verify_zstd_checksum_catches_a_flipped_byte(self):
        directory = self.import_array(np.arange(100, dtype=np.float32), "ckpt")
        r = run_stowage("verify", directory)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        self.assertIn("result:      OK\n", r.stdout.decode())
        self.assertNotIn("unverifiable", r.stdout.decode())
        chunk = os.path.join(directory, "checkpoint", "0")
        self.flip_last_byte(chunk)  # in the frame's content checksum
        r = run_stowage("verify", directory)
        self.assertEqual(r.returncode, EXIT_DATA_LOSS, r.stdout.decode())
        self.assertIn(chunk, r.stdout.decode())
        r, out = self.export(directory)
        self.assert_fails(r, EXIT_DATA_LOSS, "data loss", chunk)

    def test_verify_lists_raw_chunks_as_unverifiable_and_exits_0(self):
        directory = self.import_array(np.arange(100, dtype=np.float32), "ckpt",
                                      "--compression", "none")
        self.flip_last_byte(os.path.join(directory, "checkpoint", "0"))
        r = run_stowage("verify", directory)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        self.assertIn("unverifiable: 1 leaf/leaves", out)
        self.assertIn("checkpoint: uncompressed chunks, 1 chunk(s) in checkpoint/0\n", out)
        self.assertIn("result:      OK (partly unverifiable)\n", out)

    # Unsupported (6), resource exhausted (9) -----------------------------------

    def rewrite_zarray(self, directory, **changes):
        path = os.path.join(directory, "checkpoint", ".zarray")
        with open(path) as f:
            meta = json.load(f)
        meta.update(changes)
        with open(path, "w") as f:
            json.dump(meta, f)
        return path

    def test_import_unsupported_npy_dtype(self):
        for name, array in [("str", np.array(["ab", "c"])),
                            ("object", np.array([1, "a"], dtype=object)),
                            ("struct", np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")])),
                            ("datetime", np.arange(3).astype("M8[s]"))]:
            with self.subTest(name):
                npy = self.path(name + ".npy")
                np.save(npy, array, allow_pickle=True)
                r = run_stowage("import", npy, self.path(name))
                self.assert_fails(r, EXIT_UNSUPPORTED, "unsupported", npy)
                self.assertFalse(os.path.exists(self.path(name)))

    def test_unknown_compressor(self):
        directory = self.import_array(np.arange(10.0))
        self.rewrite_zarray(directory, compressor={"id": "frobnicator", "level": 3})
        r, out = self.export(directory)
        self.assert_fails(r, EXIT_UNSUPPORTED, "unsupported", "frobnicator")
        self.assertFalse(os.path.exists(out))

    def test_huge_shape_is_resource_exhausted(self):
        directory = self.import_array(np.arange(4.0).reshape(2, 2))
        self.rewrite_zarray(directory, shape=[2 ** 31, 2 ** 22])  # 64 PiB of float64
        r, out = self.export(directory)
        self.assert_fails(r, EXIT_RESOURCE_EXHAUSTED, "resource exhausted")
        self.assertFalse(os.path.exists(out))

    # Already exists (8), --force ------------------------------------------------

    def test_import_refuses_existing_and_force_replaces(self):
        first = np.arange(5, dtype=np.int32)
        second = np.arange(7, dtype=np.float32) * 2
        directory = self.import_array(first)
        with open(os.path.join(directory, "_METADATA")) as f:
            metadata = f.read()
        npy = self.save_npy("second.npy", second)
        r = run_stowage("import", npy, directory)
        self.assert_fails(r, EXIT_ALREADY_EXISTS, "already exists", directory)
        self.assert_no_temporaries()
        with open(os.path.join(directory, "_METADATA")) as f:
            self.assertEqual(f.read(), metadata)
        self.assert_exported(directory, first)  # untouched
        r = run_stowage("import", npy, directory, "--force")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assert_no_temporaries()
        self.assert_exported(directory, second)
        self.assertEqual(sorted(os.listdir(directory)),
                         ["_CHECKPOINT_METADATA", "_METADATA", "checkpoint",
                          "commit_success.txt"])

    def test_import_refuses_existing_empty_directory(self):
        os.mkdir(self.path("ckpt"))
        npy = self.save_npy("a.npy", np.arange(3))
        r = run_stowage("import", npy, self.path("ckpt"))
        self.assert_fails(r, EXIT_ALREADY_EXISTS, "already exists")
        self.assertEqual(os.listdir(self.path("ckpt")), [])

    # Invalid argument (4) ---------------------------------------------------------

    def test_bad_dtype_name(self):
        npy = self.save_npy("a.npy", np.arange(3.0))
        r = run_stowage("import", npy, self.path("ckpt"), "--dtype", "float31")
        self.assert_fails(r, EXIT_INVALID_ARGUMENT, "invalid argument", "float31")
        self.assertFalse(os.path.exists(self.path("ckpt")))
        directory = self.import_array(np.arange(3.0), "good")
        r, out = self.export(directory, "--dtype", "flaot32")
        self.assert_fails(r, EXIT_INVALID_ARGUMENT, "invalid argument", "flaot32")
        self.assertFalse(os.path.exists(out))

    def test_chunk_bytes_below_one_element_fails_cleanly(self):
        # Fails after the save has begun: the temporary directory must go.
        npy = self.save_npy("a.npy", np.arange(6.0))
        r = run_stowage("import", npy, self.path("ckpt"), "--chunk-bytes", "3")
        self.assert_fails(r, EXIT_INVALID_ARGUMENT, "invalid argument")
        self.assertFalse(os.path.exists(self.path("ckpt")))
        self.assert_no_temporaries()

    def test_scalar_flag_needs_0d(self):
        npy = self.save_npy("a.npy", np.arange(3.0))
        r = run_stowage("import", npy, self.path("ckpt"), "--scalar")
        self.assert_fails(r, EXIT_INVALID_ARGUMENT, "invalid argument")
        self.assertFalse(os.path.exists(self.path("ckpt")))

    def make_two_leaf_legacy(self):
        """A directory without `_METADATA` holding two zarr arrays, a and b."""
        directory = self.path("two")
        a = np.arange(6, dtype=np.int16).reshape(2, 3)
        b = np.linspace(0, 1, 5)
        zarr.open_array(os.path.join(directory, "a"), mode="w", shape=a.shape, chunks=(1, 3),
                        dtype=a.dtype)[...] = a
        zarr.open_array(os.path.join(directory, "b"), mode="w", shape=b.shape, chunks=(2,),
                        dtype=b.dtype)[...] = b
        return directory, a, b

    def test_multi_leaf_legacy_needs_key(self):
        directory, a, b = self.make_two_leaf_legacy()
        r, out = self.export(directory)
        err = self.assert_fails(r, EXIT_INVALID_ARGUMENT, "invalid argument", "a", "b")
        self.assertFalse(os.path.exists(out))
        self.assertIn("2 leaves", err)
        self.assert_exported(directory, a, "a")
        self.assert_exported(directory, b, "b")
        r, out = self.export(directory, "c")
        self.assert_fails(r, EXIT_NOT_FOUND, "not found", '"c"')

    def test_multi_leaf_metadata_needs_key(self):
        # Two single-leaf checkpoints merged into one with a two-entry _METADATA.
        w = np.arange(12, dtype=np.float32).reshape(3, 4)
        v = np.arange(5, dtype=np.int64)
        d1 = self.import_array(w, "one", "--name", "w")
        d2 = self.import_array(v, "two", "--name", "v")
        shutil.copytree(os.path.join(d2, "v"), os.path.join(d1, "v"))
        meta = self.read_json("one", "_METADATA")
        meta2 = self.read_json("two", "_METADATA")
        meta["tree_metadata"].update(meta2["tree_metadata"])
        with open(os.path.join(d1, "_METADATA"), "w") as f:
            json.dump(meta, f)
        r, out = self.export(d1)
        self.assert_fails(r, EXIT_INVALID_ARGUMENT, "invalid argument", "w", "v")
        self.assertFalse(os.path.exists(out))
        self.assert_exported(d1, w, "w")
        self.assert_exported(d1, v, "v")
        info = json.loads(run_stowage("inspect", d1, "--json").stdout)
        self.assertEqual(sorted(leaf["name"] for leaf in info["leaves"]), ["v", "w"])

    def test_temporary_directory_is_never_read(self):
        directory = self.import_array(np.arange(3.0))
        tmp_name = directory + ".orbax-checkpoint-tmp"
        os.rename(directory, tmp_name)
        r, out = self.export(tmp_name)
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(out))
        shutil.rmtree(tmp_name)

    # inspect --------------------------------------------------------------------------

    def test_inspect_text(self):
        directory = self.import_array(np.zeros((6, 10), np.float32), "ckpt",
                                      "--chunk-bytes", "80")
        r = run_stowage("inspect", directory)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        text = r.stdout.decode()
        self.assertIn("zarr v2", text)
        self.assertIn("float32", text)
        self.assertIn("<f4", text)
        self.assertIn("[6, 10]", text)  # shape
        self.assertIn("[3, 5]", text)  # chunks (Orbax's greedy split: 10 -> 5, 6 -> 3)
        self.assertIn("zstd", text)
        self.assertIn("checkpoint", text)
        lower = text.lower()
        for word in ["format", "dtype", "shape", "chunks", "compressor"]:
            self.assertIn(word, lower)
        self.assertEqual(r.stderr, b"")

    def test_inspect_json(self):
        directory = self.import_array(np.zeros((6, 10), np.float32), "ckpt",
                                      "--chunk-bytes", "80")
        r = run_stowage("inspect", directory, "--json")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        info = json.loads(r.stdout)
        self.assertEqual(info["format"], "zarr v2")
        self.assertIs(info["finalized"], True)
        self.assertIs(info["has_tree_metadata"], True)
        self.assertEqual(len(info["leaves"]), 1)
        leaf = info["leaves"][0]
        self.assertEqual(leaf["name"], "checkpoint")
        self.assertEqual(leaf["value_type"], "np.ndarray")
        self.assertEqual(leaf["shape"], [6, 10])
        self.assertEqual(leaf["chunks"], [3, 5])
        self.assertEqual(leaf["dtype"], "float32")
        self.assertEqual(leaf["zarr_dtype"], "<f4")
        self.assertEqual(leaf["compressor"], {"id": "zstd", "level": 1})
        self.assertEqual(leaf["chunk_files"], 4)
        self.assertGreater(leaf["bytes_on_disk"], 0)
        self.assertGreaterEqual(info["total_bytes"], leaf["bytes_on_disk"])

    def test_inspect_legacy_layout(self):
        directory, _, _ = self.make_two_leaf_legacy()
        info = json.loads(run_stowage("inspect", directory, "--json").stdout)
        self.assertIs(info["has_tree_metadata"], False)
        self.assertEqual(sorted(leaf["name"] for leaf in info["leaves"]), ["a", "b"])
        r = run_stowage("inspect", directory)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("zarr v2", r.stdout.decode())

    # --scalar, --name, --dtype ------------------------------------------------------

    def test_scalar_round_trip(self):
        value = np.array(-2.5e-3, dtype=np.float64)
        directory = self.import_array(value, "ckpt", "--scalar")
        meta = self.read_json("ckpt", "_METADATA")
        entry = meta["tree_metadata"]["('checkpoint',)"]
        self.assertEqual(entry["value_metadata"]["value_type"], "scalar")
        self.assertEqual(entry["key_metadata"], [{"key": "checkpoint", "key_type": 2}])
        self.assertEqual(self.read_json("ckpt", "checkpoint", ".zarray")["shape"], [])
        self.assert_exported(directory, value)
        self.assertEqual(np.asarray(zarr.open(os.path.join(directory, "checkpoint"),
                                              mode="r")[...]), value)
        info = json.loads(run_stowage("inspect", directory, "--json").stdout)
        self.assertEqual(info["leaves"][0]["value_type"], "scalar")
        self.assertEqual(info["leaves"][0]["shape"], [])
        # Without --scalar a 0-d array stays an np.ndarray.
        other = self.import_array(np.array(7, dtype=np.int32), "plain")
        entry = self.read_json("plain", "_METADATA")["tree_metadata"]["('checkpoint',)"]
        self.assertEqual(entry["value_metadata"]["value_type"], "np.ndarray")
        self.assert_exported(other, np.array(7, dtype=np.int32))

    def test_name_option(self):
        weights = self.rng.standard_normal((4, 5)).astype(np.float32)
        directory = self.import_array(weights, "ckpt", "--name", "weights")
        self.assertTrue(os.path.isfile(self.path("ckpt", "weights", ".zarray")))
        self.assertFalse(os.path.exists(self.path("ckpt", "checkpoint")))
        self.assertEqual(list(self.read_json("ckpt", "_METADATA")["tree_metadata"]),
                         ["('weights',)"])
        self.assert_exported(directory, weights)
        self.assert_exported(directory, weights, "weights")
        r, out = self.export(directory, "checkpoint")
        self.assert_fails(r, EXIT_NOT_FOUND, "not found", "checkpoint")
        self.assertTrue(np.array_equal(
            zarr.open(self.path("ckpt", "weights"), mode="r")[...], weights))

    def test_name_that_is_not_a_single_folder_name(self):
        # "." and ".." would put the array outside its own folder: the
        # request is wrong (invalid argument), and nothing is touched.
        npy = self.save_npy("a.npy", np.arange(3.0))
        for name in [".", "..", "../escape"]:
            with self.subTest(name=name):
                r = run_stowage("import", npy, self.path("ckpt"), "--name", name)
                self.assert_fails(r, EXIT_INVALID_ARGUMENT, "invalid argument")
                self.assertEqual(sorted(os.listdir(self.tmp)), ["a.npy"])

    def test_name_colliding_with_checkpoint_files(self):
        # A leaf named like one of the checkpoint's own files cannot be
        # saved. The import must fail cleanly, and not as "not found" (3):
        # every input exists, and scripts read 3 as "your input is missing".
        npy = self.save_npy("a.npy", np.arange(3.0))
        for name in ["_METADATA", "_CHECKPOINT_METADATA", "commit_success.txt"]:
            with self.subTest(name=name):
                r = run_stowage("import", npy, self.path("ckpt"), "--name", name)
                self.assertNotEqual(r.returncode, 0)
                self.assertNotIn(r.returncode, (1, EXIT_NOT_FOUND, 10), r.stderr.decode())
                self.assertTrue(r.stderr.startswith(b"stowage: "), r.stderr)
                self.assertEqual(sorted(os.listdir(self.tmp)), ["a.npy"])

    def test_export_dtype(self):
        array = self.rng.standard_normal(50) * 1e3
        directory = self.import_array(array)
        self.assert_exported(directory, array.astype(np.float32), "--dtype", "float32")
        self.assert_exported(directory, array.astype(np.float16), "--dtype", "float16")
        self.assert_exported(directory, array, "--dtype", "float64")

    def test_import_dtype(self):
        array = np.arange(-5, 5, dtype=np.int64) * 1000
        directory = self.import_array(array, "ckpt", "--dtype", "int32")
        self.assertEqual(self.read_json("ckpt", "checkpoint", ".zarray")["dtype"], "<i4")
        self.assert_exported(directory, array.astype(np.int32))

    # Atomicity and progress -----------------------------------------------------------

    def test_layout_after_import(self):
        directory = self.import_array(np.arange(10, dtype=np.uint8))
        self.assertEqual(sorted(os.listdir(directory)),
                         ["_CHECKPOINT_METADATA", "_METADATA", "checkpoint",
                          "commit_success.txt"])
        self.assertEqual(sorted(os.listdir(self.tmp)), ["ckpt", "ckpt.npy"])
        cm = self.read_json("ckpt", "_CHECKPOINT_METADATA")
        self.assertEqual(cm["item_handlers"], "orbax.checkpoint._src.handlers."
                         "array_checkpoint_handler.ArrayCheckpointHandler")
        self.assertIn("commit_timestamp_nsecs", cm)

    def test_stale_temporary_directory_is_replaced(self):
        stale = self.path("ckpt.orbax-checkpoint-tmp")
        os.makedirs(os.path.join(stale, "checkpoint"))
        with open(os.path.join(stale, "junk"), "w") as f:
            f.write("from a crashed save")
        array = np.arange(4.0)
        directory = self.import_array(array)
        self.assertFalse(os.path.exists(stale))
        self.assertNotIn("junk", os.listdir(directory))
        self.assert_exported(directory, array)

    def test_failures_leave_nothing_behind(self):
        npy = self.save_npy("a.npy", np.arange(6.0))
        with open(self.path("bad.npy"), "wb") as f:
            f.write(b"\x93NUMPY\x01\x00")  # truncated header
        for args in [["import", self.path("bad.npy"), self.path("c1")],
                     ["import", npy, self.path("c2"), "--dtype", "nope"],
                     ["import", npy, self.path("c3"), "--chunk-bytes", "1"],
                     ["import", npy, self.path("c4"), "--scalar"],
                     ["export", self.path("missing"), "-o", self.path("o.npy")]]:
            with self.subTest(args=args):
                r = run_stowage(*args)
                self.assertNotEqual(r.returncode, 0)
                self.assertNotIn(r.returncode, (1, 10), r.stderr.decode())  # not a crash
                self.assertTrue(r.stderr.startswith(b"stowage: "), r.stderr)
                self.assertEqual(sorted(os.listdir(self.tmp)), ["a.npy", "bad.npy"])
                self.assert_no_temporaries()

    def test_no_progress_output_when_stderr_is_not_a_terminal(self):
        array = self.rng.standard_normal((256, 256))  # 512 KiB
        npy = self.save_npy("a.npy", array)
        r = run_stowage("import", npy, self.path("ckpt"))  # no -q
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stderr, b"")
        r = run_stowage("export", self.path("ckpt"), "-o", self.path("out.npy"))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stderr, b"")
        self.assertEqual(r.stdout, b"")
        self.assertTrue(np.array_equal(np.load(self.path("out.npy")), array))

    def test_quiet_on_a_terminal(self):
        npy = self.save_npy("a.npy", self.rng.standard_normal((256, 256)))
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen([STOWAGE_BIN, "import", npy, self.path("ckpt"), "-q"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=slave)
            os.close(slave)
            slave = None
            seen = b""
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                seen += data
            self.assertEqual(proc.wait(timeout=60), 0)
            proc.stdout.close()
            self.assertEqual(seen, b"")
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)


if __name__ == "__main__":
    unittest.main(verbosity=2)
