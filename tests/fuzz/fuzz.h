/*
 * fuzz.h - the entry point every harness in tests/fuzz/ defines.
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): with clang and
 * -fsanitize=fuzzer,address,undefined into libFuzzer programs
 * (scripts/fuzz.sh, `make fuzz`), or with driver.c into plain programs
 * that replay the seed corpora (CTest label `fuzz`, regression mode).
 * A harness signals a broken invariant with abort(); libFuzzer and the
 * driver both report it as a crash.
 */
#ifndef RG_FUZZ_H
#define RG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input. Returns 0 (libFuzzer's contract); never keeps data. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
