"""Loaded into every pytest subprocess the tests start (PYTHONPATH): see loopback.py."""

import loopback

loopback.install()
