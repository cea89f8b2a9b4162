/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The in-process libssh server of the guest layer's tests (see
 * ssh-test-server.h). */
#include "config.h"

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "banger-test.h"
#include "ssh-test-server.h"

/* One host key for every server session (each bind owns a copy): the
 * client's known-hosts file records it at the first contact. */
static char *
host_key_b64 (void)
{
  static gsize once = 0;
  static char *b64;

  if (g_once_init_enter (&once))
    {
      ssh_key k = NULL;
      char *text = NULL;

      ck_assert (ssh_pki_generate (SSH_KEYTYPE_ED25519, 0, &k) == SSH_OK);
      ck_assert (ssh_pki_export_privkey_base64 (k, NULL, NULL, NULL, &text) == SSH_OK);
      b64 = g_strdup (text);
      ssh_string_free_char (text);
      ssh_key_free (k);
      g_once_init_leave (&once, 1);
    }
  return b64;
}

/* One libssh server session on @fd (taken); TRUE when a key was accepted. */
gboolean
ssh_test_serve_fd (int fd)
{
  gboolean authed = FALSE;
  ssh_bind bind = NULL;
  ssh_session session = NULL;
  ssh_key host = NULL;
  ssh_message msg;

  bind = ssh_bind_new ();
  session = ssh_new ();
  if (ssh_pki_import_privkey_base64 (host_key_b64 (), NULL, NULL, NULL, &host) != SSH_OK
      || ssh_bind_options_set (bind, SSH_BIND_OPTIONS_IMPORT_KEY, host) != SSH_OK
      || ssh_bind_accept_fd (bind, session, fd) != SSH_OK
      || ssh_handle_key_exchange (session) != SSH_OK)
    goto out;
  while ((msg = ssh_message_get (session)) != NULL)
    {
      if (ssh_message_type (msg) == SSH_REQUEST_AUTH
          && ssh_message_subtype (msg) == SSH_AUTH_METHOD_PUBLICKEY)
        {
          G_GNUC_BEGIN_IGNORE_DEPRECATIONS
          gboolean signed_ = ssh_message_auth_publickey_state (msg) == SSH_PUBLICKEY_STATE_VALID;
          G_GNUC_END_IGNORE_DEPRECATIONS
          if (signed_)
            {
              authed = TRUE;
              ssh_message_auth_reply_success (msg, 0);
            }
          else
            ssh_message_auth_reply_pk_ok_simple (msg);
        }
      else
        ssh_message_reply_default (msg);
      ssh_message_free (msg);
    }
out:
  /* (the bind owns the imported host key: ssh_bind_free frees it; freeing
   * it here too corrupts the heap, noticed when this thread exits) */
  ssh_free (session); /* closes fd, which ssh_bind_accept_fd took */
  ssh_bind_free (bind);
  return authed;
}

