"""Parley NLU: intent classification and entity extraction for debtor messages."""
