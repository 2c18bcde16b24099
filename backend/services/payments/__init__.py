"""Payments: provider interface, sandbox provider, Stripe-style webhooks, signed payment links."""
