#!/usr/bin/python3
"""Trees through the CLI: `stowage import TREE.npz DIR` and `stowage export
DIR -o TREE.npz` in every layout (OCDBT or folders, zarr v2 or zarr3),
zarr-python reading a tree saved without OCDBT, and every checkpoint
directory and single msgpack file of ../shared/fixtures/orbax restored as a
whole tree with the values DECODED_SUMMARY.json gives (legacy msgpack
aggregates and a pre-Orbax Flax file included).

Skips (77) without the CLI or numpy/zarr.
"""
import base64
import hashlib
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stowage_script import run_stowage  # noqa: E402 (exits 77 when unusable)
import numpy as np
import zarr

SHARED = os.environ.get("STOWAGE_SHARED_DIR", "")
FIXTURES = os.path.join(SHARED, "fixtures", "orbax")
EXIT_NOT_FOUND = 3


def sample_tree():
    rng = np.random.default_rng(3)
    return {
        "params/dense/kernel": rng.standard_normal((17, 5)).astype(np.float32),
        "params/dense/bias": np.arange(5, dtype=np.float16),
        "opt/0/count": np.array(12, dtype=np.int32),
        "opt/1/mu": rng.integers(-9, 9, (3, 4, 2)).astype(np.int64),
        "flags": np.array([True, False, True]),
    }


class TreeCliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def test_npz_round_trip_in_every_layout(self):
        tree = sample_tree()
        np.savez(self.path("in.npz"), **tree)
        for flags in ([], ["--no-ocdbt"], ["--zarr3"], ["--no-ocdbt", "--zarr3"]):
            name = "ck" + "".join(flags)
            result = run_stowage("import", self.path("in.npz"), self.path(name), "-q", *flags)
            self.assertEqual(result.returncode, 0, result.stderr.decode())
            self.assertEqual(os.path.exists(self.path(name + "/manifest.ocdbt")),
                             "--no-ocdbt" not in flags)
            result = run_stowage("export", self.path(name), "-o", self.path(name + ".npz"), "-q")
            self.assertEqual(result.returncode, 0, result.stderr.decode())
            back = np.load(self.path(name + ".npz"))
            self.assertEqual(sorted(back.files), sorted(tree), flags)
            for key, want in tree.items():
                self.assertEqual(back[key].dtype, want.dtype, key)
                self.assertTrue(np.array_equal(back[key], want), key)
            # One leaf still exports alone.
            result = run_stowage("export", self.path(name), "params.dense.kernel",
                                 "-o", self.path("one.npy"), "-q")
            self.assertEqual(result.returncode, 0, result.stderr.decode())
            self.assertTrue(np.array_equal(np.load(self.path("one.npy")),
                                           tree["params/dense/kernel"]))

    def test_zarr_python_reads_a_tree_saved_without_ocdbt(self):
        tree = sample_tree()
        np.savez(self.path("in.npz"), **tree)
        result = run_stowage("import", self.path("in.npz"), self.path("ck"), "--no-ocdbt", "-q")
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        for key, want in tree.items():
            array = zarr.open(os.path.join(self.path("ck"), key.replace("/", ".")), mode="r")
            self.assertTrue(np.array_equal(array[...], want), key)

    def test_jax_flag_writes_orbax_sharding_and_array_metadatas(self):
        tree = sample_tree()
        np.savez(self.path("in.npz"), **tree)
        result = run_stowage("import", self.path("in.npz"), self.path("ck"), "--jax", "-q")
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        names = sorted(key.replace("/", ".") for key in tree)
        with open(self.path("ck/_sharding")) as f:
            sharding = json.load(f)
        # Keys: URL-safe base64 of the param names (Orbax tensorstore_utils).
        self.assertEqual(sorted(sharding),
                         sorted(base64.urlsafe_b64encode(n.encode()).decode() for n in names))
        for value in sharding.values():
            self.assertEqual(json.loads(value),
                             {"sharding_type": "SingleDeviceSharding", "device_str": "cpu:0"})
        with open(self.path("ck/array_metadatas/process_0")) as f:
            records = [r["array_metadata"] for r in json.load(f)["array_metadatas"]]
        self.assertEqual([r["param_name"] for r in records], names)  # flatten order
        for record in records:
            shape = list(tree[record["param_name"].replace(".", "/")].shape)
            self.assertEqual(record["write_shape"], shape)
            self.assertEqual(record["chunk_shape"], [max(d, 1) for d in shape])
        with open(self.path("ck/_METADATA")) as f:
            metadata = json.load(f)["tree_metadata"]
        for entry in metadata.values():
            self.assertEqual(entry["value_metadata"]["value_type"], "jax.Array")
        result = run_stowage("export", self.path("ck"), "-o", self.path("back.npz"), "-q")
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        back = np.load(self.path("back.npz"))
        for key, want in tree.items():
            self.assertTrue(np.array_equal(back[key], want), key)

    def test_every_fixture_directory_restores_as_a_tree(self):
        summary_path = os.path.join(FIXTURES, "DECODED_SUMMARY.json")
        if not os.path.isfile(summary_path):
            self.skipTest("fixtures absent")
        with open(summary_path) as f:
            summary = json.load(f)
        restored = 0
        for relative, params in sorted(summary.items()):
            directory = os.path.join(FIXTURES, relative)  # or a single msgpack file
            out = self.path("t.npz")
            result = run_stowage("export", directory, "-o", out, "-q")
            if "t5x" in relative and os.path.isdir(directory):  # .zarray files missing upstream
                self.assertEqual(result.returncode, EXIT_NOT_FOUND, result.stderr.decode())
                self.assertIn(".zarray", result.stderr.decode())
                continue
            self.assertEqual(result.returncode, 0, relative + ": " + result.stderr.decode())
            members = {name.replace("/", "."): name for name in np.load(out).files}
            archive = np.load(out)
            for param, want in params.items():
                if "sha256_c_order_le" not in want:
                    continue  # a PLACEHOLDER or None leaf: no array in the file
                got = archive[members[param.replace("/", ".")]]
                what = relative + ":" + param
                self.assertEqual(list(got.shape), want["shape"], what)
                data = np.ascontiguousarray(got).astype(got.dtype.newbyteorder("<")).tobytes()
                self.assertEqual(hashlib.sha256(data).hexdigest(), want["sha256_c_order_le"], what)
            restored += 1
        self.assertGreaterEqual(restored, 17)  # 13 directories, 4 single msgpack files


if __name__ == "__main__":
    unittest.main()
