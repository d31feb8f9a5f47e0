#!/usr/bin/python3
"""Many processes, one checkpoint, through examples/mpi_checkpoint under
mpirun: saves with 1-4 ranks restored with every other rank count and with
row, column, block and replicated shardings; the files Orbax writes for a
multi-process jax.Array save; a 4-rank checkpoint read by the single-process
CLI (no MPI); a rank that fails and a rank that is killed mid-save (no
checkpoint becomes visible, the previous one restores).

Needs STOWAGE_MPI_EXAMPLE, STOWAGE_BIN, mpirun and numpy; skips (77) without.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

EXAMPLE = os.environ.get("STOWAGE_MPI_EXAMPLE", "")
STOWAGE = os.environ.get("STOWAGE_BIN", "")
MPIRUN = shutil.which("mpirun")
if not (EXAMPLE and os.path.isfile(EXAMPLE) and STOWAGE and MPIRUN):
    print("skipped: the MPI example, the CLI or mpirun is missing", file=sys.stderr)
    sys.exit(77)
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import s3rver_util  # noqa: E402

SHAPE = (1000, 300)
SPLITS = ["0", "1", "0,1", "none"]  # rows, columns, blocks, replicated
ENV = dict(os.environ, OMPI_MCA_btl_vader_single_copy_mechanism="none")


def mpirun(ranks, *args, timeout=120, shape=SHAPE, env=None):
    command = [MPIRUN, "--allow-run-as-root", "--oversubscribe", "-np", str(ranks), EXAMPLE]
    command += [str(a) for a in args] + ["--shape", ",".join(map(str, shape))]
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=dict(ENV, **(env or {})), timeout=timeout, text=True)


class MpiCheckpointTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def save(self, ranks, name, *flags, split="0"):
        directory = os.path.join(self.tmp, name)
        result = mpirun(ranks, "save", directory, "--split", split, "--no-fsync", *flags)
        self.assertEqual(result.returncode, 0, result.stdout)
        return directory

    def restore_ok(self, ranks, directory, split, *flags):
        result = mpirun(ranks, "restore", directory, "--split", split, *flags)
        self.assertEqual(result.returncode, 0, "%d ranks, split %s: %s" % (ranks, split, result.stdout))

    def export_whole(self, directory, env=None):
        out = os.path.join(self.tmp, "whole.npy")
        result = subprocess.run([STOWAGE, "export", directory, "-o", out, "-q"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        array = np.load(out)
        self.assertEqual(array.shape, SHAPE)
        self.assertEqual(array.dtype, np.float64)
        self.assertTrue(np.array_equal(array.ravel(), np.arange(array.size, dtype=np.float64)))

    def test_every_save_count_restores_on_every_count_and_sharding(self):
        for saved_on in range(1, 5):
            directory = self.save(saved_on, "c%d" % saved_on, split=SPLITS[saved_on % 4])
            for restored_on in range(1, 5):
                # Every save is read back with all four shardings across the counts.
                self.restore_ok(restored_on, directory, SPLITS[(saved_on + restored_on) % 4])
            self.export_whole(directory)  # one process, no MPI

    def test_async_save_across_ranks(self):
        directory = os.path.join(self.tmp, "async")
        result = mpirun(4, "save", directory, "--split", "0,1", "--ocdbt", "--async")
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("4 ranks computed meanwhile", result.stdout)
        self.restore_ok(3, directory, "0", "--ocdbt")
        self.export_whole(directory)

    def test_ocdbt_and_zarr3_layouts(self):
        for flags in (["--ocdbt"], ["--zarr3"], ["--ocdbt", "--zarr3"]):
            directory = self.save(3, "".join(flags), *flags, split="0,1")
            self.restore_ok(4, directory, "1", *flags)
            self.restore_ok(2, directory, "none", *flags)
            self.export_whole(directory)
            if "--ocdbt" in flags:  # a database per process, merged into the root
                for rank in range(3):
                    self.assertTrue(os.path.isfile(os.path.join(
                        directory, "ocdbt.process_%d" % rank, "manifest.ocdbt")))
                self.assertTrue(os.path.isfile(os.path.join(directory, "manifest.ocdbt")))
            result = subprocess.run([STOWAGE, "verify", directory], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, timeout=120, text=True)
            self.assertEqual(result.returncode, 0, result.stdout)

    def test_files_are_those_orbax_writes_for_a_multi_process_jax_array(self):
        directory = self.save(4, "layout")  # rows over 4 ranks: shards of 250 rows
        with open(os.path.join(directory, "_sharding")) as f:
            sharding = json.load(f)
        # orbax tensorstore_utils.get_sharding_tensorstore_spec: urlsafe base64 of the name.
        self.assertEqual(list(sharding), [base64.urlsafe_b64encode(b"checkpoint").decode()])
        named = json.loads(sharding["Y2hlY2twb2ludA=="])
        # orbax _src/metadata/sharding.py NamedShardingMetadata.to_serialized_string.
        self.assertEqual(named, {
            "sharding_type": "NamedSharding", "shape": [4], "axis_names": ["x"],
            "axis_types": ["AxisType.Auto"], "partition_spec": ["x", None],
            "device_mesh": {"mesh": [{"id": 0}, {"id": 1}, {"id": 2}, {"id": 3}]}})
        # orbax array_metadata_store.py: one file per process, the same params.
        for rank in range(4):
            with open(os.path.join(directory, "array_metadatas", "process_%d" % rank)) as f:
                self.assertEqual(json.load(f), {"array_metadatas": [{"array_metadata": {
                    "param_name": "checkpoint", "write_shape": [250, 300],
                    "chunk_shape": [250, 300], "ext_metadata": None}}]})
        with open(os.path.join(directory, "_METADATA")) as f:
            value = json.load(f)["tree_metadata"]["('checkpoint',)"]["value_metadata"]
        self.assertEqual(value, {"value_type": "jax.Array", "skip_deserialize": False,
                                 "write_shape": [250, 300]})
        with open(os.path.join(directory, "checkpoint", ".zarray")) as f:
            zarray = json.load(f)
        self.assertEqual((zarray["shape"], zarray["chunks"]), ([1000, 300], [250, 300]))
        chunks = sorted(n for n in os.listdir(os.path.join(directory, "checkpoint"))
                        if not n.startswith("."))
        self.assertEqual(chunks, ["0.0", "1.0", "2.0", "3.0"])  # one per shard, no more
        with open(os.path.join(directory, "_CHECKPOINT_METADATA")) as f:
            self.assertTrue(json.load(f)["item_handlers"].endswith("ArrayCheckpointHandler"))

    def test_a_failing_rank_fails_every_rank_and_keeps_the_previous_checkpoint(self):
        directory = self.save(3, "ckpt")
        before = sorted(os.listdir(directory))
        result = mpirun(3, "save", directory, "--split", "1", "--fail-rank", "1",
                        "--timeout-ms", "20000")
        self.assertNotEqual(result.returncode, 0)
        for rank in range(3):  # every rank saw the failure, named
            self.assertIn("rank %d: save failed" % rank, result.stdout)
        self.assertIn("process 1 failed", result.stdout)
        self.assertEqual(sorted(os.listdir(directory)), before)
        self.assertFalse(os.path.exists(directory + ".orbax-checkpoint-tmp"))
        self.restore_ok(2, directory, "0")

    def test_a_rank_killed_mid_save_ends_the_job_and_keeps_the_previous_checkpoint(self):
        directory = self.save(4, "ckpt")
        start = time.monotonic()
        # 96 MB: rank 2 dies while the ranks are writing their shards.
        result = mpirun(4, "save", directory, "--split", "0", "--kill-rank", "2",
                        "--kill-after-ms", "20", "--timeout-ms", "10000", timeout=60,
                        shape=(4000, 3000))
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertLess(time.monotonic() - start, 45)  # bounded: no hang
        self.restore_ok(3, directory, "0,1")
        self.export_whole(directory)
        # The leftover temporary directory is removed by the next save.
        self.save(2, "ckpt")
        self.assertFalse(os.path.exists(directory + ".orbax-checkpoint-tmp"))


    def test_ranks_save_to_and_restore_from_an_s3_bucket(self):
        server = s3rver_util.start("mpi")
        self.addCleanup(server.stop)
        aws = {k: v for k, v in server.env.items() if k.startswith("AWS_")}
        for name, ranks, flags, split, restore_ranks, restore_split in [
                ("ocdbt", 4, ["--ocdbt"], "0", 3, "0,1"),
                ("zarr", 3, [], "1", 4, "none")]:
            url = "s3://mpi/" + name
            result = mpirun(ranks, "save", url, "--split", split, *flags, env=aws)
            self.assertEqual(result.returncode, 0, result.stdout)
            self.assertIn("commit_success.txt", server.keys(name))
            result = mpirun(restore_ranks, "restore", url, "--split", restore_split, env=aws)
            self.assertEqual(result.returncode, 0, result.stdout)
            self.export_whole(url, env=server.env)  # one process, no MPI
        # A rank that fails: nothing at the new prefix is committed, nothing restores.
        result = mpirun(3, "save", "s3://mpi/failed", "--split", "0", "--fail-rank", "1",
                        "--timeout-ms", "20000", env=aws)
        self.assertNotEqual(result.returncode, 0)
        self.assertNotIn("commit_success.txt", server.keys("failed"))
        result = mpirun(2, "restore", "s3://mpi/failed", "--split", "0", env=aws)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("commit_success.txt", server.keys("ocdbt"))  # the others are untouched


if __name__ == "__main__":
    unittest.main()
