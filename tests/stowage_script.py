"""Shared set-up of the script tests (tests/interop, tests/cli).

Importing it exits with 77 (CTest's "skipped") when the CLI under test
(env STOWAGE_BIN) is missing or when this interpreter lacks numpy and
zarr-python (only Debian's /usr/bin/python3 has them).
"""
import os
import subprocess
import sys

STOWAGE_BIN = os.environ.get("STOWAGE_BIN", "")
if not STOWAGE_BIN or not os.path.isfile(STOWAGE_BIN) or not os.access(STOWAGE_BIN, os.X_OK):
    print("skipped: STOWAGE_BIN is unset or not an executable file", file=sys.stderr)
    sys.exit(77)
try:
    import numpy  # noqa: F401
    import numcodecs  # noqa: F401
    import zarr  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the interpreter
    print("skipped: zarr-python / numpy not importable: %s" % e, file=sys.stderr)
    sys.exit(77)


def run_stowage(*args, **kwargs):
    """Runs the CLI with `args`, capturing stdout and stderr."""
    return subprocess.run([STOWAGE_BIN] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, **kwargs)


def assert_same_values(test, got, want, what):
    """NaN-aware equality of two arrays of one shape that also tells -0.0 from 0.0."""
    import numpy as np
    test.assertEqual(got.shape, want.shape, what)
    if want.dtype.kind in "fc":
        parts = [(got.real, want.real), (got.imag, want.imag)] if want.dtype.kind == "c" \
            else [(got, want)]
        for g, w in parts:
            test.assertTrue(np.array_equal(np.isnan(g), np.isnan(w)), "%s: NaN positions" % what)
            ok = ~np.isnan(w)
            test.assertTrue(np.array_equal(g[ok], w[ok]), "%s: values differ" % what)
            test.assertTrue(np.array_equal(np.signbit(g[ok]), np.signbit(w[ok])),
                            "%s: signs differ" % what)
    else:
        test.assertTrue(np.array_equal(got, want), "%s: values differ" % what)
