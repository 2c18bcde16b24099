"""Dialog flows: pure functions of (state, turn, facts) to replies and effects."""
