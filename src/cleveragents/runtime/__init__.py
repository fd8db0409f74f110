"""Primitives shared by the worker and the plan runner: cancellation tokens and child processes."""
