/*
 * dllm_test.h - test-only additions to dllm.h, exported only by a library built with
 * `go build -tags dllmtest`. The declaration is weak, so a test program also links
 * against a production library and finds dllm_test_panic NULL there.
 */
#ifndef DLLM_TEST_H
#define DLLM_TEST_H

#include "dllm.h"

#if defined(__GNUC__) || defined(__clang__)
#  define DLLM_TEST_WEAK __attribute__((weak))
#else
#  define DLLM_TEST_WEAK
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Panics inside the library to exercise panic recovery: returns DLLM_STATUS_INTERNAL
 * and poisons the library for the rest of the process.
 * Returns: INTERNAL. */
DLLM_API DLLM_TEST_WEAK dllm_status dllm_test_panic(void);

#ifdef __cplusplus
}
#endif

#endif /* DLLM_TEST_H */
