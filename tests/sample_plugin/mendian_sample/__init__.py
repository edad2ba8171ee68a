"""A sample third-party plugin: counts store visits from purchases (tests the real install path)."""
