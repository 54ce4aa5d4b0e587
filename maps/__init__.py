"""folium page builders: GeoDataFrames in, folium maps out. No database, no Flask."""
