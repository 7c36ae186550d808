"""cislens.motifs"""
