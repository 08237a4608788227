from django.apps import AppConfig


class PermbenchConfig(AppConfig):
    name = "permbench"
