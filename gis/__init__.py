"""The spatial core: pure functions on shapely, geopandas and pyproj.

Nothing here touches a database, a web framework or the file system; the
service layer reads and writes, this package computes.
"""
