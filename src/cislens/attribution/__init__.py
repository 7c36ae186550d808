"""cislens.attribution"""
