#!/usr/bin/env bash
# The main job: install what is missing, build, then save a real array with
# stowage, restore it, compare, and inspect the checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== library: AsyncCheckpointer save, restore and compare (examples/save_restore.cc)"
build/save_restore "$work/from_library"

echo "== CLI: a 64 MiB float32 array from NumPy, imported, exported and compared"
/usr/bin/python3 -c "
import numpy as np
rng = np.random.default_rng(0)
np.save('$work/weights.npy', rng.standard_normal((4096, 4096), dtype=np.float32))"
build/stowage import "$work/weights.npy" "$work/ckpt" --chunk-bytes 16777216
build/stowage export "$work/ckpt" -o "$work/restored.npy"
/usr/bin/python3 -c "
import numpy as np
a, b = np.load('$work/weights.npy'), np.load('$work/restored.npy')
assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
print('restored array equals the original:', a.dtype, a.shape)"

echo "== stowage inspect"
build/stowage inspect "$work/ckpt"

echo "== The same array inside OCDBT as sharded zarr3 (the layout of Orbax's PyTree handler)"
build/stowage import "$work/weights.npy" "$work/ckpt-ocdbt" --ocdbt --zarr3 --chunk-bytes 16777216
build/stowage export "$work/ckpt-ocdbt" -o "$work/restored-ocdbt.npy"
cmp "$work/restored.npy" "$work/restored-ocdbt.npy" && echo "OCDBT + zarr3 restore is identical"
build/stowage inspect "$work/ckpt-ocdbt"
build/stowage verify "$work/ckpt-ocdbt"

echo "== A tree of arrays from an .npz archive, saved as Orbax's PyTree handler does, and back"
/usr/bin/python3 -c "
import numpy as np
rng = np.random.default_rng(1)
np.savez('$work/tree.npz', **{'params/dense/kernel': rng.standard_normal((512, 256), dtype=np.float32),
                             'params/dense/bias': np.zeros(256, np.float32),
                             'step': np.array(1000, np.int64)})"
build/stowage import "$work/tree.npz" "$work/tree-ckpt"
build/stowage export "$work/tree-ckpt" -o "$work/tree-out.npz"
/usr/bin/python3 -c "
import numpy as np
a, b = np.load('$work/tree.npz'), np.load('$work/tree-out.npz')
assert sorted(a.files) == sorted(b.files)
assert all(a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a.files)
print('restored tree equals the original:', sorted(b.files))"
build/stowage inspect "$work/tree-ckpt"

echo "== A training step as Orbax's CheckpointManager lays it out: state tree + JSON metadata (examples/training_step.cc)"
build/training_step "$work/step-1000"
build/stowage inspect "$work/step-1000"

echo "== A training loop under a CheckpointManager: every 5th step, keep the 2 best by loss and the latest (examples/training_loop.cc)"
build/training_loop "$work/run"
build/training_loop "$work/run"  # resumes after the latest step
build/stowage ls "$work/run" --max-to-keep 2 --best-metric loss --best-mode min

if [[ -x build/mpi_checkpoint ]]; then
  echo "== Many processes, one checkpoint: 4 MPI ranks save their rows, 3 ranks restore blocks (examples/mpi_checkpoint.cc)"
  export OMPI_MCA_btl_vader_single_copy_mechanism=none
  mpirun --allow-run-as-root --oversubscribe -np 4 build/mpi_checkpoint save "$work/sharded" --shape 1000,300 --split 0
  mpirun --allow-run-as-root --oversubscribe -np 3 build/mpi_checkpoint restore "$work/sharded" --shape 1000,300 --split 0,1
  build/stowage export "$work/sharded" -o "$work/sharded.npy"
  /usr/bin/python3 -c "
import numpy as np
a = np.load('$work/sharded.npy')
assert (a.ravel() == np.arange(a.size)).all()
print('one process (no MPI) reads the 4-rank checkpoint:', a.dtype, a.shape)"
fi

echo "== Checkpoints on object storage: the same tree and a CheckpointManager run in an S3 bucket (s3rver on loopback)"
if bash scripts/s3rver.sh install && command -v node >/dev/null; then
  bash scripts/s3rver.sh run "$work/s3data" demo >"$work/s3rver.log" 2>&1 &
  s3rver_pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/s3rver.log" && break; sleep 0.1; done
  port="$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/s3rver.log" | grep -o '[0-9]*$')"
  (
    export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
    build/stowage import "$work/tree.npz" s3://demo/tree-ckpt
    build/stowage export s3://demo/tree-ckpt -o "$work/tree-s3.npz"
    /usr/bin/python3 -c "
import numpy as np
a, b = np.load('$work/tree.npz'), np.load('$work/tree-s3.npz')
assert all(a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a.files)
print('restored from s3://demo/tree-ckpt, equal to the original:', sorted(b.files))"
    build/stowage inspect s3://demo/tree-ckpt
    build/training_loop s3://demo/run
    build/stowage ls s3://demo/run --max-to-keep 2 --best-metric loss --best-mode min
  )
  kill "$s3rver_pid"; wait "$s3rver_pid" 2>/dev/null || true
else
  echo "(skipped: s3rver could not be installed)"
fi
