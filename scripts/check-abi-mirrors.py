#!/usr/bin/env python3
"""Checks the hand-written mirrors of include/dllm.h against the header itself:

- the functions declared by the Python bindings (bindings/python/dllm/_ffi.py) and by
  dllm-sys (bindings/rust/dllm-sys/src/lib.rs) are exactly the header's;
- every struct layout they declare (each field's offset and the struct's size) is the
  one the C compiler computes from the header. The C side is a program generated from
  the mirrors' own field lists, so a field the header lacks fails to compile, and a field
  a mirror lacks changes the size or the offsets;
- the constants (version, statuses, stop reasons) of both are the header's, and the
  typed enums built on them (Python StopReason and GenerateOptions, the Rust crate's
  Status and StopReason) name every one;
- the statuses each function's comment lists ("Returns: ...") are exactly those its
  export in capi/ can return, found by following the export's calls within capi/.

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


def header_constants():
    text = open(HEADER).read()
    consts = {m[0]: int(m[1]) for m in re.findall(r"^#define (DLLM_VERSION_\w+) (\d+)$", text, re.M)}
    consts.update({m[0]: int(m[1]) for m in re.findall(r"^\s*(DLLM_(?:STATUS|STOP)_\w+) = (\d+)", text, re.M)})
    return consts


PYTHON_CONSTANTS = (
    "import dllm, dllm._ffi as f, dllm._lib as l, dataclasses\n"
    "for k, v in vars(f).items():\n"
    "    if isinstance(v, int) and k.isupper():\n"
    "        print(k, v)\n"
    "print('EXPECTED_MAJOR', l.EXPECTED_MAJOR)\n"
    "print('EXPECTED_MINOR', l.EXPECTED_MINOR)\n"
    "for r in dllm.StopReason:\n"
    "    print('StopReason.' + r.name, int(r))\n"
    "print('GenerateOptions', *[x.name for x in dataclasses.fields(dllm.GenerateOptions)])\n"
    "print('generate_params', *[n for n, _ in f.generate_params._fields_])\n")


def python_constants():
    """The Python constants under the header's names, and the enums' members."""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "bindings/python"))
    out = subprocess.run([sys.executable, "-c", PYTHON_CONSTANTS], env=env, check=True,
                         capture_output=True, text=True).stdout
    consts, extra = {}, {}
    for line in out.splitlines():
        name, *vals = line.split()
        if name.startswith("EXPECTED_"):
            consts["DLLM_VERSION_" + name[len("EXPECTED_"):]] = int(vals[0])
        elif name.startswith("StopReason."):
            extra["DLLM_STOP_" + name[len("StopReason."):]] = int(vals[0])
        elif name in ("GenerateOptions", "generate_params"):
            extra[name] = vals
        elif name.startswith("STOP_"):
            consts["DLLM_" + name] = int(vals[0])
        else:
            consts["DLLM_STATUS_" + name] = int(vals[0])
    return consts, extra


def rust_constants():
    text = open(os.path.join(ROOT, "bindings/rust/dllm-sys/src/lib.rs")).read()
    return {m[0]: int(m[1]) for m in re.findall(r"^pub const (DLLM_\w+): \w+ = (\d+);", text, re.M)}


def compare_constants():
    h = header_constants()
    py, py_enums = python_constants()
    # Python mirrors the version it needs (major, minor), not the patch level.
    want_py = {k: v for k, v in h.items() if k != "DLLM_VERSION_PATCH"}
    for name, got, want in (("python", py, want_py), ("rust dllm-sys", rust_constants(), h)):
        if got != want:
            diff = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
            fail(f"{name} constants differ from dllm.h: "
                 + ", ".join(f"{k} = {got.get(k)} (dllm.h: {want.get(k)})" for k in diff))
        else:
            print(f"check-abi-mirrors: {name}: the {len(want)} constants of dllm.h")
    stops = {k: v for k, v in h.items() if k.startswith("DLLM_STOP_")}
    got = {k: v for k, v in py_enums.items() if k.startswith("DLLM_STOP_")}
    if got != stops:
        fail(f"python StopReason {got} differs from dllm.h {stops}")
    plumbing = {"struct_size", "reserved", "on_step", "step_user_data", "on_text", "text_user_data"}
    want = ["preset"] + [n for n in py_enums["generate_params"] if n not in plumbing]
    if py_enums["GenerateOptions"] != want:
        fail(f"python GenerateOptions fields {py_enums['GenerateOptions']}, "
             f"want {want} (dllm_generate_params)")
    # The safe crate converts every status and stop reason of dllm-sys by name.
    safe = open(os.path.join(ROOT, "bindings/rust/dllm/src/lib.rs")).read()
    missing = [k for k in h if not k.startswith("DLLM_VERSION_") and k != "DLLM_STATUS_OK"
               and f"sys::{k} =>" not in safe]
    if missing:
        fail(f"rust dllm does not convert {missing}")


def go_functions():
    """Every function and method body in capi/*.go, by name; and the exports."""
    bodies, exports = {}, set()
    for f in sorted(os.listdir(os.path.join(ROOT, "capi"))):
        if not f.endswith(".go") or f.endswith("_test.go"):
            continue
        text = open(os.path.join(ROOT, "capi", f)).read()
        exports.update(re.findall(r"^//export (\w+)$", text, re.M))
        for m in re.finditer(r"^func (?:\([^)]*\) )?(\w+)[\[(].*?^}$", text, re.M | re.S):
            bodies[m[1]] = m[0]
    return bodies, exports


def reachable_statuses(name, bodies, seen=None):
    seen = set() if seen is None else seen
    if name in seen or name not in bodies:
        return set()
    seen.add(name)
    body = bodies[name]
    found = set(re.findall(r"C\.DLLM_STATUS_(\w+)", body))
    # Calls, minus the function's own declaration.
    for callee in set(re.findall(r"\b(\w+)\(", body.split("\n", 1)[1])):
        found |= reachable_statuses(callee, bodies, seen)
    return found


def header_returns():
    """Each status-returning function of the header and the statuses its comment lists."""
    text = open(HEADER).read()
    out = {}
    for m in re.finditer(r"/\*((?:(?!\*/).)*)\*/\s*DLLM_API dllm_status (\w+)\(", text, re.S):
        listed = re.search(r"Returns:((?:\s*\*?\s*[A-Z_]+(?: \([^)]*\))?,?)+)", m[1])
        names = set(re.findall(r"\b([A-Z][A-Z_]+)\b", re.sub(r"\([^)]*\)", "", listed[1]))) \
            if listed else None
        out[m[2]] = names
    return out


def compare_returns():
    bodies, exports = go_functions()
    statuses = {k[len("DLLM_STATUS_"):] for k in header_constants() if k.startswith("DLLM_STATUS_")}
    n = 0
    for fn, listed in sorted(header_returns().items()):
        if listed is None:
            fail(f"dllm.h: {fn} lists no statuses (\"Returns: ...\")")
            continue
        if listed - statuses:
            fail(f"dllm.h: {fn} lists unknown statuses {sorted(listed - statuses)}")
        if fn not in exports:
            continue  # check-capi-symbols.sh reports a missing export
        got = reachable_statuses(fn, bodies)
        if got != listed:
            fail(f"dllm.h: {fn} lists {sorted(listed)}, but its export can return "
                 f"{sorted(got)}: missing {sorted(got - listed)}, never {sorted(listed - got)}")
        else:
            n += 1
    print(f"check-abi-mirrors: the status lists of {n} functions match their exports")


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
    compare_constants()
    compare_returns()
    print(f"abi-mirrors: {failures} failures" if failures else "abi-mirrors: all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
