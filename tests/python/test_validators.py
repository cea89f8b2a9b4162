#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The five validators through GObject introspection, on the same table as
the C test (tests/data/validator-cases.json)."""
import json
import os
import sys
import unittest

import gi
gi.require_version('Banger', '1.0')
from gi.repository import Banger, GLib  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data',
                    'validator-cases.json')
with open(DATA, encoding='utf-8') as f:
    CASES = json.load(f)


class Validators(unittest.TestCase):
    def assert_banger_error(self, ctx, code):
        err = ctx.exception
        self.assertTrue(err.matches(Banger.error_quark(), code),
                        f'{err.domain} {err.code}: {err.message}')

    def test_path_is_under(self):
        for path, root, expected in CASES['path_is_under']:
            with self.subTest(path=path, root=root):
                self.assertEqual(Banger.path_is_under(path, root), expected)

    def test_api_sock(self):
        for argv, expected in CASES['api_sock']:
            with self.subTest(argv=argv):
                self.assertEqual(Banger.extract_firecracker_api_sock(argv), expected)

    def test_signal(self):
        for name, expected in CASES['signal']:
            with self.subTest(name=name):
                if expected is None:
                    with self.assertRaises(GLib.Error) as ctx:
                        Banger.validate_signal_name(name)
                    self.assert_banger_error(ctx, Banger.Error.INVALID_ARGUMENT)
                else:
                    ok, signo = Banger.validate_signal_name(name)
                    self.assertTrue(ok)
                    self.assertEqual(signo, expected)

    def _bool_table(self, table, fn):
        for name, expected in CASES[table]:
            with self.subTest(name=name):
                if expected:
                    self.assertTrue(fn(name))
                else:
                    with self.assertRaises(GLib.Error) as ctx:
                        fn(name)
                    self.assert_banger_error(ctx, Banger.Error.INVALID_ARGUMENT)

    def test_vm_name(self):
        self._bool_table('vm_name', Banger.validate_vm_name)

    def test_ifname(self):
        self._bool_table('ifname', Banger.validate_ifname)

    def test_read_cmdline_self(self):
        argv = Banger.proc_read_cmdline(os.getpid())
        self.assertIn('python', argv[0])
        with self.assertRaises(GLib.Error) as ctx:
            Banger.proc_read_cmdline(0)
        self.assert_banger_error(ctx, Banger.Error.INVALID_ARGUMENT)

    def test_open_beneath(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, 'a'))
            with open(os.path.join(d, 'a', 'f'), 'w') as f:
                f.write('x')
            os.symlink('a', os.path.join(d, 'l'))
            root = os.open(d, os.O_PATH | os.O_DIRECTORY)
            try:
                fd = Banger.open_beneath(root, 'a/f', os.O_RDONLY)
                self.assertEqual(os.read(fd, 1), b'x')
                os.close(fd)
                for bad in ('l/f', '../x', '/etc/passwd'):
                    with self.assertRaises(GLib.Error) as ctx:
                        Banger.open_beneath(root, bad, os.O_RDONLY)
                    self.assert_banger_error(ctx, Banger.Error.PERMISSION_DENIED)
            finally:
                os.close(root)

    def test_error_names(self):
        self.assertEqual(Banger.Error.to_name(Banger.Error.NOT_FOUND), 'not-found')
        ok, code = Banger.Error.from_name('busy')
        self.assertTrue(ok)
        self.assertEqual(code, Banger.Error.BUSY)

    def test_version(self):
        self.assertTrue(Banger.check_version(0, 1, 0))
        self.assertEqual(Banger.get_major_version(), 0)


if __name__ == '__main__':
    # TAP-ish output is not needed: meson reads the exit status.
    sys.exit(0 if unittest.main(exit=False, verbosity=2).result.wasSuccessful() else 1)
