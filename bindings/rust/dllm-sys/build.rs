//! Links libdllm. The library is found in DLLM_LIB_DIR, else in the repository's build/
//! directory (where `make lib` puts it), else wherever the system linker looks.
//! Dependents receive the directory as DEP_DLLM_LIB_DIR (to set an rpath).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=DLLM_LIB_DIR");
    let dir = env::var_os("DLLM_LIB_DIR").map(PathBuf::from).or_else(|| {
        let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?);
        let build = manifest.join("../../../build");
        build.join("libdllm.so").exists().then_some(build)
    });
    if let Some(dir) = dir {
        let dir = dir.canonicalize().unwrap_or(dir);
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:lib_dir={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        println!(
            "cargo:rerun-if-changed={}",
            dir.join("libdllm.so").display()
        );
    }
    println!("cargo:rustc-link-lib=dylib=dllm");
}
