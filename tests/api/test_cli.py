"""The ``mendian`` command, run as a user would (a subprocess on a fresh home)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKENDS


def mendian(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "MENDIAN_HOME": str(home)
    }
    environ.pop("MENDIAN_SECRET_KEY", None)
    environ.pop("MENDIAN_ADMIN_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-c", "from api.cli import run; run()", *args],
        capture_output=True,
        text=True,
        env=environ | (env or {}),
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    assert mendian(home, "migrate").returncode == 0
    return home


def test_tenants_lifecycle(home):
    r = mendian(home, "tenants", "create", "acme", "--name", "ACME 连锁")
    assert r.returncode == 0, r.stderr
    assert "created tenant acme" in r.stdout
    again = mendian(home, "tenants", "create", "acme", "--name", "x")
    assert again.returncode == 2 and "already exists" in again.stdout
    assert "acme" in mendian(home, "tenants", "list").stdout
    assert mendian(home, "tenants", "suspend", "acme").returncode == 0
    assert "suspended" in mendian(home, "tenants", "list").stdout
    key = mendian(home, "keys", "create", "acme", "--name", "pos")
    assert key.returncode == 0 and "mdn_acme_" in key.stdout
    assert mendian(home, "tenants", "delete", "acme", "--yes").returncode == 0
    assert "acme" not in mendian(home, "tenants", "list").stdout


def test_customers_import_keeps_good_rows_and_reports_bad(home, tmp_path):
    assert mendian(home, "tenants", "create", "imp", "--name", "Import").returncode == 0
    csv = tmp_path / "customers.csv"
    csv.write_text(
        "姓名,手机,邮箱,标签,生日\n"
        "王芳,13912340001,wf@example.com,vip、老客户,1990-05-01\n"
        "李雷,12345,,,\n"
        "韩梅梅,13912340002,not-an-email,,\n"
        "赵六,13912340001,,,\n"
        "孙七,13912340003,,,1990/13/01\n"
        "周八,13912340004,,,\n",
        encoding="utf-8",
    )
    r = mendian(home, "customers", "import", "imp", str(csv))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 created, 4 rejected of 6 rows" in r.stdout
    report = (tmp_path / "customers.csv.errors.csv").read_text(encoding="utf-8").splitlines()
    assert report[0] == "row,field,reason"
    assert [line.split(",")[:2] for line in report[1:]] == [
        ["3", "phone"],
        ["4", "email"],
        ["5", "phone"],
        ["6", "birthday"],
    ]


def test_customers_import_xlsx(home, tmp_path):
    from openpyxl import Workbook

    assert mendian(home, "tenants", "create", "xls", "--name", "X").returncode == 0
    wb = Workbook()
    wb.active.append(["name", "phone", "gender"])
    wb.active.append(["Amy", "13912340011", "女"])
    wb.active.append(["Bob", "bad", "男"])
    wb.save(tmp_path / "c.xlsx")
    r = mendian(home, "customers", "import", "xls", str(tmp_path / "c.xlsx"))
    assert "1 created, 1 rejected of 2 rows" in r.stdout


def test_demo_seeds_a_chain(home):
    r = mendian(home, "demo", "--customers", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "60 customers" in r.stdout and "mdn_demo_" in r.stdout
    again = mendian(home, "demo", "--customers", "10")
    assert again.returncode == 2 and "--reset" in again.stdout


def test_missing_production_setting_is_a_clear_error(tmp_path):
    r = mendian(tmp_path, "migrate", env={"DATABASE_URL": "postgres://127.0.0.1/x"})
    assert r.returncode == 2
    assert "MENDIAN_SECRET_KEY is required" in r.stdout


def test_backends_under_test():
    assert "sqlite" in BACKENDS


def test_plugins_commands(home):
    assert mendian(home, "tenants", "create", "plg", "--name", "Plugins").returncode == 0
    listed = mendian(home, "plugins", "list")
    assert listed.returncode == 0
    for pid in ("loyalty", "surveys", "complaints", "care", "sample"):
        assert pid in listed.stdout
    enabled = mendian(
        home, "plugins", "enable", "plg", "sample", "--settings", '{"greeting": "hi"}'
    )
    assert enabled.returncode == 0 and "enabled: sample" in enabled.stdout
    bad = mendian(
        home, "plugins", "enable", "plg", "sample", "--settings", '{"visits_goal": "many"}'
    )
    assert bad.returncode == 2 and "settings.visits_goal" in bad.stdout
    status = mendian(home, "plugins", "list", "--tenant", "plg")
    assert "True" in status.stdout
    disabled = mendian(home, "plugins", "disable", "plg", "sample")
    assert disabled.returncode == 0 and "disabled: sample (data kept)" in disabled.stdout
    doctor = mendian(home, "plugins", "doctor", "--tenant", "plg")
    assert doctor.returncode == 0, doctor.stdout
    assert "sample 1.2.0 loaded from mendian_sample.plugin" in doctor.stdout
    drained = mendian(home, "worker", "--drain", "--nice", "5")
    assert drained.returncode == 0 and "delivered" in drained.stdout
    assert mendian(home, "worker", "--drain", "--nice", "25").returncode == 2  # 0-19 only


def test_a_database_never_migrated_is_a_clear_error(tmp_path):
    r = mendian(tmp_path / "fresh", "tenants", "list")
    assert r.returncode == 2
    assert "run mendian migrate first" in r.stdout and "Traceback" not in r.stderr


def test_the_hook_reference_lists_core_and_plugin_hooks(home):
    r = mendian(home, "plugins", "hooks")
    assert r.returncode == 0, r.stderr
    assert "| `on_purchase_recorded` | event | `tenant`, `event` | core |" in r.stdout
    assert "| `on_loyalty_points_awarded` | event | `tenant`, `event` | loyalty |" in r.stdout
