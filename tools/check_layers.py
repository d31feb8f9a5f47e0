#!/usr/bin/env python3
"""Fails when a source file #includes a header from a higher layer.

Layers, lowest first (docs/design.md): base -> codec -> kvstore -> zarr ->
array, npy -> tree -> checkpoint -> cli; mpi (optional, built only when
CMake finds MPI) sits at rank 1 beside codec and may include only base.
Folders under src/ are layers; a public header declares its layer on its
first line ("// stowage layer: X").
The CLI may include only public headers, npy/ and cli/. CMake alone would
accept cycles between the per-layer libraries, so CI runs this.
"""
import pathlib
import re
import sys

RANK = {"base": 0, "codec": 1, "mpi": 1, "kvstore": 2, "zarr": 3, "array": 4,
        "npy": 4, "tree": 5, "checkpoint": 6, "cli": 7}
ROOT = pathlib.Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def public_layer(header: pathlib.Path) -> str:
    first = header.read_text().splitlines()[0]
    match = re.match(r"// stowage layer: (\w+)", first)
    if not match or match.group(1) not in RANK:
        sys.exit(f"check_layers: {header} lacks a '// stowage layer: X' first line")
    return match.group(1)


def layer_of_include(name: str):
    if name.startswith("stowage/"):
        return public_layer(ROOT / "include" / name), True
    top = name.split("/")[0]
    return (top if top in RANK else None), False


def check(path: pathlib.Path, layer: str) -> list:
    problems = []
    for name in INCLUDE.findall(path.read_text()):
        if name.startswith("testutil/") and path.name.endswith("_test.cc"):
            continue
        target, public = layer_of_include(name)
        if target is None:
            problems.append(f"{path}: includes unknown header {name}")
        elif layer == "cli" and not (public or target in ("npy", "cli")):
            problems.append(f"{path}: the CLI may include only public headers and npy/, not {name}")
        elif RANK[target] > RANK[layer] or (RANK[target] == RANK[layer] and target != layer):
            problems.append(f"{path} ({layer}) includes {name} ({target}), a higher layer")
    return problems


def main() -> int:
    problems = []
    for header in sorted((ROOT / "include" / "stowage").glob("*.h")):
        problems += check(header, public_layer(header))
    for folder in sorted((ROOT / "src").iterdir()):
        if folder.name not in RANK:
            problems.append(f"{folder}: not a known layer")
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".h", ".cc"):
                problems += check(path, folder.name)
    for problem in problems:
        print("check_layers:", problem, file=sys.stderr)
    if not problems:
        print("check_layers: every #include points down the layers")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
