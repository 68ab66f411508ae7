"""The Contributor and Editor groups with their permissions (reversible: removes the groups).

Contributors create and edit drafts, add sources and status updates, record date moves and
delete drafts; they cannot publish, unpublish or delete published records (the admin and
publish() check the publish permission). Editors may do everything in the knowledge base.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PUBLIC_MODELS = [
    "organisation",
    "platform",
    "instrument",
    "measure",
    "milestone",
    "commitment",
    "indicator",
    "observation",
]
CONTRIBUTOR = [
    *(f"{action}_{model}" for model in PUBLIC_MODELS for action in ("add", "change", "view")),
    # Deleting a draft; the admin refuses a published record to anyone who may not publish.
    *(f"delete_{model}" for model in PUBLIC_MODELS),
    "add_source",
    "change_source",
    "view_source",
    "add_topic",
    "view_topic",
    "add_commitmentupdate",
    "change_commitmentupdate",
    "view_commitmentupdate",
    "add_datechange",
    "view_datechange",
    "view_factrelease",
    "view_seedconflict",
]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    knowledge = Permission.objects.filter(content_type__app_label="regulation")
    contributor, _ = Group.objects.get_or_create(name="Contributor")
    contributor.permissions.set(knowledge.filter(codename__in=CONTRIBUTOR))
    editor, _ = Group.objects.get_or_create(name="Editor")
    editor.permissions.set(knowledge)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Contributor", "Editor"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("regulation", "0012_review_publish_permission_and_publisher"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
