"""Mendian's fixtures come from its pytest plugin, ``api.testing`` (the same one plugin authors
use); this file only re-exports the helpers some tests import."""

from api.testing import BACKENDS, PG_URL, REQUIRE, make_tenant

__all__ = ["BACKENDS", "PG_URL", "REQUIRE", "make_tenant"]
