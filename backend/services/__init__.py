"""Backend services: the business operations the API, CLI, jobs and engine share."""
