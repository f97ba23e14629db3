"""The pass/fail line shared by the held-out evaluations."""

from __future__ import annotations


def gate(macro_f1: float, minimum: float) -> int:
    """Prints the verdict; returns the process exit code (1 below the threshold)."""
    if macro_f1 < minimum:
        print(f"FAIL: macro-F1 {macro_f1:.3f} is below the threshold {minimum:.2f}")
        return 1
    print(f"OK: macro-F1 {macro_f1:.3f} >= {minimum:.2f}")
    return 0
