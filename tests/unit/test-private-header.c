/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Must NOT compile: a public header other than <banger.h>, included directly. */
#include <banger-names.h>
int main (void) { return 0; }
