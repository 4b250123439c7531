"""Builds libdllm with Go from the repository this package sits in and bundles it in the
package, so `pip install ./bindings/python` is the whole installation. The wheel is
platform-specific but holds no CPython extension, so one wheel serves every Python 3
(py3-none-PLATFORM)."""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

# bindings/python/../.. holds go.mod and the C ABI's Go package, capi/.
REPO = Path(__file__).resolve().parent.parent.parent


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        go = shutil.which(os.environ.get("GO", "go"))
        if go is None or not (REPO / "capi").is_dir():
            raise SystemExit(
                "dllm: building libdllm needs Go (https://go.dev/dl) on PATH and the dllm "
                "repository around bindings/python; install from a checkout of it")
        lib = Path(self.build_lib, "dllm", "libdllm.so").resolve()
        subprocess.run([go, "build", "-buildmode=c-shared", "-o", str(lib), "./capi"],
                       cwd=REPO, env=dict(os.environ, CGO_ENABLED="1"), check=True)
        lib.with_name("libdllm.h").unlink(missing_ok=True)  # Go writes a header too


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(distclass=BinaryDistribution,
      cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel})
