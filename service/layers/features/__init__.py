"""OGC API – Features over the campaign layers: collections, reads, writes."""
