"""Unannounced inspection rounds: the street network and the plans. Framework-free."""
