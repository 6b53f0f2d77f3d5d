"""The generic workflow runtime: models, instances, tasks, events. It knows nothing about audits."""
