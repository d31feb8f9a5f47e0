#!/usr/bin/python3
"""CheckpointManager roots through the CLI: `stowage ls ROOT` and `stowage rm
ROOT STEP` on a run written by examples/training_loop.cc (beside the CLI in
the build directory) and on the CheckpointManager roots Orbax wrote in
../shared/fixtures/orbax.

Skips (77) without the CLI or numpy/zarr; single tests skip without the
example binary or the fixtures.
"""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stowage_script import STOWAGE_BIN, run_stowage  # noqa: E402 (exits 77 when unusable)

SHARED = os.environ.get("STOWAGE_SHARED_DIR", "")
FIXTURES = os.path.join(SHARED, "fixtures", "orbax")
MANAGED = os.path.join(FIXTURES, "google__orbax", "checkpoint", "orbax", "checkpoint",
                       "experimental", "v1", "_src", "testing", "compatibility",
                       "managed_checkpoints")
TRAINING_LOOP = os.path.join(os.path.dirname(STOWAGE_BIN), "training_loop")
EXIT_NOT_FOUND = 3
BEST_BY_LOSS = ["--max-to-keep", "2", "--best-metric", "loss", "--best-mode", "min"]


def ls_json(root, *flags):
    result = run_stowage("ls", root, "--json", *flags)
    if result.returncode != 0:
        raise AssertionError("stowage ls failed: %s" % result.stderr.decode())
    return json.loads(result.stdout)


class ManagerCliTest(unittest.TestCase):
    def setUp(self):
        if not os.access(TRAINING_LOOP, os.X_OK):
            self.skipTest("examples/training_loop not built")
        self.tmp = tempfile.mkdtemp()
        self.root = os.path.join(self.tmp, "run")
        subprocess.run([TRAINING_LOOP, self.root], check=True, stdout=subprocess.PIPE)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_ls_lists_steps_with_metrics_sizes_and_reasons(self):
        # The loop saves steps 1, 5, ..., 40 with loss 0.1 + |step - 20| / 10 and keeps
        # the 2 best plus the latest.
        listing = ls_json(self.root, *BEST_BY_LOSS)
        steps = {s["step"]: s for s in listing["steps"]}
        self.assertEqual(sorted(steps), [20, 25, 40])
        self.assertEqual(listing["latest_step"], 40)
        self.assertEqual(listing["best_step"], 20)
        self.assertEqual(steps[20]["kept"], ["best", "max_to_keep"])
        self.assertEqual(steps[25]["kept"], ["max_to_keep"])
        self.assertEqual(steps[40]["kept"], ["latest"])
        self.assertAlmostEqual(steps[40]["metrics"]["loss"], 2.1)
        for step in steps.values():
            on_disk = sum(os.path.getsize(os.path.join(d, f))
                          for d, _, files in os.walk(step["path"]) for f in files)
            self.assertEqual(step["bytes"], on_disk)
            committed = datetime.datetime.strptime(step["committed"], "%Y-%m-%dT%H:%M:%SZ")
            age = datetime.datetime.utcnow() - committed
            self.assertLess(abs(age.total_seconds()), 600)

    def test_ls_shows_what_a_smaller_policy_would_delete(self):
        listing = ls_json(self.root, "--max-to-keep", "1")
        kept = {s["step"]: s["kept"] for s in listing["steps"]}
        self.assertEqual(kept, {20: [], 25: [], 40: ["latest", "max_to_keep"]})
        table = run_stowage("ls", self.root, "--max-to-keep", "1").stdout.decode()
        self.assertIn("DELETED at the next commit", table)
        self.assertEqual(sorted(os.listdir(self.root)), ["20", "25", "40"])  # ls changes nothing

    def test_rm_deletes_one_step_and_refuses_a_missing_one(self):
        result = run_stowage("rm", self.root, "25")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(os.listdir(self.root)), ["20", "40"])
        self.assertEqual([s["step"] for s in ls_json(self.root)["steps"]], [20, 40])
        again = run_stowage("rm", self.root, "25")
        self.assertEqual(again.returncode, EXIT_NOT_FOUND)
        self.assertIn("step 25", again.stderr.decode())
        self.assertIn(self.root, again.stderr.decode())

    def test_temporaries_are_not_listed_and_rm_cleans_them(self):
        os.makedirs(os.path.join(self.root, "45.orbax-checkpoint-tmp", "default"))
        os.makedirs(os.path.join(self.root, "50.orbax-checkpoint-tmp-1733"))
        self.assertEqual([s["step"] for s in ls_json(self.root)["steps"]], [20, 25, 40])
        self.assertEqual(run_stowage("rm", self.root, "20").returncode, 0)
        self.assertEqual(sorted(os.listdir(self.root)), ["25", "40"])

    def test_step_prefix_and_fixed_length(self):
        for step in ("20", "25", "40"):
            os.rename(os.path.join(self.root, step), os.path.join(self.root, "ckpt_00" + step))
        self.assertEqual(ls_json(self.root)["steps"], [])
        listing = ls_json(self.root, "--step-prefix", "ckpt", "--step-fixed-length", "4")
        self.assertEqual([s["step"] for s in listing["steps"]], [20, 25, 40])
        self.assertEqual(run_stowage("rm", self.root, "25", "--step-prefix", "ckpt",
                                     "--step-fixed-length", "4").returncode, 0)
        self.assertEqual(sorted(os.listdir(self.root)), ["ckpt_0020", "ckpt_0040"])

    def test_missing_root_is_not_found(self):
        result = run_stowage("ls", os.path.join(self.tmp, "nowhere"))
        self.assertEqual(result.returncode, EXIT_NOT_FOUND)
        self.assertIn("nowhere", result.stderr.decode())


class OrbaxManagerRootsTest(unittest.TestCase):
    def test_orbax_managed_roots(self):
        if not os.path.isdir(MANAGED):
            self.skipTest("fixtures absent")
        for api in ("v0_managed", "v1_managed"):
            for metrics in ("has_metrics", "no_metrics"):
                root = os.path.join(MANAGED, api, metrics, "has_custom_metadata")
                listing = ls_json(root, "--best-metric", "loss", "--best-mode", "min")
                self.assertEqual([s["step"] for s in listing["steps"]], [0], root)
                step = listing["steps"][0]
                want = {"loss": 0.5} if metrics == "has_metrics" else None
                self.assertEqual(step["metrics"], want, root)
                self.assertEqual(listing["best_step"], 0 if want else None, root)
                self.assertGreater(step["bytes"], 1000, root)

    def test_real_training_run_root(self):
        root = os.path.join(FIXTURES, "Avi161__ACSolverX", "ppo_checkpoints", "610model")
        if not os.path.isdir(root):
            self.skipTest("fixtures absent")
        listing = ls_json(root)
        self.assertEqual([s["step"] for s in listing["steps"]], [1000])
        self.assertEqual(listing["steps"][0]["committed"], "2026-06-22T08:16:22Z")


if __name__ == "__main__":
    unittest.main()
