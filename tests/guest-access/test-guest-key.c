/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The install-wide SSH key (libbanger/guest/banger-guest-key.c): made on
 * first use with the right modes, readable by OpenSSH, loaded again
 * unchanged, one key from concurrent first uses, and every refusal with
 * the file left as it was. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-guest-key.h"
#include "guest-access-test.h"

static char *tmp;
static char *dir; /* tmp/ssh: not made yet */

static void
setup (void)
{
  tmp = g_dir_make_tmp ("banger-key-XXXXXX", NULL);
  ck_assert (tmp != NULL);
  dir = g_build_filename (tmp, "ssh", NULL);
}

static void
teardown (void)
{
  ga_rm_rf (tmp);
  g_clear_pointer (&tmp, g_free);
  g_clear_pointer (&dir, g_free);
}

static char *
file_in_dir (const char *name)
{
  return g_build_filename (dir, name, NULL);
}

static guint
mode_of (const char *path)
{
  struct stat st;

  ck_assert_int_eq (lstat (path, &st), 0);
  return st.st_mode & 07777;
}

static char *
contents_of (const char *path)
{
  char *c = NULL;

  ck_assert_msg (g_file_get_contents (path, &c, NULL, NULL), "cannot read %s", path);
  return c;
}

START_TEST (test_create_then_load)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerGuestKey) key = NULL;
  g_autoptr (BangerGuestKey) again = NULL;
  g_autofree char *priv = file_in_dir (BANGER_GUEST_KEY_FILE);
  g_autofree char *pub = file_in_dir (BANGER_GUEST_KEY_PUB_FILE);
  g_autofree char *priv_text = NULL;
  g_autofree char *pub_text = NULL;
  g_autofree char *priv_before = NULL;
  gboolean created = FALSE;

  key = banger_guest_key_load_or_create (dir, &created, &error);
  ck_assert_msg (key != NULL, "%s", error ? error->message : "?");
  ck_assert (created);
  ck_assert_str_eq (banger_guest_key_get_private_path (key), priv);
  ck_assert_str_eq (banger_guest_key_get_public_path (key), pub);
  ck_assert_uint_eq (mode_of (dir), 0700);
  ck_assert_uint_eq (mode_of (priv), 0600);
  ck_assert_uint_eq (mode_of (pub), 0644);

  priv_text = contents_of (priv);
  ck_assert (g_str_has_prefix (priv_text, "-----BEGIN OPENSSH PRIVATE KEY-----\n"));
  pub_text = contents_of (pub);
  ck_assert_str_eq (pub_text, banger_guest_key_get_public_line (key));
  ck_assert (g_str_has_prefix (pub_text, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"));
  ck_assert (g_str_has_suffix (pub_text, " " BANGER_GUEST_KEY_COMMENT "\n"));
  ck_assert_ptr_eq (strchr (pub_text, '\n'), pub_text + strlen (pub_text) - 1); /* one line */

  /* only the two files: no temporary left */
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    guint n = 0;
    while (g_dir_read_name (d) != NULL)
      n++;
    ck_assert_uint_eq (n, 2);
  }

  /* the second use loads the same key and rewrites nothing */
  priv_before = g_strdup (priv_text);
  created = TRUE;
  again = banger_guest_key_load_or_create (dir, &created, &error);
  ck_assert_msg (again != NULL, "%s", error ? error->message : "?");
  ck_assert (!created);
  ck_assert_str_eq (banger_guest_key_get_public_line (again),
                    banger_guest_key_get_public_line (key));
  g_free (priv_text);
  priv_text = contents_of (priv);
  ck_assert_str_eq (priv_text, priv_before);
}
END_TEST

/* OpenSSH reads the private key libssh wrote and derives the same public key. */
START_TEST (test_openssh_reads_key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerGuestKey) key = banger_guest_key_load_or_create (dir, NULL, &error);
  g_autofree char *keygen = g_find_program_in_path ("ssh-keygen");
  g_autofree char *out = NULL;
  g_auto (GStrv) ours = NULL;
  g_auto (GStrv) theirs = NULL;

  ck_assert_msg (key != NULL, "%s", error ? error->message : "?");
  if (keygen == NULL && banger_test_skip_part ("ssh-keygen (openssh-client) is not installed"))
    return;
  {
    const char *argv[] = { "ssh-keygen", "-y", "-f", banger_guest_key_get_private_path (key),
                           NULL };
    ck_assert (ga_run (argv, &out, NULL));
  }
  ours = g_strsplit (banger_guest_key_get_public_line (key), " ", 3);
  theirs = g_strsplit (out, " ", 3);
  ck_assert_str_eq (theirs[0], ours[0]);
  g_strstrip (theirs[1]);
  ck_assert_str_eq (theirs[1], ours[1]);
}
END_TEST

/* A missing or different public file is rewritten from the private key. */
START_TEST (test_public_file_rederived)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerGuestKey) key = banger_guest_key_load_or_create (dir, NULL, &error);
  g_autoptr (BangerGuestKey) k2 = NULL;
  g_autoptr (BangerGuestKey) k3 = NULL;
  g_autofree char *pub = file_in_dir (BANGER_GUEST_KEY_PUB_FILE);
  g_autofree char *text = NULL;
  gboolean created = TRUE;

  ck_assert (key != NULL);
  ck_assert_int_eq (g_unlink (pub), 0);
  k2 = banger_guest_key_load_or_create (dir, &created, &error);
  ck_assert_msg (k2 != NULL, "%s", error ? error->message : "?");
  ck_assert (!created);
  text = contents_of (pub);
  ck_assert_str_eq (text, banger_guest_key_get_public_line (key));
  ck_assert_uint_eq (mode_of (pub), 0644);

  ck_assert (g_file_set_contents (pub, "ssh-ed25519 AAAAforged other\n", -1, NULL));
  ck_assert_int_eq (chmod (pub, 0644), 0);
  k3 = banger_guest_key_load_or_create (dir, NULL, &error);
  ck_assert_msg (k3 != NULL, "%s", error ? error->message : "?");
  g_free (text);
  text = contents_of (pub);
  ck_assert_str_eq (text, banger_guest_key_get_public_line (key));
}
END_TEST

/* ---------------------------------------------------------- refusals */

/* Makes the key, then lets @spoil change the private or public file; the
 * next load must fail with @code and leave the spoiled file as it was. */
typedef void (*Spoil) (const char *path);

static void
expect_refusal (const char *name, Spoil spoil, int code, const char *words)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerGuestKey) key = banger_guest_key_load_or_create (dir, NULL, &error);
  g_autoptr (BangerGuestKey) bad = NULL;
  g_autofree char *path = file_in_dir (name);
  struct stat before, after;

  ck_assert_msg (key != NULL, "%s", error ? error->message : "?");
  spoil (path);
  ck_assert_int_eq (lstat (path, &before), 0);
  bad = banger_guest_key_load_or_create (dir, NULL, &error);
  ck_assert_ptr_null (bad);
  banger_assert_error (error, code);
  ck_assert_msg (strstr (error->message, words) != NULL, "'%s' not in: %s", words,
                 error->message);
  ck_assert_int_eq (lstat (path, &after), 0);
  ck_assert_uint_eq (after.st_ino, before.st_ino);
  ck_assert_uint_eq (after.st_mode, before.st_mode);
  ck_assert_int_eq (after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

static void
spoil_mode_0644 (const char *path)
{
  ck_assert_int_eq (chmod (path, 0644), 0);
}

static void
spoil_mode_0640 (const char *path)
{
  ck_assert_int_eq (chmod (path, 0640), 0);
}

static void
spoil_group_writable (const char *path)
{
  ck_assert_int_eq (chmod (path, 0664), 0);
}

static void
spoil_symlink (const char *path)
{
  g_autofree char *target = g_strconcat (path, ".real", NULL);
  ck_assert_int_eq (rename (path, target), 0);
  ck_assert_int_eq (symlink (target, path), 0);
}

static void
spoil_hardlink (const char *path)
{
  g_autofree char *other = g_build_filename (tmp, "other-link", NULL);
  ck_assert_int_eq (link (path, other), 0);
}

static void
spoil_directory (const char *path)
{
  ck_assert_int_eq (unlink (path), 0);
  ck_assert_int_eq (mkdir (path, 0700), 0);
}

static void
spoil_fifo (const char *path)
{
  ck_assert_int_eq (unlink (path), 0);
  ck_assert_int_eq (mkfifo (path, 0600), 0);
}

static void
spoil_garbage (const char *path)
{
  int fd = open (path, O_WRONLY | O_TRUNC);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (write (fd, "not a key\n", 10), 10);
  close (fd);
}

static void
spoil_huge (const char *path)
{
  ck_assert_int_eq (truncate (path, BANGER_GUEST_KEY_MAX_BYTES + 1), 0);
}

static void
spoil_foreign_owner (const char *path)
{
  ck_assert_int_eq (lchown (path, 65534, 65534), 0);
}

START_TEST (test_refuse_private_readable)
{
  expect_refusal (BANGER_GUEST_KEY_FILE, spoil_mode_0644, BANGER_ERROR_PERMISSION_DENIED,
                  "mode 0644");
}
END_TEST

START_TEST (test_refuse_private_group_readable)
{
  expect_refusal (BANGER_GUEST_KEY_FILE, spoil_mode_0640, BANGER_ERROR_PERMISSION_DENIED,
                  "mode 0640");
}
END_TEST

START_TEST (test_refuse_public_writable)
{
  expect_refusal (BANGER_GUEST_KEY_PUB_FILE, spoil_group_writable,
                  BANGER_ERROR_PERMISSION_DENIED, "mode 0664");
}
END_TEST

START_TEST (test_refuse_symlink)
{
  expect_refusal (BANGER_GUEST_KEY_FILE, spoil_symlink, BANGER_ERROR_PERMISSION_DENIED,
                  "symbolic link");
}
END_TEST

START_TEST (test_refuse_hardlink)
{
  expect_refusal (BANGER_GUEST_KEY_FILE, spoil_hardlink, BANGER_ERROR_PERMISSION_DENIED,
                  "one link");
}
END_TEST

START_TEST (test_refuse_directory)
{
  expect_refusal (BANGER_GUEST_KEY_FILE, spoil_directory, BANGER_ERROR_PERMISSION_DENIED,
                  "not a regular file");
}
END_TEST

START_TEST (test_refuse_fifo)
{
  expect_refusal (BANGER_GUEST_KEY_FILE, spoil_fifo, BANGER_ERROR_PERMISSION_DENIED,
                  "not a regular file");
}
END_TEST

START_TEST (test_refuse_garbage)
{
  expect_refusal (BANGER_GUEST_KEY_FILE, spoil_garbage, BANGER_ERROR_FAILED,
                  "not a private key");
}
END_TEST

START_TEST (test_refuse_huge)
{
  expect_refusal (BANGER_GUEST_KEY_FILE, spoil_huge, BANGER_ERROR_LIMIT_EXCEEDED, "larger than");
}
END_TEST

START_TEST (test_refuse_foreign_owner)
{
  if (geteuid () != 0 && banger_test_skip_part ("chown to another user needs root"))
    return;
  expect_refusal (BANGER_GUEST_KEY_FILE, spoil_foreign_owner, BANGER_ERROR_PERMISSION_DENIED,
                  "owned by uid");
}
END_TEST

START_TEST (test_refuse_rsa_key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerGuestKey) key = NULL;
  g_autofree char *priv = file_in_dir (BANGER_GUEST_KEY_FILE);
  g_autofree char *keygen = g_find_program_in_path ("ssh-keygen");

  if (keygen == NULL && banger_test_skip_part ("ssh-keygen (openssh-client) is not installed"))
    return;
  ck_assert_int_eq (mkdir (dir, 0700), 0);
  {
    const char *argv[] = { "ssh-keygen", "-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", priv,
                           NULL };
    ck_assert (ga_run (argv, NULL, NULL));
  }
  key = banger_guest_key_load_or_create (dir, NULL, &error);
  ck_assert_ptr_null (key);
  banger_assert_error (error, BANGER_ERROR_FAILED);
  ck_assert_msg (strstr (error->message, "ssh-rsa key") != NULL, "%s", error->message);
}
END_TEST

START_TEST (test_refuse_open_directory)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerGuestKey) key = NULL;

  ck_assert_int_eq (mkdir (dir, 0777), 0);
  ck_assert_int_eq (chmod (dir, 0777), 0);
  key = banger_guest_key_load_or_create (dir, NULL, &error);
  ck_assert_ptr_null (key);
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  ck_assert_msg (strstr (error->message, "mode 0777") != NULL, "%s", error->message);
  /* nothing was written into it */
  {
    g_autofree char *priv = file_in_dir (BANGER_GUEST_KEY_FILE);
    ck_assert (!g_file_test (priv, G_FILE_TEST_EXISTS));
  }
}
END_TEST

START_TEST (test_refuse_dir_symlink)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerGuestKey) key = NULL;
  g_autofree char *real = g_build_filename (tmp, "real", NULL);

  ck_assert_int_eq (mkdir (real, 0700), 0);
  ck_assert_int_eq (symlink (real, dir), 0);
  key = banger_guest_key_load_or_create (dir, NULL, &error);
  ck_assert_ptr_null (key);
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
}
END_TEST

/* ------------------------------------------------- concurrent first use */

#define RACERS 8

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean go;
  BangerGuestKey *keys[RACERS];
  gboolean created[RACERS];
  guint next;
} Race;

static gpointer
racer (gpointer data)
{
  Race *r = data;
  guint me;
  g_autoptr (GError) error = NULL;

  g_mutex_lock (&r->lock);
  me = r->next++;
  while (!r->go)
    g_cond_wait (&r->cond, &r->lock);
  g_mutex_unlock (&r->lock);
  r->keys[me] = banger_guest_key_load_or_create (dir, &r->created[me], &error);
  if (error != NULL)
    g_printerr ("# racer %u: %s\n", me, error->message);
  return NULL;
}

START_TEST (test_concurrent_first_use)
{
  Race r = { 0 };
  GThread *threads[RACERS];
  guint created = 0;
  g_autofree char *pub_text = NULL;
  g_autofree char *pub = file_in_dir (BANGER_GUEST_KEY_PUB_FILE);

  g_mutex_init (&r.lock);
  g_cond_init (&r.cond);
  for (guint i = 0; i < RACERS; i++)
    threads[i] = g_thread_new ("racer", racer, &r);
  g_mutex_lock (&r.lock);
  r.go = TRUE;
  g_cond_broadcast (&r.cond);
  g_mutex_unlock (&r.lock);
  for (guint i = 0; i < RACERS; i++)
    g_thread_join (threads[i]);

  for (guint i = 0; i < RACERS; i++)
    {
      ck_assert_msg (r.keys[i] != NULL, "racer %u failed", i);
      created += r.created[i] ? 1 : 0;
      ck_assert_str_eq (banger_guest_key_get_public_line (r.keys[i]),
                        banger_guest_key_get_public_line (r.keys[0]));
    }
  ck_assert_uint_eq (created, 1);
  pub_text = contents_of (pub);
  ck_assert_str_eq (pub_text, banger_guest_key_get_public_line (r.keys[0]));
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    guint n = 0;
    while (g_dir_read_name (d) != NULL)
      n++;
    ck_assert_uint_eq (n, 2);
  }
  for (guint i = 0; i < RACERS; i++)
    banger_guest_key_unref (r.keys[i]);
  g_mutex_clear (&r.lock);
  g_cond_clear (&r.cond);
}
END_TEST

static Suite *
key_suite (void)
{
  Suite *s = suite_create ("guest-key");
  TCase *tc = tcase_create ("key");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_create_then_load);
  tcase_add_test (tc, test_openssh_reads_key);
  tcase_add_test (tc, test_public_file_rederived);
  tcase_add_test (tc, test_refuse_private_readable);
  tcase_add_test (tc, test_refuse_private_group_readable);
  tcase_add_test (tc, test_refuse_public_writable);
  tcase_add_test (tc, test_refuse_symlink);
  tcase_add_test (tc, test_refuse_hardlink);
  tcase_add_test (tc, test_refuse_directory);
  tcase_add_test (tc, test_refuse_fifo);
  tcase_add_test (tc, test_refuse_garbage);
  tcase_add_test (tc, test_refuse_huge);
  tcase_add_test (tc, test_refuse_foreign_owner);
  tcase_add_test (tc, test_refuse_rsa_key);
  tcase_add_test (tc, test_refuse_open_directory);
  tcase_add_test (tc, test_refuse_dir_symlink);
  tcase_add_test (tc, test_concurrent_first_use);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (key_suite)
