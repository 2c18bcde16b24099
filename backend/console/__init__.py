"""The agent console: a server-rendered web application served at /console."""
