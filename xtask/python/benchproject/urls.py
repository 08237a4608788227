"""Django's own URLs (the admin); the API is served by the bridge's FastAPI app."""
from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
