"""The demo city: 贵溪市 (Guixi, Jiangxi) from real OpenStreetMap data in data/guixi."""
