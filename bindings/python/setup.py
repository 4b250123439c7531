"""Marks the distribution as platform-specific: the package bundles libdllm, a native
library, but no CPython extension, so one wheel serves every Python 3 (py3-none-PLAT)."""

from setuptools import setup
from setuptools.dist import Distribution


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


cmdclass = {}
try:
    try:
        from setuptools.command.bdist_wheel import bdist_wheel
    except ImportError:
        from wheel.bdist_wheel import bdist_wheel

    class PlatformWheel(bdist_wheel):
        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = PlatformWheel
except ImportError:
    pass

setup(distclass=BinaryDistribution, cmdclass=cmdclass)
