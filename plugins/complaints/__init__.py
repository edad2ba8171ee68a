"""The complaints plugin (built-in; registered through the `mendian.plugins` entry point)."""
