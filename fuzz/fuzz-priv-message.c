/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The privileged protocol's decoder, end to end: the bytes are cut into reads
 * (sizes taken from the first input byte), framed, and every message goes
 * through the strict parser, the envelope check, the parameter table and a
 * handler, exactly as bangerd-root does.  The same message is also read as a
 * reply (the client's decoder).  Invariants: every reply is itself a valid
 * reply, a fatal reply has "id": null, and the framer never holds more than
 * the message limit + 1 bytes. */
#include "fuzz-common.h"

#include "banger-error.h"
#include "banger-names.h"
#include "banger-priv-executor.h"
#include "banger-priv-framer.h"
#include "banger-priv-message.h"

static const BangerParamSpec op_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { "ifname", BANGER_PARAM_STRING, FALSE, 1, 15, banger_validate_ifname },
  { "pid", BANGER_PARAM_INT, FALSE, 2, 4194304, NULL },
  { "force", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { "note", BANGER_PARAM_STRING, FALSE, 0, 0, NULL },
  { NULL },
};

static gboolean
op_handler (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
            JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  /* Everything the table promised holds. */
  const char *vm_id = json_object_get_string_member (params, "vm_id");
  FUZZ_ASSERT (vm_id != NULL && banger_validate_vm_name (vm_id, NULL));
  if (json_object_has_member (params, "pid"))
    {
      gint64 pid = json_object_get_int_member (params, "pid");
      FUZZ_ASSERT (pid >= 2 && pid <= 4194304);
    }
  json_builder_set_member_name (result, "vm_id");
  json_builder_add_string_value (result, vm_id);
  return TRUE;
}

static const BangerPrivOp ops[] = {
  { "priv.op", op_params, op_handler },
  { NULL },
};

static void
check_reply (GBytes *reply, gboolean fatal)
{
  gsize len;
  const char *data = g_bytes_get_data (reply, &len);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) result = NULL;
  gint64 id = G_MININT64;
  gboolean ok;

  FUZZ_ASSERT (len > 0 && data[len - 1] == '\0');
  ok = banger_priv_reply_parse (data, len - 1, &id, &result, &error);
  FUZZ_ASSERT (ok || (error != NULL && error->domain == BANGER_ERROR));
  FUZZ_ASSERT (id != G_MININT64);
  if (fatal)
    FUZZ_ASSERT (!ok && id == -1);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static BangerPrivState *state;
  BangerPeerCred caller = { 1000, 1000, 42 };
  BangerPrivFramer framer;
  gsize chunk, off;

  if (state == NULL)
    {
      g_autoptr (BangerInstallConfig) config = banger_install_config_new ();
      config->owner_uid = 1000;
      config->owner_gid = 1000;
      state = banger_priv_state_new (config);
    }
  if (size == 0)
    return 0;
  chunk = 1 + data[0] * 64;
  data++;
  size--;

  banger_priv_framer_init (&framer, BANGER_PRIV_MESSAGE_MAX);
  for (off = 0; off < size;)
    {
      g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      g_autoptr (GError) error = NULL;
      gsize n = MIN (chunk, size - off);
      gboolean ok = banger_priv_framer_feed (&framer, data + off, n, msgs, &error);

      FUZZ_ASSERT (framer.alloc <= BANGER_PRIV_MESSAGE_MAX + 1);
      for (guint i = 0; i < msgs->len; i++)
        {
          gsize mlen;
          const char *m = g_bytes_get_data (msgs->pdata[i], &mlen);
          gboolean fatal = FALSE;
          g_autoptr (GBytes) reply
              = banger_priv_execute_message (ops, state, &caller, m, mlen, NULL, &fatal);
          g_autoptr (GError) rerr = NULL;
          g_autoptr (JsonObject) rres = NULL;

          FUZZ_ASSERT (mlen <= BANGER_PRIV_MESSAGE_MAX);
          check_reply (reply, fatal);
          /* The client's decoder on the same untrusted bytes. */
          (void) banger_priv_reply_parse (m, mlen, NULL, &rres, &rerr);
        }
      if (!ok)
        {
          FUZZ_ASSERT (error != NULL && error->code == BANGER_ERROR_LIMIT_EXCEEDED);
          break;
        }
      off += n;
    }
  banger_priv_framer_clear (&framer);
  return 0;
}
