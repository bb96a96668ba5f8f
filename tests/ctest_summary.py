#!/usr/bin/env python3
"""Summarises ctest runs from their JUnit files (ctest --output-junit).

usage: ctest_summary.py LABEL=FILE.xml...

Prints, for each run, how many tests passed, failed, were skipped and were
disabled, then every skipped test with its reason (the "SKIP: ..." lines
it printed: a skip is never counted as a pass) and every disabled or
failed test. Exit status 1 when a skipped test printed no reason (a skip
must say why) or a file is missing, else 0 (ctest's own status says
whether tests failed).
"""
import sys
import xml.etree.ElementTree as ET


def reasons(case):
    out = case.findtext('system-out') or ''
    lines = [l.strip() for l in out.splitlines() if 'SKIP:' in l]
    return [l[l.index('SKIP:') + 5:].strip() for l in lines]


def main(args):
    status = 0
    for arg in args:
        label, _, path = arg.rpartition('=')
        label = label or path
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            print('%s: no ctest results (%s)' % (label, e))
            status = 1
            continue
        passed, failed, skipped, disabled = [], [], [], []
        for case in root.iter('testcase'):
            name, st = case.get('name'), case.get('status')
            if st == 'run' and case.find('failure') is None:
                passed.append(name)
            elif st == 'disabled':
                disabled.append(name)
            elif st == 'notrun' and case.find('skipped') is not None and \
                    'SKIP_RETURN_CODE' in (case.find('skipped').get('message')
                                           or ''):
                skipped.append((name, reasons(case)))
            else:
                failed.append(name)
        print('%s: %d tests: %d passed, %d failed, %d skipped, %d disabled' %
              (label, len(passed) + len(failed) + len(skipped) + len(disabled),
               len(passed), len(failed), len(skipped), len(disabled)))
        for name, why in skipped:
            if not why:
                print('  SKIPPED %s: it printed no reason (a skip must say '
                      'why: "SKIP: reason")' % name)
                status = 1
            for w in why:
                print('  SKIPPED %s: %s' % (name, w))
        for name in disabled:
            print('  DISABLED %s (its DISABLED property is set)' % name)
        for name in failed:
            print('  FAILED %s' % name)
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
