/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small operation table for the protocol tests: it lets the decoder,
 * executor and server be tested without the host operations, and counts
 * every handler call so a test can assert "refused, and nothing ran". */
#pragma once

#include "banger-names.h"
#include "banger-priv-op.h"

G_BEGIN_DECLS

extern gint priv_test_calls; /* handler invocations, atomically updated */

/* priv.echo {name: vm name (req), count: int 0-100, flag: bool}
 *   -> {name, count, flag}
 * priv.sleep {ms: int 0-5000 (req), seq: int}  -> {seq}
 * priv.fail {code: int 0-11 (req)}             -> error of that code */
const BangerPrivOp *priv_test_ops (void);

G_END_DECLS
