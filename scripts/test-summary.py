#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Read meson testlog.json files and print the summary CI reads.

The last line is exactly 'N passed, N failed'.  Skipped tests are named
above it, with their count on the line just above the last ('N skipped'),
and any skip makes the exit status 1: the test command does not pass by
not running something (README, "Tests")."""
import json
import sys

passed = failed = 0
skipped = []
for path in sys.argv[1:]:
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.readlines()
    except OSError:
        print(f'missing test log {path}: counted as one failure')
        failed += 1
        continue
    run = path.split('/')[0]
    for line in lines:
        t = json.loads(line)
        result = t['result']
        name = f"{run}: {t['name']}"
        if result in ('OK', 'EXPECTEDFAIL'):
            passed += 1
        elif result == 'SKIP':
            skipped.append(name)
        else:
            failed += 1
            print(f'FAILED {name} ({result})')
for name in skipped:
    print(f'SKIPPED {name} (a skip fails the test command)')
print(f'{len(skipped)} skipped')
print(f'{passed} passed, {failed} failed')
sys.exit(1 if failed or skipped else 0)
