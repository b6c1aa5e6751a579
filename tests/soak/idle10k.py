#!/usr/bin/env python3
"""Idle-connection memory at 10,000 connections: now a thin wrapper around
tests/soak/idle.py, kept so the command in README.md still works.

    python3 tests/soak/idle10k.py [./simple-http-server] [N=10000]"""
import os, sys

here = os.path.dirname(os.path.abspath(__file__))
os.execv(sys.executable, [sys.executable, os.path.join(here, "idle.py")] + sys.argv[1:])
