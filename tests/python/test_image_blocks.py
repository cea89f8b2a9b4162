#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The public image building blocks through GObject introspection, without
network: a Banger.BlobStore is made in a temporary directory and answers
for blobs it does not hold; a Banger.RegistryClient over it is configured
and refuses a malformed reference with Banger.Error.INVALID_ARGUMENT
before any network use."""
import os
import sys
import tempfile
import unittest

import gi
gi.require_version('Banger', '1.0')
from gi.repository import Banger, GLib, GObject  # noqa: E402

ABSENT = 'sha256:' + '0' * 64


class ImageBlocks(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.tmp.name, 'store')
        self.store = Banger.BlobStore.new(self.dir)

    def tearDown(self):
        self.tmp.cleanup()

    def test_store(self):
        self.assertEqual(self.store.get_path(), self.dir)
        self.assertTrue(os.path.isdir(self.dir))
        self.assertFalse(self.store.has_blob(ABSENT))
        self.assertEqual(self.store.get_blob_path(ABSENT),
                         os.path.join(self.dir, 'blobs', 'sha256', '0' * 64))
        self.assertIsNone(self.store.get_blob_path('md5:nope'))
        ok, removed, freed = self.store.prune(None)
        self.assertTrue(ok)
        self.assertEqual((removed, freed), (0, 0))
        with self.assertRaises(GLib.Error) as ctx:
            self.store.remove_blob(ABSENT)
        self.assertTrue(ctx.exception.matches(Banger.error_quark(),
                                              Banger.Error.NOT_FOUND),
                        ctx.exception.message)

    def test_progress_signal(self):
        # the download progress a Python pull connects to: reference, blob
        # digest, index, blob done/size, total done/size
        q = GObject.signal_query('progress', Banger.RegistryClient)
        self.assertIsNotNone(q)
        self.assertEqual(q.return_type, GObject.TYPE_NONE)
        self.assertEqual([GObject.type_name(t) for t in q.param_types],
                         ['gchararray', 'gchararray', 'guint',
                          'guint64', 'guint64', 'guint64', 'guint64'])

    def test_client_refuses_bad_reference(self):
        client = Banger.RegistryClient.new(self.store)
        client.set_insecure_hosts(['127.0.0.1:5000'])
        client.set_retries(0, 10)
        client.set_max_parallel(2)
        loop = GLib.MainLoop()
        out = {}

        def done(source, result):
            try:
                out['image'] = source.pull_finish(result)
            except GLib.Error as e:
                out['error'] = e
            loop.quit()

        reports = []
        client.connect('progress', lambda *args: reports.append(args[1:]))
        client.pull_async('Not A/Reference::', None, done)
        loop.run()
        self.assertNotIn('image', out)
        self.assertEqual(reports, [])
        err = out['error']
        self.assertTrue(err.matches(Banger.error_quark(), Banger.Error.INVALID_ARGUMENT),
                        f'{err.domain} {err.code}: {err.message}')


if __name__ == '__main__':
    sys.exit(0 if unittest.main(exit=False, verbosity=2).result.wasSuccessful() else 1)
