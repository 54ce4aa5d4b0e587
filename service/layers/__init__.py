"""The campaign's layers: the features registry and its validated writes, file import and export,
the rules' bulk path, grids, zone check and edit, search, problem points, catalogues, cities,
vector tiles. Framework-free: each function takes a connection.
"""
