//! A panic inside the library poisons it; its own test binary (process) so that the
//! other tests are unaffected.

#[test]
fn panic_poisons_the_library() {
    let err = dllm::test_panic();
    assert_eq!(err.status, dllm::Status::Internal);
    assert!(err.message.contains("poisoned"), "{err}");
    let err = dllm::Model::load("anything").err().unwrap();
    assert_eq!(err.status, dllm::Status::Internal);
}
