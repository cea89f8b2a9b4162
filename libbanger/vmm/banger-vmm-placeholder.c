/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vmm layer fills in with the VMM drivers (issue 4). */
#include "config.h"
