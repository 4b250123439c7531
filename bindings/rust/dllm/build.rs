//! When dllm-sys links libdllm.so (DLLM_LIB_DIR), puts its directory on the rpath of this
//! crate's tests, examples and binaries, so they run without LD_LIBRARY_PATH. A static
//! libdllm (the default) needs nothing.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_DLLM_LIB_DIR");
    if let Ok(dir) = std::env::var("DEP_DLLM_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
