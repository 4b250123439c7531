"""Python bindings of libdllm (diffusion language models on CPUs), through ctypes.

    import dllm
    with dllm.Model("demo") as m:  # the demo model built into the library
        r = m.generate("What is 12+9?", chat=True, max_tokens=32)
        print(r.text, r.stats.tokens_per_second)
        for piece in m.stream("Count to five.", chat=True):
            print(piece, end="", flush=True)
"""

from . import _ffi
from ._lib import LibraryError
from .model import (DllmError, GenerateOptions, Model, ModelInfo, Result, Session, Stats,
                    StepEvent, StopReason)

__all__ = ["DllmError", "GenerateOptions", "LibraryError", "Model", "ModelInfo", "Result",
           "Session", "Stats", "StepEvent", "StopReason", "library_version", "__version__"]

__version__ = "0.1.0"


def library_version() -> str:
    """The loaded libdllm's version, "MAJOR.MINOR.PATCH"."""
    v = _ffi.dllm_version()
    return f"{v // 10000}.{v // 100 % 100}.{v % 100}"
