from django.apps import AppConfig


class SchedulerCoreConfig(AppConfig):
    name = "scheduler_core"
    verbose_name = "Scheduler"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from scheduler_core import checks  # noqa: F401  (registers the system checks)
        from scheduler_core.conf import on_setting_changed
        from scheduler_core.tasks.replan import connect_signals

        connect_signals()
        setting_changed.connect(on_setting_changed, dispatch_uid="taskctl-config")
