"""The publishing rule on the paths that go round the models' own methods: a citation removed
through a many-to-many manager (`record.sources.remove()` or `.clear()`, and from the sources'
side, `source.milestones.remove()`).
Connected in RegulationConfig.ready() to each public model's `sources` through table."""

from django.db.models.signals import m2m_changed

from regulation.models import public_models, refuse_leaving_uncited


def refuse_removing_last_source(
    sender, instance, action: str, reverse: bool, model, pk_set, **kwargs
) -> None:
    """Refuse a removal or clear that would leave a published record citing no source."""
    if action not in ("pre_remove", "pre_clear"):
        return
    if reverse:
        # instance is the Source; pk_set names the records (None: all of them, on clear).
        refuse_leaving_uncited([instance.pk], model=model, record_ids=pk_set)
        return
    source_ids = (
        pk_set if pk_set is not None else list(instance.sources.values_list("pk", flat=True))
    )
    refuse_leaving_uncited(source_ids, model=type(instance), record_ids=[instance.pk])


def connect() -> None:
    for model in public_models():
        m2m_changed.connect(
            refuse_removing_last_source,
            sender=model.sources.through,
            dispatch_uid=f"regulation.cites_a_source.{model._meta.model_name}",
        )
