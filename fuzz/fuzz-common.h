/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared helpers of the libFuzzer harnesses: turning the fuzzer's bytes into
 * NUL-terminated strings, and an invariant check that aborts (so libFuzzer
 * records the input as a crash) instead of only printing. */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The fuzzer's bytes as a C string: cut at the first NUL (a C caller cannot
 * pass more than that anyway). */
static inline char *
fuzz_cstring (const uint8_t *data, size_t size)
{
  return g_strndup ((const char *) data, size);
}

#define FUZZ_ASSERT(cond)                                                                      \
  do                                                                                           \
    {                                                                                          \
      if (!(cond))                                                                             \
        {                                                                                      \
          g_printerr ("fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);      \
          abort ();                                                                            \
        }                                                                                      \
    }                                                                                          \
  while (0)
