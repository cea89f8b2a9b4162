/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <glib.h>

/* Symbols are hidden by default (-fvisibility=hidden); these macros make a
 * public symbol visible and record the version that introduced it.  The
 * linker map libbanger.map is the second, authoritative gate. */
#define _BANGER_PUBLIC __attribute__ ((visibility ("default"))) extern

#define BANGER_AVAILABLE_IN_ALL _BANGER_PUBLIC
#define BANGER_AVAILABLE_IN_0_1 _BANGER_PUBLIC
#define BANGER_AVAILABLE_IN_0_2 _BANGER_PUBLIC
