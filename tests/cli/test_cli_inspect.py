#!/usr/bin/python3
"""`stowage inspect` shows the tree and the items of composite checkpoints
(docs/cli.md): the text form (an indented tree, one line per leaf with
dtype, shape, chunks, codec, storage and size; items with their handler)
and `--json` ("tree" as nested nodes, "items" with each tree item's
description under "checkpoint"), on a tree imported from an .npz with
nested names and on Orbax-written composite checkpoints from
../shared/fixtures.

Skips (77) without the CLI or numpy/zarr; fixture cases skip without the
fixtures.
"""
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
FIXTURES = os.path.join(SHARED, "fixtures")
# orbax-compat/PROVENANCE.md: `state` (a = arange(8) int32, b.c = [1, 2, 3])
# and `metadata` (JSON {"metadata": "json_data"}).
COMPOSITE = os.path.join(FIXTURES, "orbax-compat", "v0_checkpoints", "composite_checkpoint",
                         "checkpoint_metadata_present", "pytree_checkpointable_has_metadata")
# orbax/PROVENANCE.md #3: a CheckpointManager step (Orbax v1) with custom items.
MANAGED = os.path.join(FIXTURES, "orbax", "google__orbax", "checkpoint", "orbax", "checkpoint",
                       "experimental", "v1", "_src", "testing", "compatibility",
                       "managed_checkpoints", "v1_managed", "has_metrics", "has_custom_metadata",
                       "0")


def inspect_text(test, directory, *extra):
    result = run_stowage("inspect", directory, *extra)
    test.assertEqual(result.returncode, 0, result.stderr.decode())
    test.assertEqual(result.stderr, b"")
    return result.stdout.decode()


def inspect_json(test, directory):
    result = run_stowage("inspect", directory, "--json")
    test.assertEqual(result.returncode, 0, result.stderr.decode())
    return json.loads(result.stdout)


def node_at(tree, *keys):
    for key in keys:
        tree = tree["children"][key]
    return tree


def lines_after(text, header):
    """The lines after the first line starting with `header` (stripped of
    their trailing space only)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(header):
            return lines[i + 1:]
    raise AssertionError("no %r in:\n%s" % (header, text))


class InspectTreeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        rng = np.random.default_rng(5)
        self.arrays = {
            "params/dense/kernel": rng.standard_normal((17, 5)).astype(np.float32),
            "params/dense/bias": np.zeros(5, np.float16),
            "opt/0/count": np.array(12, dtype=np.int32),
            "step": np.array(1000, dtype=np.int64),
        }
        np.savez(os.path.join(self.tmp, "t.npz"), **self.arrays)
        self.dir = os.path.join(self.tmp, "ck")
        result = run_stowage("import", os.path.join(self.tmp, "t.npz"), self.dir, "-q")
        self.assertEqual(result.returncode, 0, result.stderr.decode())

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_text_is_an_indented_tree(self):
        text = inspect_text(self, self.dir)
        self.assertIn("format:      OCDBT + zarr v2", text)
        tree = lines_after(text, "tree (4 leaves, from _METADATA):")
        self.assertEqual([line.split()[0] for line in tree],
                         ["opt", "0", "count", "params", "dense", "bias", "kernel", "step"])
        indent = {line.split()[0]: len(line) - len(line.lstrip()) for line in tree}
        self.assertEqual(indent["opt"], 2)
        self.assertEqual(indent["0"], 4)
        self.assertEqual(indent["count"], 6)
        self.assertEqual(indent["params"], 2)
        self.assertEqual(indent["kernel"], 6)
        self.assertEqual(indent["step"], 2)
        kernel = next(line for line in tree if line.split()[0] == "kernel")
        for part in ["float32[17, 5]", "chunks [17, 5]", "zstd", "zarr v2 in OCDBT"]:
            self.assertIn(part, kernel)
        self.assertRegex(kernel, r"\d+(\.\d)? (B|KiB)$")
        bias = next(line for line in tree if line.split()[0] == "bias")
        self.assertIn("float16[5]", bias)
        self.assertEqual(kernel.index("float32"), bias.index("float16"))  # aligned
        self.assertIn("int64[]", next(line for line in tree if line.split()[0] == "step"))
        # Several leaves: no per-leaf detail block.
        self.assertNotIn("compressor:", text)

    def test_json_has_the_nested_tree_and_the_flat_leaves(self):
        info = inspect_json(self, self.dir)
        self.assertIs(info["is_composite"], False)
        self.assertEqual(info["items"], [])
        self.assertEqual(info["tree_source"], "_METADATA")
        self.assertEqual(sorted(leaf["name"] for leaf in info["leaves"]),
                         ["opt.0.count", "params.dense.bias", "params.dense.kernel", "step"])
        tree = info["tree"]
        self.assertEqual(tree["node"], "dict")
        self.assertEqual(list(tree["children"]), ["opt", "params", "step"])
        kernel = node_at(tree, "params", "dense", "kernel")
        self.assertEqual(kernel["node"], "leaf")
        self.assertEqual(kernel["kind"], "array")
        self.assertEqual(kernel["name"], "params.dense.kernel")
        self.assertEqual(kernel["dtype"], "float32")
        self.assertEqual(kernel["shape"], [17, 5])
        self.assertEqual(kernel["compressor"], {"id": "zstd", "level": 1})
        self.assertEqual(info["leaves"][kernel["leaf"]]["name"], "params.dense.kernel")
        self.assertEqual(node_at(tree, "opt", "0", "count")["shape"], [])
        self.assertEqual(node_at(tree, "opt")["node"], "dict")  # .npz names are dict keys

    def test_without_ocdbt_and_as_zarr3(self):
        directory = os.path.join(self.tmp, "ck3")
        result = run_stowage("import", os.path.join(self.tmp, "t.npz"), directory,
                             "--no-ocdbt", "--zarr3", "-q")
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        kernel = next(line for line in inspect_text(self, directory).splitlines()
                      if line.split()[:1] == ["kernel"])
        self.assertIn("sharding_indexed(bytes+zstd)", kernel)
        self.assertIn("zarr3", kernel)
        self.assertNotIn("OCDBT", kernel)
        node = node_at(inspect_json(self, directory)["tree"], "params", "dense", "kernel")
        self.assertEqual(node["storage_format"], "zarr3")


@unittest.skipUnless(os.path.isdir(COMPOSITE), "orbax-compat fixtures absent")
class InspectCompositeTest(unittest.TestCase):
    def test_text_lists_items_and_the_tree_of_the_pytree_item(self):
        text = inspect_text(self, COMPOSITE)
        self.assertIn("format:      composite, 2 item(s)", text)
        self.assertIn("custom:      {\"custom\":\"meta\"}", text)
        self.assertNotIn("leaves (0)", text)
        items = lines_after(text, "items (2):")
        self.assertTrue(items[0].startswith("  metadata"), items[0])
        self.assertIn("[JSON]", items[0])
        self.assertIn("JsonCheckpointHandler", items[0])
        self.assertEqual(items[1].strip(), 'metadata/metadata (25 B): {"metadata":"json_data"}')
        state = next(i for i, line in enumerate(items) if line.startswith("  state"))
        self.assertIn("[tree]", items[state])
        self.assertIn("PyTreeCheckpointHandler", items[state])
        body = "\n".join(items[state + 1:])
        self.assertIn("format:      OCDBT + zarr v2", body)
        tree = lines_after(body, "tree (2 leaves, from _METADATA):")
        self.assertEqual([line.split()[0] for line in tree], ["a", "b", "c"])
        self.assertIn("int32[8]", tree[0])
        self.assertIn("jax.Array", tree[0])
        self.assertGreater(len(tree[2]) - len(tree[2].lstrip()),
                           len(tree[1]) - len(tree[1].lstrip()))  # c nested under b
        self.assertIn("int32[3]", tree[2])

    def test_json_items(self):
        info = inspect_json(self, COMPOSITE)
        self.assertEqual(info["format"], "composite")
        self.assertIs(info["is_composite"], True)
        self.assertIsNone(info["tree"])
        self.assertEqual(info["leaves"], [])
        items = {item["name"]: item for item in info["items"]}
        self.assertEqual(sorted(items), ["metadata", "state"])
        metadata = items["metadata"]
        self.assertEqual(metadata["kind"], "json")
        self.assertEqual(metadata["json"], {"metadata": "json_data"})
        self.assertEqual(metadata["json_file"], "metadata/metadata")
        self.assertTrue(metadata["handler"].endswith("JsonCheckpointHandler"))
        state = items["state"]
        self.assertEqual(state["kind"], "tree")
        self.assertIsNone(state["problem"])
        checkpoint = state["checkpoint"]
        self.assertEqual(checkpoint["format"], "OCDBT + zarr v2")
        self.assertEqual(node_at(checkpoint["tree"], "a")["shape"], [8])
        self.assertEqual(node_at(checkpoint["tree"], "b", "c")["dtype"], "int32")
        self.assertEqual(len(checkpoint["ocdbt"]["keys"]), checkpoint["ocdbt"]["num_keys"])

    @unittest.skipUnless(os.path.isdir(MANAGED), "orbax fixtures absent")
    def test_items_of_unknown_handlers_show_handler_and_size(self):
        text = inspect_text(self, MANAGED)
        baz = next(line for line in text.splitlines() if line.startswith("  baz"))
        self.assertIn("[not read by stowage]", baz)
        self.assertIn("handler_utils.BazHandler", baz)
        items = lines_after(text, "items (5):")
        self.assertEqual(items[items.index(baz) + 1].strip(), "1 file(s), 33 B")
        self.assertIn('metrics/metrics (13 B): {"loss":0.5}', text)
        info = inspect_json(self, MANAGED)
        items = {item["name"]: item for item in info["items"]}
        self.assertEqual(items["baz"]["kind"], "unknown")
        self.assertEqual(items["baz"]["total_bytes"], 33)
        self.assertEqual(items["metrics"]["json"], {"loss": 0.5})
        self.assertEqual(items["state"]["checkpoint"]["format"], "OCDBT + zarr3")


if __name__ == "__main__":
    unittest.main()
