"""cislens.data"""
