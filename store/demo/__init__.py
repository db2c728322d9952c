"""The demo registry (London), loaded by ``marac-bot run`` into an empty registry only."""
