#!/usr/bin/python3
"""The CLI on s3:// paths, against s3rver (npm, scripts/s3rver.sh) on loopback:
`stowage import` / `export` / `inspect` / `verify` of trees in every layout, and
`stowage ls` / `rm` on a CheckpointManager root written by examples/training_loop
(beside the CLI in the build directory) straight into the bucket. The server and
credentials come from the AWS_* variables, as a user would set them.

Skips (77) without the CLI, numpy/zarr, node or an installed s3rver, unless
STOWAGE_REQUIRE_S3RVER=1 (then a missing server is a failure).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stowage_script import STOWAGE_BIN, run_stowage  # noqa: E402 (exits 77 when unusable)
import s3rver_util  # noqa: E402

import numpy as np  # noqa: E402

TRAINING_LOOP = os.path.join(os.path.dirname(STOWAGE_BIN), "training_loop")
BUCKET = "cli-test"


def sample_tree():
    rng = np.random.default_rng(7)
    return {
        "params/dense/kernel": rng.standard_normal((64, 33)).astype(np.float32),
        "params/dense/bias": np.arange(33, dtype=np.float64),
        "step": np.array(12, dtype=np.int64),
        "mask": rng.integers(0, 2, (5, 7)).astype(np.bool_),
    }


class S3CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = s3rver_util.start(BUCKET)
        cls.env = cls.server.env

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def stowage(self, *args):
        return run_stowage(*args, env=self.env)

    def ok(self, *args):
        result = self.stowage(*args)
        self.assertEqual(result.returncode, 0, "stowage %s: %s" % (args, result.stderr.decode()))
        return result

    def objects(self, prefix):
        return self.server.keys(prefix)

    def test_trees_round_trip_in_every_layout(self):
        tree = sample_tree()
        np.savez(self.path("in.npz"), **tree)
        for flags in ([], ["--no-ocdbt"], ["--zarr3"]):
            url = "s3://%s/trees/ck%s" % (BUCKET, "".join(flags))
            self.ok("import", self.path("in.npz"), url, "-q", *flags)
            info = json.loads(self.ok("inspect", url, "--json").stdout)
            self.assertTrue(info["finalized"], flags)
            self.assertEqual(info["path"], url)
            self.assertGreater(info["total_bytes"], 0)
            self.ok("verify", url)
            out = self.path("out%s.npz" % "".join(flags))
            self.ok("export", url, "-o", out, "-q")
            back = np.load(out)
            self.assertEqual(sorted(back.files), sorted(tree), flags)
            for key, want in tree.items():
                self.assertEqual(back[key].dtype, want.dtype, key)
                self.assertTrue(np.array_equal(back[key], want), key)
        # Importing over a committed checkpoint needs --force, as on disk.
        result = self.stowage("import", self.path("in.npz"), "s3://%s/trees/ck" % BUCKET, "-q")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("already exists", result.stderr.decode())

    def test_missing_checkpoint_is_not_found_and_named(self):
        url = "s3://%s/nothing/here" % BUCKET
        result = self.stowage("export", url, "-o", self.path("x.npz"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(url, result.stderr.decode())

    def test_manager_root_in_the_bucket(self):
        if not os.access(TRAINING_LOOP, os.X_OK):
            self.skipTest("examples/training_loop not built")
        root = "s3://%s/run" % BUCKET
        subprocess.run([TRAINING_LOOP, root], check=True, stdout=subprocess.PIPE, env=self.env)
        # The loop keeps the 2 best by loss (0.1 + |step - 20| / 10) plus the latest.
        flags = ["--max-to-keep", "2", "--best-metric", "loss", "--best-mode", "min"]
        listing = json.loads(self.ok("ls", root, "--json", *flags).stdout)
        self.assertEqual([s["step"] for s in listing["steps"]], [20, 25, 40])
        self.assertEqual(listing["best_step"], 20)
        self.assertTrue(all(s["bytes"] > 0 for s in listing["steps"]), listing)
        self.assertEqual({key.split("/")[0] for key in self.objects("run")},
                         {"20", "25", "40"})
        self.ok("rm", root, "25")
        listing = json.loads(self.ok("ls", root, "--json", *flags).stdout)
        self.assertEqual([s["step"] for s in listing["steps"]], [20, 40])
        self.assertFalse(any(p.startswith("25") for p in self.objects("run")))
        out = self.path("step40.npz")
        self.ok("export", root + "/40/default", "-o", out, "-q")
        self.assertGreater(len(np.load(out).files), 0)


if __name__ == "__main__":
    unittest.main()
