"""`make bench`: the benchmark, and the process harness it shares with the tests."""
