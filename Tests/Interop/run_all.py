#!/usr/bin/env python3
"""WireLab interop test runner: real clients (curl, Python websockets, raw sockets, a browser)
against a real `wirelab serve`.

    python3 Tests/Interop/run_all.py --bin .build/debug/wirelab [-k PATTERN]... [-v]

Discovers every Tests/Interop/test_*.py and runs its unittest test cases (methods test_*).
`-k` keeps tests whose full name (module.Class.test_method) contains PATTERN (or matches it as
an fnmatch pattern when it holds * ? or [); give it several times to keep the union.
Ends with exactly one line `interop: N passed, M failed` (`, K skipped` when some were skipped)
and exits 1 when anything failed (errors count as failures).

A test that needs a tool which is absent fails. A skipped test (the browser tests when
WIRELAB_SKIP_BROWSER=1, for a quick local run) is reported, and it fails the run too: a green
`make test` means every test ran.

`--selector poll` starts every `wirelab serve` of the run with `--selector poll` (through
WIRELAB_SELECTOR, read by wirelab_server.py), so the suite also covers the poll() backend;
`make test` runs the suite once per backend.
"""
import argparse
import faulthandler
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PER_TEST_LIMIT_S = 120   # a hung test dumps its stack and ends the run rather than hang `make test`


class Result(unittest.TestResult):
    def __init__(self, verbose):
        super().__init__()
        self.verbose = verbose
        self.passed = 0
        self.failed_names = []
        self.skipped_count = 0
        self.started = {}
        self.subfailed = set()

    def startTest(self, test):
        super().startTest(test)
        self.started[test.id()] = time.monotonic()
        faulthandler.dump_traceback_later(PER_TEST_LIMIT_S, exit=True)
        if self.verbose:
            print(f"  ... {test.id()}", flush=True)

    def stopTest(self, test):
        faulthandler.cancel_dump_traceback_later()
        super().stopTest(test)

    def _elapsed(self, test):
        t0 = self.started.get(test.id())
        return f"{time.monotonic() - t0:5.2f}s" if t0 else "      "

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        print(f"ok    {self._elapsed(test)} {test.id()}", flush=True)

    def _fail(self, test, err, kind):
        self.failed_names.append(test.id())
        print(f"{kind:5} {self._elapsed(test)} {test.id()}", flush=True)
        text = self._exc_info_to_string(err, test)
        print("      " + text.rstrip().replace("\n", "\n      "), flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err, "FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        # setUpClass/tearDownClass errors arrive with a _ErrorHolder "test".
        self._fail(test, err, "ERROR")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.skipped_count += 1
        print(f"skip  {self._elapsed(test)} {test.id()}: {reason}", flush=True)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1
        print(f"ok    {self._elapsed(test)} {test.id()} (expected failure)", flush=True)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed_names.append(test.id())
        print(f"FAIL  {self._elapsed(test)} {test.id()} (unexpected success)", flush=True)

    def addSubTest(self, test, subtest, err):
        # Sub-tests roll up into their test: any failing sub-test fails it (reported once each).
        if err is not None:
            if issubclass(err[0], test.failureException):
                self.failures.append((subtest, self._exc_info_to_string(err, test)))
            else:
                self.errors.append((subtest, self._exc_info_to_string(err, test)))
            print(f"  sub-test failed: {subtest.id()}", flush=True)
            print("      " + self._exc_info_to_string(err, test).rstrip().replace("\n", "\n      "), flush=True)
            # unittest then reports the test neither as success nor failure: count it failed.
            self.subfailed.add(test.id())


def main():
    ap = argparse.ArgumentParser(description="WireLab interop tests")
    ap.add_argument("--bin", default=".build/debug/wirelab", help="the wirelab binary to test")
    ap.add_argument("-k", action="append", default=[], metavar="PATTERN",
                    help="run only tests whose name contains PATTERN (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each test as it starts")
    ap.add_argument("--selector", choices=["epoll", "poll"], default=None,
                    help="readiness backend of every server the tests start (default: the platform's)")
    args = ap.parse_args()
    if args.selector:
        os.environ["WIRELAB_SELECTOR"] = args.selector

    binary = os.path.abspath(args.bin)
    if not os.path.exists(binary):
        print(f"run_all: no wirelab binary at {binary} (swift build first)", file=sys.stderr)
        print("interop: 0 passed, 1 failed")
        return 1
    os.environ["WIRELAB_BIN"] = binary
    sys.path.insert(0, HERE)

    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = [p if any(ch in p for ch in "*?[") else f"*{p}*" for p in args.k]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)

    result = Result(args.verbose)
    t0 = time.monotonic()
    suite.run(result)
    elapsed = time.monotonic() - t0

    failed_set = set(result.failed_names) | result.subfailed
    passed = result.passed
    failed = len(failed_set)
    if failed_set:
        print("\nfailed:")
        for name in sorted(failed_set):
            print(f"  {name}")
    print(f"({elapsed:.1f} s)")
    line = f"interop: {passed} passed, {failed} failed"
    if result.skipped_count:
        line += f", {result.skipped_count} skipped (a skipped test fails the run)"
    if args.selector:
        line += f" [--selector {args.selector}]"
    print(line, flush=True)
    return 1 if failed or result.skipped_count or (passed == 0 and not args.k) else 0


if __name__ == "__main__":
    sys.exit(main())
