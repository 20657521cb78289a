"""The review commands as an operator runs them: users, approvals import, serve."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from adwatch.db import Database
from adwatch.models import ApprovalRecord, User
from review_ui.accounts import verify_password

ADWATCH = str(Path(sys.executable).with_name("adwatch"))


def run(settings, *args, stdin=""):
    env = {**os.environ, "ADWATCH_HOME": str(settings.home), "ADWATCH_DATABASE_URL": settings.database_url}
    return subprocess.run([ADWATCH, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


def test_users_add_with_password_on_stdin(sqlite_settings):
    done = run(
        sqlite_settings,
        "users",
        "add",
        "李审核",
        "--role",
        "reviewer",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert done.returncode == 0, done.stderr
    with Database(sqlite_settings).session() as s:
        user = s.scalar(select(User).where(User.name == "李审核"))
        assert user.role == "reviewer" and verify_password(user.password_hash, "a-long-password")
        assert "a-long-password" not in user.password_hash
    again = run(
        sqlite_settings, "users", "add", "李审核", "--role", "reviewer", "--password-stdin", stdin="x" * 12
    )
    assert again.returncode == 1 and "已存在" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    changed = run(
        sqlite_settings, "users", "set-password", "李审核", "--password-stdin", stdin="another-password\n"
    )
    assert changed.returncode == 0, changed.stderr
    with Database(sqlite_settings).session() as s:
        assert verify_password(
            s.scalar(select(User.password_hash).where(User.name == "李审核")), "another-password"
        )
    assert (
        run(sqlite_settings, "users", "set-password", "nobody", "--password-stdin", stdin="x" * 12).returncode
        == 1
    )
    listing = run(sqlite_settings, "users", "list")
    assert "李审核\treviewer\tactive" in listing.stdout


def test_users_add_refuses_bad_roles_and_weak_passwords(sqlite_settings):
    assert (
        run(
            sqlite_settings, "users", "add", "x1", "--role", "boss", "--password-stdin", stdin="long-enough\n"
        ).returncode
        == 2
    )
    weak = run(sqlite_settings, "users", "add", "x1", "--role", "admin", "--password-stdin", stdin="short\n")
    assert weak.returncode == 1 and "too short" in weak.stderr


def test_approvals_import_reports_every_bad_row_and_imports_nothing(sqlite_settings, tmp_path):
    header = "文号,机构名称,地址,诊疗科目,发布媒介,有效期起,有效期止,审查内容\n"
    good = "（京）医广【2025】第11-01-0714号,北京美丽人生医疗美容诊所,北京市朝阳区,美容外科,网络,2025-06-01,2026-05-31,\n"
    bad_file = tmp_path / "bad.csv"
    bad_file.write_text(
        header
        + good
        + "京ICP备1号,某机构,,,,2025-01-01,2026-01-01,\n"
        + "沪医广[2025]第1号,某机构,,,,2025-02-30,2026-01-01,\n",
        encoding="utf-8",
    )
    done = run(sqlite_settings, "approvals", "import", str(bad_file))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert any("第3行 A列（文号）" in line for line in lines) and any(
        "第4行 F列（有效期起）" in line for line in lines
    )
    assert lines[-1].startswith("adwatch: error:") and "nothing imported" in lines[-1]
    with Database(sqlite_settings).session() as s:
        assert s.scalars(select(ApprovalRecord)).all() == []
    good_file = tmp_path / "good.csv"
    good_file.write_text(header + good, encoding="utf-8")
    done = run(sqlite_settings, "approvals", "import", str(good_file))
    assert done.returncode == 0 and "1 new" in done.stdout
    missing = run(sqlite_settings, "approvals", "import", str(tmp_path / "none.csv"))
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_serve_documents_its_defaults(sqlite_settings):
    done = run(sqlite_settings, "serve", "--help")
    assert done.returncode == 0 and "127.0.0.1" in done.stdout and "8000" in done.stdout
