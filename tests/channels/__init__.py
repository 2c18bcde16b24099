"""Channel tests: adapters, webhooks, the compliance gate, outbox and dispatch."""
