"""Invisible watermarks, C2PA manifests and the checks that read them back.

A pure library (no Django): the platform supplies registry look-ups as callables.
"""
