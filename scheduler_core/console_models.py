"""Unmanaged models behind the admin's operations pages: no table, only names the admin can hang
pages (and permissions) on. Queues, Jobs and Workers live in the broker; scheduler_core.admin reads
them there through scheduler_core.console."""

from __future__ import annotations

from django.db import models


class Queue(models.Model):
    name = models.CharField(max_length=200, primary_key=True)

    class Meta:
        managed = False
        verbose_name = "queue"
        verbose_name_plural = "Queues"

    def __str__(self) -> str:
        return self.name


class Job(models.Model):
    id = models.CharField(max_length=200, primary_key=True)

    class Meta:
        managed = False
        verbose_name = "job"
        verbose_name_plural = "Jobs"

    def __str__(self) -> str:
        return self.id


class Worker(models.Model):
    name = models.CharField(max_length=200, primary_key=True)

    class Meta:
        managed = False
        verbose_name = "worker"
        verbose_name_plural = "Workers"

    def __str__(self) -> str:
        return self.name
