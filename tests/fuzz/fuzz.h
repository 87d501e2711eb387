/*
 * fuzz.h: the libFuzzer entry point every tests/fuzz/fuzz_*.c defines,
 * declared once so the targets build with -Wmissing-prototypes.
 */
#ifndef HX_FUZZ_H
#define HX_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
