# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the embedded-client tests on the real guest share: root or a skip
(a failure under CI=true), the test guest built or taken from the cache, the
process moved into a network namespace of its own (before GLib starts any
thread: setns only moves the calling thread, and threads inherit it), a
cgroup root named like it, and a blocking call of an _async/_finish pair.
Import it before gi."""
import ctypes
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_SRC = os.path.join(HERE, '..', 'guest')
CLONE_NEWNET = 0x40000000


def skips_fail():
    return (os.environ.get('CI') in ('true', '1')
            or bool(os.environ.get('BANGER_TEST_REQUIRE')))


def cgroup2_mount():
    with open('/proc/self/mountinfo', encoding='utf-8') as f:
        for line in f:
            fields = line.split()
            sep = fields.index('-')
            if fields[sep + 1] == 'cgroup2':
                return fields[4]
    raise RuntimeError('no cgroup2 mount')


def require_root():
    if os.geteuid() != 0:
        if skips_fail():
            print('1..1\nnot ok 1 - not run: needs root (CI=true: a skip is a failure)')
            sys.exit(1)
        print('1..0 # SKIP needs root (network namespace, taps, QEMU)')
        sys.exit(0)


def build_guest():
    """The test guest (tests/guest/build-guest.sh), built or taken from the
    cache BEFORE the process moves into its network namespace: a first build
    downloads Debian packages, and the namespace has no way out."""
    cache = os.environ.get('BANGER_GUEST_CACHE') or os.path.join(GUEST_SRC, 'cache')
    built = subprocess.run([os.path.join(GUEST_SRC, 'build-guest.sh'), cache],
                           capture_output=True, text=True, check=False)
    if built.returncode != 0:
        print('1..1\nnot ok 1 - build-guest.sh failed (exit %d): %s'
              % (built.returncode, built.stderr.replace('\n', ' | ')))
        sys.exit(1)
    return built.stdout.strip()


def enter(tag):
    """Root checked, the guest built, the process in namespace
    banger-TAG-PID: (guest dir, namespace, cgroup root)."""
    require_root()
    guest = build_guest()
    ns = f'banger-{tag}-{os.getpid()}'
    subprocess.run(['ip', 'netns', 'add', ns], check=True)
    subprocess.run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'], check=True)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f'/run/netns/{ns}', os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'setns')
    os.close(fd)
    return guest, ns, os.path.join(cgroup2_mount(), f'banger-{tag}-{os.getpid()}.slice')


def run_async(start, finish, *args):
    """start(*args, None, callback) and finish(result), the default main
    context iterated meanwhile."""
    from gi.repository import GLib
    loop = GLib.MainLoop()
    results = []

    def done(_source, res):
        results.append(res)
        loop.quit()

    start(*args, None, done)
    loop.run()
    return finish(results[0])
