"""The Django side of tests/suite/django.rs, one step per run:

    python steps.py setup '<json>'    # after `manage.py migrate`: users and a group made through Django
    python steps.py verify '<json>'   # after ferrobridge served the database: does Django still work?

Each prints one JSON object on its last line of stdout, which the Rust test reads.
"""
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django  # noqa: E402

django.setup()

from django.contrib.admin.models import LogEntry  # noqa: E402
from django.contrib.auth import authenticate  # noqa: E402
from django.contrib.auth.hashers import identify_hasher  # noqa: E402
from django.contrib.auth.models import Group, Permission, User  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402
from django.test import Client  # noqa: E402


def admin_client(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def setup(args):
    passwords = args["passwords"]
    User.objects.create_superuser("admin", "admin@example.com", passwords["admin"])
    User.objects.create_user("alice", "alice@example.com", passwords["alice"], is_staff=True)
    User.objects.create_user("bob", "bob@example.com", passwords["bob"])
    # A group added through Django's admin: its first history entry is Django's.
    response = admin_client("admin").post("/admin/auth/group/add/", {"name": "editors"})
    assert response.status_code == 302, response.content[:2000]
    return {
        "group_id": Group.objects.get(name="editors").pk,
        "hashes": {u.username: u.password for u in User.objects.all()},
        "content_types": sorted([ct.app_label, ct.model] for ct in ContentType.objects.all()),
        "permissions": sorted(
            [p.content_type.app_label, p.codename, p.name]
            for p in Permission.objects.select_related("content_type")
        ),
    }


def run(command, *args):
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=out)
    return out.getvalue()


def migrations_problems():
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    problems = [f"conflict: {c}" for c in loader.detect_conflicts()]
    plan = set(loader.graph.leaf_nodes())
    for app, name in sorted(plan):
        for node in loader.graph.forwards_plan((app, name)):
            if node not in loader.applied_migrations:
                problems.append(f"unapplied: {node}")
    for app, name in loader.applied_migrations:
        if (app, name) not in loader.graph.nodes:
            problems.append(f"applied but unknown: {app}.{name}")
    return sorted(set(problems))


def stale_content_types():
    # What `remove_stale_contenttypes --include-stale-apps` would delete:
    # content types whose model Django does not know.
    return sorted(
        f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all() if ct.model_class() is None
    )


def history(group_id):
    # Exactly the query of ModelAdmin.history_view.
    entries = LogEntry.objects.filter(
        object_id=str(group_id), content_type=ContentType.objects.get_for_model(Group)
    ).order_by("action_time")
    return [
        {"id": e.pk, "action_time": e.action_time.isoformat(), "flag": e.action_flag, "message": e.get_change_message()}
        for e in entries
    ]


def verify(args):
    group_id = args["group_id"]
    report = {"check": run("check"), "showmigrations": run("showmigrations")}
    report["migration_problems"] = migrations_problems()
    report["stale_content_types"] = stale_content_types()
    report["hashers"] = {u.username: identify_hasher(u.password).algorithm for u in User.objects.all()}
    report["authenticate"] = {
        name: authenticate(username=user, password=password) is not None
        for name, (user, password) in args["logins"].items()
    }
    # One more change through Django's admin, after ferrobridge's.
    client = admin_client("admin")
    response = client.post(f"/admin/auth/group/{group_id}/change/", {"name": "editors-django"})
    report["django_change_status"] = response.status_code
    report["history_page_status"] = client.get(f"/admin/auth/group/{group_id}/history/").status_code
    report["admin_index_status"] = client.get("/admin/").status_code
    report["history"] = history(group_id)
    # LogEntry's own ordering (-action_time): the admin index's recent actions.
    report["recent_actions"] = [e.pk for e in LogEntry.objects.all()]
    # Sessions of both admins share django_session; Django's cleanup reads every row's expiry.
    report["clearsessions"] = run("clearsessions")
    login = Client()
    user, password = args["admin_login"]
    report["admin_login"] = login.login(username=user, password=password)
    return report


if __name__ == "__main__":
    step, payload = sys.argv[1], json.loads(sys.argv[2])
    result = {"setup": setup, "verify": verify}[step](payload)
    print(json.dumps(result))
