"""Customer-experience insights: what the assistant achieves, where customers get stuck."""
