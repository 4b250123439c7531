#!/usr/bin/env python3
"""Checks the hand-written mirrors of include/dllm.h against the header itself:

- the functions declared by the Python bindings (bindings/python/dllm/_ffi.py) and by
  dllm-sys (bindings/rust/dllm-sys/src/lib.rs) are exactly the header's;
- every struct layout they declare (each field's offset and the struct's size) is the
  one the C compiler computes from the header. The C side is a program generated from
  the mirrors' own field lists, so a field the header lacks fails to compile, and a field
  a mirror lacks changes the size or the offsets.

    scripts/check-abi-mirrors.py   (needs cc, python3 and cargo; run from anywhere)
"""

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
HEADER = os.path.join(ROOT, "include", "dllm.h")
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("check-abi-mirrors: " + msg, file=sys.stderr)


def header_functions():
    text = open(HEADER).read()
    return set(re.findall(r"^DLLM_API[^(]*?[\s*](dllm_\w+)\(", text, re.M))


def python_functions():
    text = open(os.path.join(ROOT, "bindings/python/dllm/_ffi.py")).read()
    return set(re.findall(r"^def (dllm_\w+)\(", text, re.M))


def rust_functions():
    text = open(os.path.join(ROOT, "bindings/rust/dllm-sys/src/lib.rs")).read()
    return set(re.findall(r"^\s*pub fn (dllm_\w+)\(", text, re.M))


def python_layout():
    code = (
        "import ctypes, dllm._ffi as f\n"
        "for name in dir(f):\n"
        "    t = getattr(f, name)\n"
        "    if isinstance(t, type) and issubclass(t, ctypes.Structure) and t is not ctypes.Structure:\n"
        "        print('dllm_' + name, 'sizeof', ctypes.sizeof(t))\n"
        "        for fld, _ in t._fields_:\n"
        "            print('dllm_' + name, fld, getattr(t, fld).offset)\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "bindings/python"))
    return subprocess.run([sys.executable, "-c", code], env=env, check=True,
                          capture_output=True, text=True).stdout


def rust_layout():
    return subprocess.run(["cargo", "run", "--quiet", "--offline", "-p", "dllm-sys",
                           "--example", "layout"], cwd=os.path.join(ROOT, "bindings/rust"),
                          check=True, capture_output=True, text=True).stdout


def c_layout(mirror):
    """The C compiler's answer for every line of a mirror's layout."""
    lines = [l.split() for l in mirror.splitlines() if l.strip()]
    body = []
    for struct, field, _ in lines:
        if field == "sizeof":
            body.append(f'printf("{struct} sizeof %zu\\n", sizeof({struct}));')
        else:
            body.append(f'printf("{struct} {field} %zu\\n", offsetof({struct}, {field}));')
    src = ("#include <stddef.h>\n#include <stdio.h>\n#include \"dllm.h\"\n"
           "int main(void) {\n" + "\n".join(body) + "\nreturn 0;\n}\n")
    with tempfile.TemporaryDirectory() as d:
        c, exe = os.path.join(d, "layout.c"), os.path.join(d, "layout")
        open(c, "w").write(src)
        r = subprocess.run([os.environ.get("CC", "cc"), "-std=c11", "-I",
                            os.path.join(ROOT, "include"), c, "-o", exe],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return None, r.stderr
        return subprocess.run([exe], check=True, capture_output=True, text=True).stdout, ""


def compare_layout(name, mirror):
    want, err = c_layout(mirror)
    if want is None:
        fail(f"{name} declares fields the header lacks:\n{err}")
        return
    structs = {l.split()[0] for l in mirror.splitlines() if l.strip()}
    if want != mirror:
        for a, b in zip(mirror.splitlines(), want.splitlines()):
            if a != b:
                fail(f"{name}: {a!r}, but C says {b!r}")
    else:
        print(f"check-abi-mirrors: {name}: {len(structs)} structs match the C layout")


def main():
    h = header_functions()
    for name, got in (("python", python_functions()), ("rust dllm-sys", rust_functions())):
        if got != h:
            fail(f"{name} functions differ from dllm.h: missing {sorted(h - got)}, "
                 f"extra {sorted(got - h)}")
        else:
            print(f"check-abi-mirrors: {name}: the {len(h)} functions of dllm.h")
    compare_layout("python", python_layout())
    compare_layout("rust dllm-sys", rust_layout())
    print(f"abi-mirrors: {4 - min(failures, 4)} passed, {min(failures, 4)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
