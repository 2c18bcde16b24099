"""The HTTP API: app factory, dependencies, routes and schemas."""
