#!/usr/bin/python3
"""The peers of bench_driver: one timed save or restore per process, by another tool.

Same command-line shape and the same one-line JSON output as bench_driver, so
bench/compare can run both alike:

  peers.py --tool raw|zarr|h5py|torch save    --case array|tree|scalar --data FILE --dir DIR
           [--compression none|zstd] [--no-fsync] [--chunks R,C]
  peers.py --tool raw|zarr|h5py|torch restore --case array|tree|scalar --dir DIR
  peers.py --tool zarr import --data FILE.npy --dir DIR [--compression C] [--no-fsync] [--chunks R,C]
  peers.py --tool zarr export --dir DIR --out OUT.npy

--data: case array a .npy (float32, C order); case tree a .npz with entries t0000..t0999
(np.savez, uncompressed); case scalar a .npy holding a 0-d float64. --dir must not exist
before a save (it is created); a restore reads it.

Output, one JSON object on stdout:
  {"tool", "op", "case", "compression", "seconds", "bytes", "stored_bytes", "chunks",
   "fsync"}                                                        (save)
  {"tool", "op", "case", "seconds", "bytes", "crc32"}              (restore)

"seconds" is in-process time: for a save from the arrays in memory (loaded before the clock
starts) to the files written and, with fsync (the default), durable: every file and
directory written, and the parent of --dir, are fsynced. For a restore from nothing to the
arrays in memory. "crc32" is zlib.crc32 over the restored arrays' C-order bytes, one running
crc across the arrays in key order (zlib.crc32(b, crc)); it is computed after the clock
stops. import/export (zarr only, for compare's "cli" case) also time np.load of the input
and np.save of the output, like a script that converts files.

The tools:
  raw    one file DIR/data.raw: a 4096-byte header (JSON: keys, dtypes, shapes, offsets,
         space-padded), then every array's bytes back to back, written with os.write;
         restore reads the header, then each array with readinto into np.empty.
  zarr   zarr v2 (zarr-python 2.13): case array one array with --chunks (default: one
         chunk) and compressor numcodecs.Zstd(level=1) or None; tree a group of 1000
         arrays, one chunk each; scalar a 0-d array.
  h5py   DIR/data.h5, contiguous uncompressed datasets (tree: 1000 in one file; scalar: a
         0-d dataset). No zstd in h5py: --compression zstd is refused.
  torch  DIR/data.pt, torch.save of torch.from_numpy(array) (tree: a dict of 1000 tensors);
         restore torch.load(...).numpy(). No zstd: refused.
Runs only with /usr/bin/python3 (Debian numpy 1.24, zarr 2.13, numcodecs 0.11, h5py 3.7,
torch 1.13).
"""

import argparse
import json
import os
import sys
import time
import zlib

TOOLS = ("raw", "zarr", "h5py", "torch")
CASES = ("array", "tree", "scalar")
HEADER = 4096


def fsync_path(path, directory=False):
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file_and_dirs(path, directory):
    """fsyncs one written file, its directory and that directory's parent."""
    fsync_path(path)
    fsync_path(directory, directory=True)
    fsync_path(os.path.dirname(os.path.abspath(directory)), directory=True)


def fsync_tree(root):
    """fsyncs every file and directory under root, root itself, and root's parent."""
    for directory, _, files in os.walk(root):
        for name in files:
            fsync_path(os.path.join(directory, name))
        fsync_path(directory, directory=True)
    fsync_path(os.path.dirname(os.path.abspath(root)), directory=True)


def tree_bytes(root):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root) for f in files)


def load_data(case, path):
    """Returns [(key, array)] in key order, all in memory."""
    import numpy as np
    if case == "tree":
        with np.load(path) as npz:
            return [(key, npz[key]) for key in sorted(npz.files)]
    array = np.load(path)
    if case == "scalar" and array.ndim != 0:
        sys.exit("peers: case scalar needs a 0-d array, %s has shape %s" % (path, array.shape))
    return [("a", array)]


def crc_of(arrays):
    import numpy as np
    crc = 0
    for _, array in arrays:
        crc = zlib.crc32(memoryview(np.ascontiguousarray(array)).cast("B"), crc)
    return crc


# --- raw ---------------------------------------------------------------------


def write_all(fd, view):
    view = memoryview(view).cast("B")
    while len(view):
        n = os.write(fd, view)
        view = view[n:]


def readinto_all(fd, view):
    view = memoryview(view).cast("B")
    while len(view):
        n = os.readv(fd, [view])
        if n == 0:
            raise EOFError("short read")
        view = view[n:]


def raw_save(case, arrays, directory, fsync, chunks, compression):
    os.mkdir(directory)
    path = os.path.join(directory, "data.raw")
    entries, offset = [], HEADER
    for key, array in arrays:
        entries.append({"key": key, "dtype": array.dtype.str, "shape": list(array.shape),
                        "offset": offset})
        offset += array.nbytes
    header = json.dumps(entries).encode()
    if len(header) > HEADER:  # the tree's header does not fit: make room
        header_size = (len(header) + 8 + 4095) // 4096 * 4096
        for e in entries:
            e["offset"] += header_size - HEADER
        header = json.dumps(entries).encode()
    else:
        header_size = HEADER
    blob = (b"%08d" % header_size) + header
    blob += b" " * (header_size - len(blob))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        write_all(fd, blob)
        for _, array in arrays:
            import numpy as np
            write_all(fd, np.ascontiguousarray(array))
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    if fsync:
        fsync_path(directory, directory=True)
        fsync_path(os.path.dirname(os.path.abspath(directory)), directory=True)
    return None


def raw_restore(case, directory):
    import numpy as np
    fd = os.open(os.path.join(directory, "data.raw"), os.O_RDONLY)
    try:
        head = os.read(fd, HEADER)
        header_size = int(head[:8])
        if header_size > len(head):
            head += os.read(fd, header_size - len(head))
        entries = json.loads(head[8:header_size].decode().rstrip())
        out = []
        for e in entries:
            array = np.empty(e["shape"], dtype=np.dtype(e["dtype"]))
            if os.lseek(fd, 0, os.SEEK_CUR) != e["offset"]:
                os.lseek(fd, e["offset"], os.SEEK_SET)
            readinto_all(fd, array)
            out.append((e["key"], array))
    finally:
        os.close(fd)
    return out


# --- zarr --------------------------------------------------------------------


def zarr_compressor(compression):
    import numcodecs
    return numcodecs.Zstd(level=1) if compression == "zstd" else None


def zarr_save(case, arrays, directory, fsync, chunks, compression):
    import zarr
    compressor = zarr_compressor(compression)
    if case == "tree":
        group = zarr.open_group(directory, mode="w-")
        for key, array in arrays:
            group.create_dataset(key, data=array, shape=array.shape, chunks=array.shape,
                                 dtype=array.dtype, compressor=compressor)
        used = None
    else:
        array = arrays[0][1]
        if case == "scalar":
            used = ()
        else:
            used = tuple(chunks) if chunks else array.shape
        z = zarr.open_array(directory, mode="w-", shape=array.shape, chunks=used,
                            dtype=array.dtype, compressor=compressor)
        z[...] = array
        used = list(z.chunks)
    if fsync:
        fsync_tree(directory)
    return used


def zarr_restore(case, directory):
    import numpy as np
    import zarr
    if case == "tree":
        group = zarr.open_group(directory, mode="r")
        return [(key, group[key][...]) for key in sorted(group.array_keys())]
    return [("a", np.asarray(zarr.open_array(directory, mode="r")[...]))]


# --- h5py --------------------------------------------------------------------


def h5py_save(case, arrays, directory, fsync, chunks, compression):
    import h5py
    os.mkdir(directory)
    path = os.path.join(directory, "data.h5")
    with h5py.File(path, "w") as f:
        for key, array in arrays:
            f.create_dataset(key, data=array)  # contiguous, no filters
    if fsync:
        fsync_file_and_dirs(path, directory)
    return None


def h5py_restore(case, directory):
    import h5py
    import numpy as np
    with h5py.File(os.path.join(directory, "data.h5"), "r") as f:
        return [(key, np.asarray(f[key][()])) for key in sorted(f.keys())]


# --- torch -------------------------------------------------------------------


def torch_save(case, arrays, directory, fsync, chunks, compression):
    import torch
    os.mkdir(directory)
    path = os.path.join(directory, "data.pt")
    if case == "tree":
        torch.save({key: torch.from_numpy(array) for key, array in arrays}, path)
    else:
        torch.save(torch.from_numpy(arrays[0][1]), path)
    if fsync:
        fsync_file_and_dirs(path, directory)
    return None


def torch_restore(case, directory):
    import torch
    loaded = torch.load(os.path.join(directory, "data.pt"))
    if case == "tree":
        return [(key, loaded[key].numpy()) for key in sorted(loaded)]
    return [("a", loaded.numpy())]


SAVE = {"raw": raw_save, "zarr": zarr_save, "h5py": h5py_save, "torch": torch_save}
RESTORE = {"raw": raw_restore, "zarr": zarr_restore, "h5py": h5py_restore,
           "torch": torch_restore}
IMPORTS = {"raw": ("numpy",), "zarr": ("numpy", "zarr", "numcodecs"),
           "h5py": ("numpy", "h5py"), "torch": ("numpy", "torch")}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See the top of this file and bench/README.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("op", choices=("save", "restore", "import", "export"))
    parser.add_argument("--tool", choices=TOOLS, required=True)
    parser.add_argument("--case", choices=CASES, default="array")
    parser.add_argument("--data", help="input .npy/.npz (save, import)")
    parser.add_argument("--dir", required=True, help="checkpoint directory")
    parser.add_argument("--out", help="output .npy (export)")
    parser.add_argument("--compression", choices=("none", "zstd"), default="none")
    parser.add_argument("--no-fsync", action="store_true", help="fsync nothing")
    parser.add_argument("--chunks", help="comma-separated chunk shape (zarr, case array)")
    args = parser.parse_args(argv)
    if args.compression == "zstd" and args.tool in ("raw", "h5py", "torch"):
        parser.error("--tool %s has no zstd" % args.tool)
    if args.op in ("save", "import") and not args.data:
        parser.error("%s needs --data" % args.op)
    if args.op in ("import", "export") and (args.tool != "zarr" or args.case != "array"):
        parser.error("import/export: only --tool zarr --case array")
    if args.op == "export" and not args.out:
        parser.error("export needs --out")
    if args.op in ("save", "import") and os.path.lexists(args.dir):
        parser.error("--dir %s exists" % args.dir)
    chunks = [int(c) for c in args.chunks.split(",")] if args.chunks else None
    fsync = not args.no_fsync
    for module in IMPORTS[args.tool]:  # imports are not timed
        __import__(module)
    import numpy as np

    result = {"tool": args.tool, "op": args.op, "case": args.case}
    if args.op == "save":
        arrays = load_data(args.case, args.data)
        start = time.perf_counter()
        used = SAVE[args.tool](args.case, arrays, args.dir, fsync, chunks, args.compression)
        seconds = time.perf_counter() - start
        result.update(compression=args.compression, seconds=seconds,
                      bytes=sum(a.nbytes for _, a in arrays), stored_bytes=tree_bytes(args.dir),
                      chunks=used, fsync=fsync)
    elif args.op == "restore":
        start = time.perf_counter()
        arrays = RESTORE[args.tool](args.case, args.dir)
        seconds = time.perf_counter() - start
        result.update(seconds=seconds, bytes=sum(a.nbytes for _, a in arrays),
                      crc32=crc_of(arrays))
    elif args.op == "import":
        start = time.perf_counter()
        arrays = [("a", np.load(args.data))]
        used = zarr_save("array", arrays, args.dir, fsync, chunks, args.compression)
        seconds = time.perf_counter() - start
        result.update(compression=args.compression, seconds=seconds, bytes=arrays[0][1].nbytes,
                      stored_bytes=tree_bytes(args.dir), chunks=used, fsync=fsync)
    else:  # export
        start = time.perf_counter()
        arrays = zarr_restore("array", args.dir)
        np.save(args.out, arrays[0][1])
        seconds = time.perf_counter() - start
        result.update(seconds=seconds, bytes=arrays[0][1].nbytes)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
