//go:build dllmtest

package main

/*
#include "private.h"
*/
import "C"

// dllm_test_panic (include/dllm_test.h) exists only in libraries built with
// -tags dllmtest, so that no production library can be poisoned on purpose.
//
//export dllm_test_panic
func dllm_test_panic() C.dllm_status {
	return export(func() C.dllm_status { panic("dllm_test_panic called") })
}
