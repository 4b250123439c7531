#!/usr/bin/env python3
"""The READMEs as tests.

    scripts/readme.py snippet FILE LANG   prints the first ```LANG block of FILE
    scripts/readme.py test [--worktree]   runs every shell command of the READMEs

`test` runs the fenced `sh` and `console` blocks of README.md, bindings/*/README.md and
examples/*/README.md in a fresh clone of this repository (so only committed work is
tested; --worktree copies the working tree's files instead, uncommitted changes
included). Each block runs from the clone's root in its own bash, with HOME set to an
empty temporary folder (so `~` and anything installed there are temporary too; Go, Cargo,
rustup, pyenv and pip keep their caches and toolchains) and no DLLM_* or loader
variables. An `sh` block passes when it exits with 0. In a `console` block every `$ `
line is a command and the lines up to the next one are its output, stdout and stderr
together, which must be exactly what the command prints, except that a number with a
decimal point matches any number (timings). A block whose info string holds `no-test`
(```sh no-test: REASON) is not run; it is listed with its reason.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^(`{3,}|~{3,})\s*(.*)$")
SHELLS = ("sh", "console")


class Block:
    def __init__(self, path, line, info, text):
        self.path, self.line, self.text = path, line, text
        words = info.split()
        self.lang = words[0] if words else ""
        self.skip = None
        if "no-test" in info:
            self.skip = info.split("no-test", 1)[1].lstrip(":").strip() or "no reason given"

    def where(self):
        return f"{self.path}:{self.line}"


def blocks(path):
    """The fenced code blocks of a Markdown file, in order."""
    out, open_fence, start, info, body = [], None, 0, "", []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = FENCE.match(line.rstrip("\n"))
            if open_fence is None:
                if m:
                    open_fence, start, info, body = m.group(1), n, m.group(2), []
            elif m and m.group(1).startswith(open_fence) and not m.group(2):
                out.append(Block(path, start, info, "".join(body)))
                open_fence = None
            else:
                body.append(line)
    if open_fence is not None:
        raise SystemExit(f"{path}:{start}: code block never closed")
    return out


def snippet(path, lang):
    for b in blocks(path):
        if b.lang == lang:
            return b.text
    raise SystemExit(f"{path}: no ```{lang} block")


def console_steps(block):
    """(command, expected output lines) pairs of a console block."""
    steps = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise SystemExit(f"{block.where()}: output before the first `$ ` command")
        cmd = lines[i][2:]
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd[:-1] + "\n" + lines[i]
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        steps.append((cmd, expected))
    return steps


NUMBER = re.compile(r"\d+\.\d+")


def line_pattern(expected):
    parts = NUMBER.split(expected)
    return re.compile(r"\d+(?:\.\d+)?".join(re.escape(p) for p in parts))


def output_matches(expected, actual):
    actual = [a.rstrip() for a in actual]
    expected = [e.rstrip() for e in expected]
    return len(actual) == len(expected) and all(
        line_pattern(e).fullmatch(a) for e, a in zip(expected, actual))


def run(cmd, cwd, env):
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", cmd], cwd=cwd, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def tool_homes():
    """Caches and toolchains a user's machine already has, kept when HOME changes."""
    home = os.path.expanduser("~")
    keep = {}
    for var in ("GOCACHE", "GOMODCACHE", "GOPROXY", "GOFLAGS", "GOTOOLCHAIN"):
        keep[var] = subprocess.run(["go", "env", var], capture_output=True, text=True,
                                   check=True).stdout.strip()
    for var, default in (("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup"),
                         ("PYENV_ROOT", ".pyenv"), ("PIP_CACHE_DIR", ".cache/pip")):
        path = os.environ.get(var, os.path.join(home, default))
        if os.path.exists(path):
            keep[var] = path
    return keep


def checkout(repo, dest, worktree):
    if not worktree:
        subprocess.run(["git", "clone", "-q", repo, dest], check=True)
        return
    files = subprocess.run(["git", "-C", repo, "ls-files", "-z", "-co", "--exclude-standard"],
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for f in filter(None, files):
        src = os.path.join(repo, f)
        if os.path.lexists(src):
            os.makedirs(os.path.join(dest, os.path.dirname(f)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, f), follow_symlinks=False)


def test(worktree):
    repo = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=True).stdout.strip()
    readmes = ["README.md"] + sorted(glob.glob("bindings/*/README.md", root_dir=repo)) + \
        sorted(glob.glob("examples/*/README.md", root_dir=repo))
    tmp = tempfile.mkdtemp(prefix="dllm-readme.")
    try:
        src, home = os.path.join(tmp, "dllm"), os.path.join(tmp, "home")
        os.mkdir(home)
        checkout(repo, src, worktree)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("DLLM_") and k not in (
                   "LD_LIBRARY_PATH", "PYTHONPATH", "CARGO_TARGET_DIR", "GOBIN", "GOPATH",
                   "PKG_CONFIG_PATH", "VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
        env.update(tool_homes())
        env["HOME"] = home
        env["PATH"] = os.pathsep.join([os.path.join(home, "go", "bin"), env["PATH"]])
        return run_blocks(readmes, src, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_blocks(readmes, src, env):
    ran, skipped, failed = 0, [], []
    for readme in readmes:
        for b in blocks(os.path.join(src, readme)):
            if b.lang not in SHELLS:
                continue
            where = f"{readme}:{b.line}"
            if b.skip:
                skipped.append(f"{where} ({b.skip})")
                continue
            ran += 1
            steps = console_steps(b) if b.lang == "console" else [(b.text, None)]
            for cmd, expected in steps:
                print(f"--- {where}\n{cmd.rstrip()}", flush=True)
                rc, out = run(cmd, src, env)
                if rc != 0:
                    failed.append(where)
                    print(out + f"FAIL {where}: exit status {rc}", flush=True)
                    break
                if expected is not None and not output_matches(expected, out.splitlines()):
                    failed.append(where)
                    print("expected:\n" + "\n".join(expected) + "\ngot:\n" + out +
                          f"FAIL {where}: output differs", flush=True)
                    break
    print(f"\nREADME test: {ran} blocks run, {len(failed)} failed, {len(skipped)} not run:")
    for s in skipped:
        print(f"  {s}")
    for f in failed:
        print(f"FAIL {f}")
    return 1 if failed or ran == 0 else 0


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "snippet":
        sys.stdout.write(snippet(args[1], args[2]))
        return 0
    if args and args[0] == "test" and set(args[1:]) <= {"--worktree"}:
        return test("--worktree" in args)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
