"""The workspace: where the agent works (its root), path confinement and permission modes."""
