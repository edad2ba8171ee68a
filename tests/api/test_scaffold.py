"""PLUG-7: ``mendian plugins new`` makes a plugin that installs with pip and passes its own tests."""

import os
import subprocess
import sys

import pytest

from api.scaffold import scaffold


def test_scaffold_rejects_bad_names(tmp_path):
    with pytest.raises(ValueError):
        scaffold("9lives", tmp_path)


def test_scaffolded_plugin_installs_and_passes_its_own_tests(tmp_path):
    root = scaffold("Store Visits", tmp_path)
    assert (root / "mendian_store_visits" / "plugin.py").exists()
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", str(root)]
    subprocess.run(pip, check=True, capture_output=True, timeout=300)
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("MENDIAN_HOME",)}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        assert " passed" in result.stdout
        listed = subprocess.run(
            [sys.executable, "-c", "from api.cli import run; run()", "plugins", "list"],
            env=env | {"MENDIAN_HOME": str(tmp_path / "home")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "store_visits" in listed.stdout
    finally:
        subprocess.run(
            [sys.executable, "-m", "pip", "uninstall", "-q", "-y", "mendian-store-visits"],
            capture_output=True,
            timeout=300,
        )
