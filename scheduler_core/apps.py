from django.apps import AppConfig


class SchedulerCoreConfig(AppConfig):
    name = "scheduler_core"
    verbose_name = "Scheduler"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from scheduler_core import checks  # noqa: F401  (registers the system checks)
        from scheduler_core.tasks.replan import connect_signals

        connect_signals()
