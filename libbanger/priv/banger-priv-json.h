/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The strict JSON reader of the privileged protocol.  json-glib's parser is
 * lenient where a security boundary must not be (it keeps the last of two
 * duplicate keys, accepts any nesting), so bangerd-root reads requests with
 * this small recursive-descent parser instead.  It builds json-glib nodes so
 * the rest of the code uses the familiar API. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Nesting limit of a protocol message: the top-level object counts as 1. */
#define BANGER_PRIV_JSON_DEPTH_MAX 8

/* Parse exactly @len bytes of JSON text (RFC 8259) into a node.  Refused,
 * before any node is built for what follows the fault:
 *   - invalid UTF-8, and any NUL byte (BANGER_ERROR_PROTOCOL);
 *   - nesting deeper than @max_depth objects/arrays (BANGER_ERROR_LIMIT_EXCEEDED);
 *   - a key repeated in one object, compared after unescaping (PROTOCOL);
 *   - "\u0000" and unpaired surrogate escapes in strings (PROTOCOL);
 *   - anything RFC 8259 does not allow: leading zeros, "+1", ".5", NaN,
 *     comments, single quotes, raw control characters in strings, trailing
 *     commas, and anything but whitespace after the value (PROTOCOL);
 *   - integers outside gint64 and numbers that overflow a double (PROTOCOL).
 * A number without fraction or exponent becomes a G_TYPE_INT64 value node,
 * any other a G_TYPE_DOUBLE one: "1" and "1.0" stay distinguishable. */
JsonNode *banger_priv_json_parse (const char *data, gsize len, guint max_depth, GError **error);

/* A short name of a node's JSON type for error messages: "object", "array",
 * "string", "integer", "number", "boolean" or "null". */
const char *banger_priv_json_type_name (JsonNode *node);

G_END_DECLS
