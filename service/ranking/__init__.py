"""Holding units to account: the weekly ranking within each group of units, the red and black
lists (红黑榜) and the rotating yellow flag (流动黄旗)."""
