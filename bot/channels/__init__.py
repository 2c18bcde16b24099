"""Channel adapters: the only place that knows a messaging provider."""
