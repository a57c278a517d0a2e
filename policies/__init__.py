"""The policy gate: declarative rule files evaluated in plain Python (no Django).

The platform gathers facts (creator, subject, consent, photo analysis) into a
plain dict; `evaluate` turns them into a Decision.
"""
from .engine import Decision, PolicyError, evaluate, load_policy

__all__ = ["Decision", "PolicyError", "evaluate", "load_policy"]
