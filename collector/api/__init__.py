"""The responders' HTTP API: ``create_app`` in :mod:`collector.api.app`, served by
``canhgac-collector api`` (:mod:`collector.api.serve`)."""
