#!/usr/bin/python3
"""Every array of the real OCDBT checkpoints in ../shared/fixtures/orbax
(written by Orbax/TensorStore in public repositories) exports through
`stowage export DIR PARAM -o x.npy` with the shape, dtype and SHA-256 that
DECODED_SUMMARY.json (decoded independently of stowage) gives; `stowage
verify` passes on each, and fails, naming the file, once a byte is damaged.

Skips (77) without the CLI, numpy, or the fixtures.
"""
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

SHARED = os.environ.get("STOWAGE_SHARED_DIR", "")
FIXTURES = os.path.join(SHARED, "fixtures", "orbax")
SUMMARY = os.path.join(FIXTURES, "DECODED_SUMMARY.json")
if not os.path.isfile(SUMMARY):
    print("skipped: %s absent" % SUMMARY, file=sys.stderr)
    sys.exit(77)
EXIT_DATA_LOSS = 5


def ocdbt_checkpoints():
    """(directory, {param: expected}) for each summarized OCDBT checkpoint."""
    with open(SUMMARY) as f:
        summary = json.load(f)
    for relative, params in sorted(summary.items()):
        directory = os.path.join(FIXTURES, relative)
        if os.path.isfile(os.path.join(directory, "manifest.ocdbt")):
            yield directory, params


class OrbaxOcdbtFixtureTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_every_array_matches_the_decoded_summary(self):
        exported = 0
        for directory, params in ocdbt_checkpoints():
            for param, want in sorted(params.items()):
                out = os.path.join(self.tmp, "x.npy")
                result = run_stowage("export", directory, param, "-o", out, "-q")
                self.assertEqual(result.returncode, 0, "%s %s: %s" % (directory, param,
                                                                     result.stderr.decode()))
                got = np.load(out)
                what = "%s:%s" % (os.path.relpath(directory, FIXTURES), param)
                self.assertEqual(list(got.shape), want["shape"], what)
                self.assertEqual(got.dtype.newbyteorder("<").str,
                                 np.dtype(want["dtype"]).newbyteorder("<").str, what)
                data = np.ascontiguousarray(got).astype(got.dtype.newbyteorder("<")).tobytes()
                self.assertEqual(hashlib.sha256(data).hexdigest(), want["sha256_c_order_le"], what)
                exported += 1
        self.assertGreaterEqual(exported, 240)

    def test_verify_passes_on_each_and_inspect_lists_every_key(self):
        checked = 0
        for directory, params in ocdbt_checkpoints():
            result = run_stowage("verify", directory)
            self.assertEqual(result.returncode, 0, result.stdout.decode() + result.stderr.decode())
            self.assertIn("result:      OK", result.stdout.decode())
            info = json.loads(run_stowage("inspect", "--json", directory).stdout)
            self.assertEqual(len(info["ocdbt"]["keys"]), info["ocdbt"]["num_keys"])
            arrays = [leaf for leaf in info["leaves"] if leaf.get("shape") is not None]
            self.assertEqual(len(arrays), len(params), directory)  # None leaves have no array
            checked += 1
        self.assertGreaterEqual(checked, 12)

    def test_verify_reports_a_damaged_data_file_by_name(self):
        source = os.path.join(FIXTURES, "Avi161__ACSolverX/ppo_checkpoints/610model/1000/params")
        copy = os.path.join(self.tmp, "params")
        shutil.copytree(source, copy)
        for root, _, files in os.walk(copy):
            os.chmod(root, 0o755)
            for name in files:
                os.chmod(os.path.join(root, name), 0o644)
        data_dir = os.path.join(copy, "d")  # holds the root B+tree node only
        victim = os.listdir(data_dir)[0]
        path = os.path.join(data_dir, victim)
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            byte = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([byte[0] ^ 0x20]))
        result = run_stowage("verify", copy)
        self.assertEqual(result.returncode, EXIT_DATA_LOSS, result.stdout.decode())
        self.assertIn(victim, result.stdout.decode())
        self.assertIn("PROBLEM", result.stdout.decode())


if __name__ == "__main__":
    unittest.main()
