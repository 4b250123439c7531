//! Links libdllm. With DLLM_LIB_DIR set, links what that directory holds: libdllm.so
//! (with an rpath to it; dependents receive the directory as DEP_DLLM_LIB_DIR), else
//! libdllm.a. Otherwise builds libdllm.a from this repository's Go sources with
//! `go build -buildmode=c-archive` into OUT_DIR and links it statically, so programs need
//! nothing at run time. GO names the go command (default `go`).

use std::env;
use std::path::{Path, PathBuf};
use std::process::{exit, Command};

fn main() {
    println!("cargo:rerun-if-env-changed=DLLM_LIB_DIR");
    match env::var_os("DLLM_LIB_DIR") {
        Some(dir) => link_from(Path::new(&dir)),
        None => build_with_go(),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("dllm-sys: {msg}");
    exit(1)
}

fn link_from(dir: &Path) {
    let dir = dir
        .canonicalize()
        .unwrap_or_else(|e| fail(&format!("DLLM_LIB_DIR={}: {e}", dir.display())));
    println!("cargo:rustc-link-search=native={}", dir.display());
    let (shared, archive) = (dir.join("libdllm.so"), dir.join("libdllm.a"));
    if shared.is_file() {
        println!("cargo:rerun-if-changed={}", shared.display());
        println!("cargo:rustc-link-lib=dylib=dllm");
        println!("cargo:lib_dir={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    } else if archive.is_file() {
        println!("cargo:rerun-if-changed={}", archive.display());
        link_static();
    } else {
        fail(&format!(
            "DLLM_LIB_DIR={} holds neither libdllm.so nor libdllm.a",
            dir.display()
        ));
    }
}

fn link_static() {
    println!("cargo:rustc-link-lib=static=dllm");
    // What the Go runtime inside the archive needs from the C library.
    println!("cargo:rustc-link-lib=dylib=pthread");
    println!("cargo:rustc-link-lib=dylib=m");
}

fn build_with_go() {
    let var = |name: &str| env::var(name).unwrap_or_default();
    if var("TARGET") != var("HOST") {
        fail("cross-compiling: build libdllm for the target and set DLLM_LIB_DIR to its directory");
    }
    // bindings/rust/dllm-sys/../../.. holds go.mod and the C ABI's Go package, capi/.
    let repo = Path::new(&var("CARGO_MANIFEST_DIR")).join("../../..");
    if !repo.join("capi").is_dir() {
        fail(&format!(
            "no Go sources of libdllm at {}; set DLLM_LIB_DIR to a directory holding \
             libdllm.a or libdllm.so",
            repo.display()
        ));
    }
    println!("cargo:rerun-if-env-changed=GO");
    let go = env::var_os("GO").unwrap_or_else(|| "go".into());
    let go_cmd = || {
        let mut c = Command::new(&go);
        c.current_dir(&repo).env("CGO_ENABLED", "1");
        c
    };
    let no_go = |e: std::io::Error| -> ! {
        fail(&format!(
            "cannot run {go:?} ({e}); building libdllm needs Go (https://go.dev/dl) on PATH, \
             or set DLLM_LIB_DIR to a directory holding libdllm.a or libdllm.so"
        ))
    };

    // Rebuild when any file of the module's packages that libdllm is made of changes
    // (cargo scans each directory), or the header, go.mod or go.sum.
    let dirs = go_cmd()
        .args(["list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}"])
        .arg("./capi")
        .output()
        .unwrap_or_else(|e| no_go(e));
    if !dirs.status.success() {
        fail(&format!("go list: {}", String::from_utf8_lossy(&dirs.stderr)));
    }
    for dir in String::from_utf8_lossy(&dirs.stdout).lines() {
        println!("cargo:rerun-if-changed={dir}");
    }
    for file in ["include/dllm.h", "go.mod", "go.sum"] {
        println!("cargo:rerun-if-changed={}", repo.join(file).display());
    }

    let out = PathBuf::from(var("OUT_DIR"));
    let status = go_cmd()
        .args(["build", "-buildmode=c-archive", "-o"])
        .arg(out.join("libdllm.a"))
        .arg("./capi")
        .status()
        .unwrap_or_else(|e| no_go(e));
    if !status.success() {
        fail(&format!("go build -buildmode=c-archive ./capi: {status}"));
    }
    println!("cargo:rustc-link-search=native={}", out.display());
    link_static();
}
