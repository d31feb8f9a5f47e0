"""Starts s3rver (npm, scripts/s3rver.sh) on loopback for the script tests that
run the CLI or the examples against s3:// paths.

`start(bucket)` returns an S3rver whose `env` holds the AWS_* variables that
point stowage at it, or raises unittest.SkipTest when s3rver is not installed
(a failure instead when STOWAGE_REQUIRE_S3RVER=1).
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "s3rver.sh")


def installed():
    prefix = os.environ.get("STOWAGE_S3RVER_PREFIX", os.path.join(ROOT, "build-deps", "s3rver"))
    server = os.path.join(prefix, "node_modules", "s3rver", "bin", "s3rver.js")
    return os.path.isfile(server) and shutil.which("node") is not None


class S3rver:
    def __init__(self, bucket):
        self.bucket = bucket
        self.data = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        self.process = subprocess.Popen(["bash", SCRIPT, "run", self.data, bucket],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        port, output, deadline = None, b"", time.time() + 30
        while port is None and time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            output += line
            found = re.search(rb"listening on 127\.0\.0\.1:(\d+)", line)
            if found:
                port = int(found.group(1))
        if port is None:
            self.stop()
            raise AssertionError("s3rver did not start: %s" % output.decode(errors="replace"))
        self.env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:%d" % port,
                        AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER",
                        AWS_REGION="us-east-1")
        for name in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
            self.env.pop(name, None)

    def keys(self, prefix):
        """Keys stored under bucket/prefix/, read from s3rver's data folder (object k is the
        file k._S3rver_object there): what the server holds, not what stowage lists."""
        base = os.path.join(self.data, self.bucket, prefix)
        suffix = "._S3rver_object"
        found = set()
        for folder, _, files in os.walk(base):
            for name in files:
                if name.endswith(suffix):
                    found.add(os.path.relpath(os.path.join(folder, name[:-len(suffix)]), base))
        return found

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        shutil.rmtree(self.data, ignore_errors=True)


def start(bucket):
    if not installed():
        if os.environ.get("STOWAGE_REQUIRE_S3RVER") == "1":
            raise AssertionError("s3rver is not installed (scripts/s3rver.sh install)")
        raise unittest.SkipTest("s3rver not installed")
    return S3rver(bucket)
