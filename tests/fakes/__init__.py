"""Fake provider servers on 127.0.0.1: real sockets, so the real SDK clients run against them."""
