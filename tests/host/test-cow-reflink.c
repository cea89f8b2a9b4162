/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "banger-test.h"
static Suite *s_ (void) { return suite_create ("x"); }
BANGER_TEST_MAIN (s_)
