"""One router per resource, mounted under ``/api/v1`` by :func:`collector.api.app.create_app`."""
