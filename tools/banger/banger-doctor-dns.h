/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The host-dns line of `banger doctor`: the advice; *@out_ok FALSE when
 * something needs adding (a warning, not a failure: VMs run without it). */
char *banger_doctor_dns (gboolean *out_ok);

G_END_DECLS
