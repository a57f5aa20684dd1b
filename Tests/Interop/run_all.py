#!/usr/bin/env python3
"""Placeholder interop runner; replaced by the interop suite."""
print("interop: 0 passed, 0 failed")
