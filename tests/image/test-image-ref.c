/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Image references: normalisation of good input, and the specific error for
 * each kind of bad input. */
#include "config.h"

#include "banger-error.h"
#include "banger-image-ref.h"
#include "banger-test.h"

typedef struct
{
  const char *text;
  const char *registry;
  const char *endpoint;
  const char *repository;
  const char *tag;
  const char *digest;
  const char *canonical;
} GoodCase;

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const GoodCase good_cases[] = {
  { "alpine", "docker.io", "registry-1.docker.io", "library/alpine", "latest", NULL,
    "docker.io/library/alpine:latest" },
  { "alpine:3.19", "docker.io", "registry-1.docker.io", "library/alpine", "3.19", NULL,
    "docker.io/library/alpine:3.19" },
  { "library/debian:12", "docker.io", "registry-1.docker.io", "library/debian", "12", NULL,
    "docker.io/library/debian:12" },
  { "bitnami/redis", "docker.io", "registry-1.docker.io", "bitnami/redis", "latest", NULL,
    "docker.io/bitnami/redis:latest" },
  { "docker.io/alpine", "docker.io", "registry-1.docker.io", "library/alpine", "latest", NULL,
    "docker.io/library/alpine:latest" },
  { "index.docker.io/library/alpine:edge", "docker.io", "registry-1.docker.io",
    "library/alpine", "edge", NULL, "docker.io/library/alpine:edge" },
  { "ghcr.io/org/team/app:v1.2_rc-3", "ghcr.io", "ghcr.io", "org/team/app", "v1.2_rc-3", NULL,
    "ghcr.io/org/team/app:v1.2_rc-3" },
  { "127.0.0.1:5000/test/img", "127.0.0.1:5000", "127.0.0.1:5000", "test/img", "latest", NULL,
    "127.0.0.1:5000/test/img:latest" },
  { "localhost/img:1", "localhost", "localhost", "img", "1", NULL, "localhost/img:1" },
  { "localhost:5000/a__b.c-d---e", "localhost:5000", "localhost:5000", "a__b.c-d---e", "latest",
    NULL, "localhost:5000/a__b.c-d---e:latest" },
  { "[::1]:5000/img", "[::1]:5000", "[::1]:5000", "img", "latest", NULL,
    "[::1]:5000/img:latest" },
  { "alpine@sha256:" D64, "docker.io", "registry-1.docker.io", "library/alpine", NULL,
    "sha256:" D64, "docker.io/library/alpine@sha256:" D64 },
  { "r.example.com/a:t@sha256:" D64, "r.example.com", "r.example.com", "a", "t", "sha256:" D64,
    "r.example.com/a:t@sha256:" D64 },
};

START_TEST (test_ref_good)
{
  const GoodCase *c = &good_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerImageRef) ref = banger_image_ref_parse (c->text, &error);
  g_autofree char *canonical = NULL;

  ck_assert_msg (ref != NULL, "'%s': %s", c->text, error ? error->message : "");
  ck_assert_str_eq (banger_image_ref_get_registry (ref), c->registry);
  ck_assert_str_eq (banger_image_ref_get_endpoint (ref), c->endpoint);
  ck_assert_str_eq (banger_image_ref_get_repository (ref), c->repository);
  ck_assert_pstr_eq (banger_image_ref_get_tag (ref), c->tag);
  ck_assert_pstr_eq (banger_image_ref_get_digest (ref), c->digest);
  ck_assert_str_eq (banger_image_ref_get_reference (ref), c->digest ? c->digest : c->tag);
  canonical = banger_image_ref_to_string (ref);
  ck_assert_str_eq (canonical, c->canonical);
}
END_TEST

typedef struct
{
  const char *text;
  BangerError code;
  const char *message_part; /* the part of the message that names the fault */
} BadCase;

static const BadCase bad_cases[] = {
  { "", BANGER_ERROR_INVALID_ARGUMENT, "it is empty" },
  { "Alpine", BANGER_ERROR_INVALID_ARGUMENT, "must be lowercase" },
  { "docker.io/Library/alpine", BANGER_ERROR_INVALID_ARGUMENT, "must be lowercase" },
  { "alpine:", BANGER_ERROR_INVALID_ARGUMENT, "the tag" },
  { "alpine:-x", BANGER_ERROR_INVALID_ARGUMENT, "the tag" },
  { "alpine:a/b", BANGER_ERROR_INVALID_ARGUMENT, "registry" },
  { "alpine:" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    BANGER_ERROR_INVALID_ARGUMENT, "the tag" },
  { "alpine@sha256:abc", BANGER_ERROR_INVALID_ARGUMENT, "not a sha256 digest" },
  { "alpine@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
    BANGER_ERROR_INVALID_ARGUMENT, "not a sha256 digest" },
  { "alpine@md5:0123", BANGER_ERROR_INVALID_ARGUMENT, "not a sha256 digest" },
  { "alpine@sha512:0123", BANGER_ERROR_UNSUPPORTED, "sha512" },
  { "a//b", BANGER_ERROR_INVALID_ARGUMENT, "empty path component" },
  { "a/b/", BANGER_ERROR_INVALID_ARGUMENT, "empty path component" },
  { "/alpine", BANGER_ERROR_INVALID_ARGUMENT, "empty path component" },
  { "registry.example.com/", BANGER_ERROR_INVALID_ARGUMENT, "empty path component" },
  { "-a", BANGER_ERROR_INVALID_ARGUMENT, "path component" },
  { "a..b", BANGER_ERROR_INVALID_ARGUMENT, "path component" },
  { "a___b", BANGER_ERROR_INVALID_ARGUMENT, "path component" },
  { "a/../b", BANGER_ERROR_INVALID_ARGUMENT, "path component" },
  { "host:99999/a", BANGER_ERROR_INVALID_ARGUMENT, "registry" },
  { "host:0/a", BANGER_ERROR_INVALID_ARGUMENT, "registry" },
  { "ho_st.io/a", BANGER_ERROR_INVALID_ARGUMENT, "registry" },
  { "-bad.io/a", BANGER_ERROR_INVALID_ARGUMENT, "registry" },
  { "[::1/a", BANGER_ERROR_INVALID_ARGUMENT, "registry" },
  { "host:/a", BANGER_ERROR_INVALID_ARGUMENT, "registry" },
  { "al pine", BANGER_ERROR_INVALID_ARGUMENT, "whitespace" },
  { "alpine\n", BANGER_ERROR_INVALID_ARGUMENT, "whitespace" },
  { ":tag", BANGER_ERROR_INVALID_ARGUMENT, "repository name is empty" },
  { "@sha256:" D64, BANGER_ERROR_INVALID_ARGUMENT, "repository name is empty" },
  { "a:b:c", BANGER_ERROR_INVALID_ARGUMENT, "path component" },
};

START_TEST (test_ref_bad)
{
  const BadCase *c = &bad_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerImageRef) ref = banger_image_ref_parse (c->text, &error);

  ck_assert_msg (ref == NULL, "'%s' was accepted", c->text);
  banger_assert_error (error, c->code);
  ck_assert_msg (strstr (error->message, c->message_part) != NULL, "'%s': message '%s' lacks '%s'",
                 c->text, error->message, c->message_part);
}
END_TEST

START_TEST (test_ref_long_name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_strnfill (256, 'a');
  g_autoptr (BangerImageRef) ref = banger_image_ref_parse (name, &error);
  g_autofree char *ok_name = g_strnfill (255, 'a');
  g_autoptr (BangerImageRef) ok = banger_image_ref_parse (ok_name, NULL);

  ck_assert_ptr_null (ref);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull (strstr (error->message, "longer than 255"));
  ck_assert_ptr_nonnull (ok);
}
END_TEST

START_TEST (test_ref_with_digest)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerImageRef) ref = banger_image_ref_parse ("alpine", NULL);
  g_autoptr (BangerImageRef) pinned = banger_image_ref_with_digest (ref, "sha256:" D64, &error);
  g_autoptr (BangerImageRef) bad = NULL;

  ck_assert_ptr_nonnull (pinned);
  ck_assert_str_eq (banger_image_ref_get_reference (pinned), "sha256:" D64);
  ck_assert_str_eq (banger_image_ref_get_repository (pinned), "library/alpine");
  bad = banger_image_ref_with_digest (ref, "sha256:zz", &error);
  ck_assert_ptr_null (bad);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

static Suite *
image_ref_suite (void)
{
  Suite *s = suite_create ("image-ref");
  TCase *tc = tcase_create ("parse");

  tcase_add_loop_test (tc, test_ref_good, 0, G_N_ELEMENTS (good_cases));
  tcase_add_loop_test (tc, test_ref_bad, 0, G_N_ELEMENTS (bad_cases));
  tcase_add_test (tc, test_ref_long_name);
  tcase_add_test (tc, test_ref_with_digest);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (image_ref_suite)
