"""Finds and loads libdllm.

Search order: the DLLM_LIBRARY_PATH environment variable (a file, or a directory
holding the library), this package's directory (where ``pip install`` bundles it), then
the system loader (LD_LIBRARY_PATH, ldconfig, ...). The library's major version must
equal EXPECTED_MAJOR and its minor version be at least EXPECTED_MINOR.
"""

import ctypes
import ctypes.util
import os
import sys

EXPECTED_MAJOR = 0
EXPECTED_MINOR = 5


class LibraryError(ImportError):
    """libdllm could not be found or is incompatible."""


def _file_names():
    if sys.platform == "darwin":
        return ["libdllm.dylib"]
    if sys.platform == "win32":
        return ["dllm.dll", "libdllm.dll"]
    return ["libdllm.so"]


def _candidates():
    env = os.environ.get("DLLM_LIBRARY_PATH")
    if env:
        if os.path.isdir(env):
            return [("DLLM_LIBRARY_PATH", os.path.join(env, n)) for n in _file_names()], True
        return [("DLLM_LIBRARY_PATH", env)], True
    here = os.path.dirname(os.path.abspath(__file__))
    found = [("package directory", os.path.join(here, n)) for n in _file_names()]
    return found, False


def load():
    """Returns the loaded library as a ctypes.CDLL."""
    tried = []
    candidates, explicit = _candidates()
    for origin, path in candidates:
        if os.path.exists(path):
            try:
                return _check(ctypes.CDLL(path), path)
            except OSError as e:
                raise LibraryError(f"cannot load libdllm from {path} ({origin}): {e}") from e
        tried.append(path)
    if explicit:
        raise LibraryError(f"DLLM_LIBRARY_PATH names no library: tried {', '.join(tried)}")
    name = ctypes.util.find_library("dllm")
    for n in ([name] if name else []) + _file_names():
        try:
            return _check(ctypes.CDLL(n), n)
        except OSError:
            tried.append(n)
    raise LibraryError(
        "libdllm not found (set DLLM_LIBRARY_PATH to the library or its directory); tried "
        + ", ".join(tried))


def _check(lib, where):
    lib.dllm_version.restype = ctypes.c_uint32
    lib.dllm_version.argtypes = []
    v = lib.dllm_version()
    major, minor = v // 10000, v // 100 % 100
    if major != EXPECTED_MAJOR or minor < EXPECTED_MINOR:
        raise LibraryError(
            f"{where} is libdllm {major}.{minor}.{v % 100}; this package needs "
            f"{EXPECTED_MAJOR}.{EXPECTED_MINOR} or a later {EXPECTED_MAJOR}.x")
    return lib
