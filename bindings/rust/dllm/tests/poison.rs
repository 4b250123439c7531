//! A panic inside the library poisons it; its own test binary (process) so that the
//! other tests are unaffected. Only a library built with -tags dllmtest exports the
//! function that panics (include/dllm_test.h): run with `--features dllmtest`.
#![cfg(feature = "dllmtest")]

extern "C" {
    fn dllm_test_panic() -> dllm_sys::dllm_status;
}

#[test]
fn panic_poisons_the_library() {
    // SAFETY: no arguments.
    assert_eq!(unsafe { dllm_test_panic() }, dllm_sys::DLLM_STATUS_INTERNAL);
    let err = dllm::Model::load("anything").err().unwrap();
    assert_eq!(err.status, dllm::Status::Internal);
    assert!(err.message.contains("poisoned"), "{err}");
}
