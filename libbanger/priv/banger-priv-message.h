/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The envelope of the privileged protocol (doc/protocol.md):
 *   request  {"id": <int>, "method": "priv.<op>", "params": {…}, "op_id": "<str>"}
 *   reply    {"id": <int|null>, "result": {…}}
 *          | {"id": <int|null>, "error": {"code": "<name>", "message": "…"}}
 * Messages are read with the strict parser (banger-priv-json.h) and framed
 * by banger-priv-framer.h. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define BANGER_PRIV_METHOD_MAX 64 /* bytes of a method name */
#define BANGER_PRIV_OP_ID_MAX 64  /* bytes of an op_id */

typedef struct
{
  gint64 id;
  char *method;
  JsonObject *params; /* never NULL: an absent "params" is {} */
  char *op_id;        /* nullable */
} BangerPrivRequest;

void banger_priv_request_free (BangerPrivRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerPrivRequest, banger_priv_request_free)

/* Parse one message (without its NUL) as a request.  Everything about the
 * envelope is checked here: the message must be a JSON object (strict
 * parser, nesting <= BANGER_PRIV_JSON_DEPTH_MAX), with exactly the keys
 * above ("params" and "op_id" optional), "id" an integer >= 0, "method" a
 * name "priv.[a-z0-9_]+" of at most BANGER_PRIV_METHOD_MAX bytes, "params" an
 * object, "op_id" 1–64 bytes of [A-Za-z0-9._:-].  The method's own
 * parameters are checked by the executor. */
BangerPrivRequest *banger_priv_request_parse (const char *data, gsize len, GError **error);

/* A request message, NUL-terminated, ready to send (for clients).  @params
 * may be NULL ({}). */
GBytes *banger_priv_request_serialize (gint64 id, const char *method, JsonObject *params,
                                       const char *op_id);

/* Reply messages, NUL-terminated.  @id < 0 means "null": the request could
 * not be read far enough to know its id. */
GBytes *banger_priv_reply_result (gint64 id, JsonNode *result);
GBytes *banger_priv_reply_error (gint64 id, const GError *error);

/* Parse a reply (without its NUL), strictly.  On a result reply returns TRUE
 * with @out_result (an object, transfer full); on an error reply returns FALSE
 * with the peer's error mapped back into BANGER_ERROR by its wire name (an
 * unknown name arrives as BANGER_ERROR_FAILED).  A malformed reply is
 * BANGER_ERROR_PROTOCOL.  @out_id gets the reply's id (-1 for null) when the
 * envelope could be read. */
gboolean banger_priv_reply_parse (const char *data, gsize len, gint64 *out_id,
                                  JsonObject **out_result, GError **error);

G_END_DECLS
